"""Per-source history of received packets, for answering NACKs (pure ring buffer).

Each video ``Source`` remembers its last ``size`` packets by the publisher's sequence number.
A NACK from a subscriber names output sequence numbers; the output slot maps them back to the
source's numbering (the same offsets it used when it forwarded them) and rebuilds the packet,
so the SFU answers loss on its downstream leg itself, hop by hop, instead of relaying it to a
publisher that numbers its packets differently.

Keeping the history per source instead of per output keeps one reference to each received
datagram however many subscribers it went to: no per-output copy on the forwarding path, and
memory that grows with publishers, not with publishers x subscribers. Entries older than
``max_age`` seconds are not resent: by then the receiver has given up on them.

An entry holds only the datagram, its sequence number and the time: a plain tuple (not a
subclass) of atomic values, which CPython's garbage collector stops tracking at its first
collection. Entries live for
seconds, long enough to reach the oldest generation; tracked ones (parse results) would make
every full collection walk tens of thousands of them, a pause the forwarding path would feel.
The slot parses the packet again for the rare retransmission.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Entry = tuple[int, bytes, float]
"""(sequence number, decrypted datagram, time stored): a plain tuple, see above."""


@dataclass(slots=True)
class PacketHistory:
    size: int = 512
    max_age: float = 1.0
    _ring: list[Entry | None] = field(default_factory=list)
    _mask: int = 0

    def __post_init__(self) -> None:
        if self.size < 1 or self.size & (self.size - 1):
            raise ValueError("history size must be a power of two")
        self._ring = [None] * self.size
        self._mask = self.size - 1

    def store(self, sequence_number: int, data: bytes, now: float) -> None:
        self._ring[sequence_number & self._mask] = (sequence_number, data, now)

    def get(self, sequence_number: int, now: float) -> bytes | None:
        """The packet with this sequence number, unless overwritten or older than max_age."""
        entry = self._ring[sequence_number & self._mask]
        if entry is None or entry[0] != sequence_number or now - entry[2] > self.max_age:
            return None
        return entry[1]

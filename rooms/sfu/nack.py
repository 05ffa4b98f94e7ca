"""Loss repair, hop by hop (pure): the history that answers subscribers' NACKs, and the
missing packets of each publisher's stream that the SFU NACKs upstream.

Per-source history of received packets, for answering NACKs (a ring buffer).

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

from .rtp_header import seq_delta

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


@dataclass(slots=True)
class MissingPackets:
    """The sequence numbers of one publisher's stream that have not arrived, for NACKs upstream.

    ``add`` is called per received packet and returns the numbers to ask for now: a gap
    is asked for at once (the packet after it shows it), and each number again every
    ``retry_after`` seconds while it is missing, at most ``max_tries`` times and for at most
    ``max_age`` seconds; then the subscribers' PLIs take over. A retransmission (the publisher
    resends the packet with its own sequence number when RTX is not negotiated, as the SFU
    answers its offers) fills the gap and is forwarded like any late packet. A jump of more than
    ``max_gap`` (a restarted stream) is not asked for.
    """

    retry_after: float = 0.1
    max_tries: int = 3
    max_age: float = 1.0
    max_gap: int = 128
    max_missing: int = 256
    highest: int | None = None
    recovered: int = 0
    """Missing packets that arrived after all (asked for, or just late)."""
    given_up: int = 0
    requested: int = 0
    """Sequence numbers put in NACKs (each retry counts)."""
    _missing: dict[int, list[float]] = field(default_factory=dict)
    """seq -> [first noticed, last asked, times asked]"""
    _next_retry: float = float("inf")

    def add(self, sequence_number: int, now: float) -> list[int]:
        """Record an arrival; returns the sequence numbers to NACK now (usually none)."""
        missing = self._missing
        if self.highest is None:
            self.highest = sequence_number
            return []
        delta = seq_delta(sequence_number, self.highest)
        ask: list[int] = []
        if delta > 0:
            if delta > self.max_gap:
                self.given_up += len(missing)
                missing.clear()
            else:
                for i in range(1, delta):
                    seq = (self.highest + i) & 0xFFFF
                    missing[seq] = [now, now, 1]
                    ask.append(seq)
                while len(missing) > self.max_missing:
                    del missing[next(iter(missing))]
                    self.given_up += 1
                if ask:
                    self._next_retry = min(self._next_retry, now + self.retry_after)
            self.highest = sequence_number
        elif missing and missing.pop(sequence_number, None) is not None:
            self.recovered += 1
        if missing and now >= self._next_retry:
            ask.extend(self._due(now))
        self.requested += len(ask)
        return ask

    def _due(self, now: float) -> list[int]:
        ask, retry = [], float("inf")
        for seq, entry in list(self._missing.items()):
            first, last, tries = entry
            if now - first > self.max_age or (
                tries >= self.max_tries and now - last >= self.retry_after
            ):
                del self._missing[seq]
                self.given_up += 1
                continue
            if now - last >= self.retry_after:
                entry[1], entry[2] = now, tries + 1
                ask.append(seq)
                last = now
            retry = min(retry, last + self.retry_after)
        self._next_retry = retry
        return ask

    @property
    def missing(self) -> int:
        return len(self._missing)

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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .rtp_header import RtpView
from .vp8 import Vp8Descriptor


class ReceivedPacket(NamedTuple):
    """One received RTP packet as the forwarder saw it (decrypted datagram + parse results)."""

    data: bytes
    view: RtpView
    desc: Vp8Descriptor | None
    stored_at: float


@dataclass(slots=True)
class PacketHistory:
    size: int = 512
    max_age: float = 1.0
    _ring: list[ReceivedPacket | None] = field(default_factory=list)
    _mask: int = 0

    def __post_init__(self) -> None:
        if self.size < 1 or self.size & (self.size - 1):
            raise ValueError("history size must be a power of two")
        self._ring = [None] * self.size
        self._mask = self.size - 1

    def store(self, packet: ReceivedPacket) -> None:
        self._ring[packet.view.sequence_number & self._mask] = packet

    def get(self, sequence_number: int, now: float) -> ReceivedPacket | None:
        entry = self._ring[sequence_number & self._mask]
        if entry is None or entry.view.sequence_number != sequence_number:
            return None
        if now - entry.stored_at > self.max_age:
            return None
        return entry

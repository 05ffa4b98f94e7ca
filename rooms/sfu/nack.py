"""Per-output retransmission cache (pure ring buffer).

Each output stream remembers its last ``size`` packets by output sequence number, so a NACK
from that subscriber is answered by the SFU itself (hop by hop) instead of being relayed to
a publisher that numbers its packets differently. Entries older than ``max_age`` seconds are
not resent: by then the receiver has given up on them and they would only add load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class CachedPacket(NamedTuple):
    """One sent packet, kept as the exact plaintext RTP bytes that went out (no copy: the
    forwarder builds each output packet once and never changes it afterwards)."""

    sequence_number: int
    timestamp: int
    marker: int
    header_size: int
    """Fixed header plus extension block; the payload starts here."""
    packet: bytes | bytearray
    stored_at: float


@dataclass(slots=True)
class RetransmissionCache:
    size: int = 512
    max_age: float = 1.0
    _ring: list[CachedPacket | None] = field(default_factory=list)
    _mask: int = 0

    def __post_init__(self) -> None:
        if self.size < 1 or self.size & (self.size - 1):
            raise ValueError("cache size must be a power of two")
        self._ring = [None] * self.size
        self._mask = self.size - 1

    def store(self, packet: CachedPacket) -> None:
        self._ring[packet.sequence_number & self._mask] = packet

    def get(self, sequence_number: int, now: float) -> CachedPacket | None:
        entry = self._ring[sequence_number & self._mask]
        if entry is None or entry.sequence_number != sequence_number:
            return None
        if now - entry.stored_at > self.max_age:
            return None
        return entry

"""Continuity of one output stream across source switches (pure).

An output slot has one SSRC for its whole life while its source changes. A receiver must see
sequence numbers that go up by one, timestamps that advance with wall-clock time, and VP8
picture ids / TL0PICIDX that keep counting, or its jitter buffer and decoder reset or stall.
``StreamRewriter`` keeps per-source offsets, chosen at each switch so that the first packet of
the new source follows the last packet sent from the previous one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .rtp_header import seq_delta


def _rand(bits: int) -> int:
    # Not security sensitive: random starting points as RFC 3550 recommends.
    return random.getrandbits(bits)


@dataclass(slots=True, frozen=True)
class Mapped:
    sequence_number: int
    timestamp: int


@dataclass(slots=True)
class StreamRewriter:
    clock_rate: int
    # Sequence numbers start in the lower half so that no wrap-around happens early, which
    # some SRTP implementations mishandle (same reasoning as aiortc's sender).
    last_seq: int = field(default_factory=lambda: _rand(15))
    last_timestamp: int = field(default_factory=lambda: _rand(32))
    last_picture_id: int = field(default_factory=lambda: _rand(15))
    last_tl0picidx: int = field(default_factory=lambda: _rand(8))
    source: object | None = None
    last_time: float | None = None
    seq_offset: int = 0
    ts_offset: int = 0
    picture_id_offset: int = 0
    picture_id_mask: int = 0x7FFF
    tl0_offset: int = 0
    first_seq: int = 0
    switches: int = 0

    def switch(
        self,
        source: object,
        *,
        sequence_number: int,
        timestamp: int,
        picture_id: int | None,
        tl0picidx: int | None,
        now: float,
        picture_id_bits: int = 15,
    ) -> None:
        """Make the packet (sequence_number, timestamp, ...) of ``source`` the next output."""
        next_seq = (self.last_seq + 1) & 0xFFFF
        if self.last_time is None:
            next_ts = self.last_timestamp
        else:
            # Advance by the real time that passed, so a receiver's jitter estimate and
            # playout stay sane; at least one tick so timestamps strictly change.
            elapsed = max(0.0, now - self.last_time)
            next_ts = (self.last_timestamp + max(1, round(elapsed * self.clock_rate))) & 0xFFFFFFFF
        self.seq_offset = (next_seq - sequence_number) & 0xFFFF
        self.ts_offset = (next_ts - timestamp) & 0xFFFFFFFF
        if picture_id is not None:
            # A 7-bit picture id (rare; browsers send 15 bits) wraps at 128, so it keeps its
            # own modulus; the output keeps the width the source uses.
            self.picture_id_mask = 0x7FFF if picture_id_bits == 15 else 0x7F
            self.last_picture_id &= self.picture_id_mask
            self.picture_id_offset = (
                (self.last_picture_id + 1) - picture_id
            ) & self.picture_id_mask
        if tl0picidx is not None:
            self.tl0_offset = ((self.last_tl0picidx + 1) - tl0picidx) & 0xFF
        self.first_seq = sequence_number
        self.source = source
        self.switches += 1

    def map(self, sequence_number: int, timestamp: int, now: float) -> Mapped | None:
        """Output numbers for a packet of the current source; None if it predates the switch."""
        if seq_delta(sequence_number, self.first_seq) < 0:
            return None
        out_seq = (sequence_number + self.seq_offset) & 0xFFFF
        out_ts = (timestamp + self.ts_offset) & 0xFFFFFFFF
        if seq_delta(out_seq, self.last_seq) > 0:
            self.last_seq = out_seq
            self.last_timestamp = out_ts
            self.last_time = now
        return Mapped(out_seq, out_ts)

    def map_picture_id(self, picture_id: int) -> int:
        mask = self.picture_id_mask
        out = (picture_id + self.picture_id_offset) & mask
        if ((out - self.last_picture_id) & mask) <= mask >> 1:
            self.last_picture_id = out
        return out

    def map_tl0picidx(self, tl0picidx: int) -> int:
        out = (tl0picidx + self.tl0_offset) & 0xFF
        if ((out - self.last_tl0picidx) & 0xFF) < 0x80:
            self.last_tl0picidx = out
        return out

    def map_source_timestamp(self, timestamp: int) -> int:
        """Translate a source RTP timestamp (e.g. from a sender report) to the output clock."""
        return (timestamp + self.ts_offset) & 0xFFFFFFFF

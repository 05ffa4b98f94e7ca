"""Continuity of one output stream across source switches.

An output slot has one SSRC for its whole life while its source changes. A receiver must see
sequence numbers that go up by one, timestamps that advance with wall-clock time, and VP8
picture ids / TL0PICIDX that keep counting, or its jitter buffer and decoder reset or stall.
``StreamRewriter`` keeps per-source offsets, chosen at each switch so that the first packet of
the new source follows the last packet sent from the previous one.

The state lives in a C struct (``fwd_rewriter``, fastpath.h) because the forwarding loop in
fastpath.c moves it for every packet: the mapping that moves the state is C only (``fwd_map``,
``fwd_map_picture_id``, ``fwd_map_tl0picidx``; the methods below call it). Python chooses the
offsets at a switch, and a NACK answer (``OutputSlot._build``) adds them again to a stored
packet without moving anything.
"""

from __future__ import annotations

import random
from typing import Any, NamedTuple

from ._fastpath import ffi, lib


def _rand(bits: int) -> int:
    # Not security sensitive: random starting points as RFC 3550 recommends.
    return random.getrandbits(bits)


class Mapped(NamedTuple):
    sequence_number: int
    timestamp: int


def _field(name: str) -> property:
    def get(self: StreamRewriter) -> Any:
        return getattr(self.c, name)

    def set_(self: StreamRewriter, value: int) -> None:
        setattr(self.c, name, value)

    return property(get, set_)


class StreamRewriter:
    last_seq = _field("last_seq")
    last_timestamp = _field("last_timestamp")
    last_picture_id = _field("last_picture_id")
    last_tl0picidx = _field("last_tl0picidx")
    seq_offset = _field("seq_offset")
    ts_offset = _field("ts_offset")
    picture_id_offset = _field("picture_id_offset")
    picture_id_mask = _field("picture_id_mask")
    tl0_offset = _field("tl0_offset")
    first_seq = _field("first_seq")

    def __init__(
        self,
        clock_rate: int,
        *,
        last_seq: int | None = None,
        last_timestamp: int | None = None,
        last_picture_id: int | None = None,
        last_tl0picidx: int | None = None,
    ) -> None:
        self.clock_rate = clock_rate
        self.c = ffi.new("fwd_rewriter *")
        """The state itself (an output slot's ``fwd_out`` points at it)."""
        # Sequence numbers start in the lower half so that no wrap-around happens early, which
        # some SRTP implementations mishandle (same reasoning as aiortc's sender).
        self.c.last_seq = _rand(15) if last_seq is None else last_seq
        self.c.last_timestamp = _rand(32) if last_timestamp is None else last_timestamp
        self.c.last_picture_id = _rand(15) if last_picture_id is None else last_picture_id
        self.c.last_tl0picidx = _rand(8) if last_tl0picidx is None else last_tl0picidx
        self.c.picture_id_mask = 0x7FFF
        self.source: object | None = None
        self.switches = 0

    @property
    def last_time(self) -> float | None:
        """When the newest output packet was sent (None before the first)."""
        return self.c.last_time if self.c.has_time else None

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
        c = self.c
        next_seq = (c.last_seq + 1) & 0xFFFF
        if not c.has_time:
            next_ts = c.last_timestamp
        else:
            # Advance by the real time that passed, so a receiver's jitter estimate and
            # playout stay sane; at least one tick so timestamps strictly change.
            elapsed = max(0.0, now - c.last_time)
            next_ts = (c.last_timestamp + max(1, round(elapsed * self.clock_rate))) & 0xFFFFFFFF
        c.seq_offset = (next_seq - sequence_number) & 0xFFFF
        c.ts_offset = (next_ts - timestamp) & 0xFFFFFFFF
        if picture_id is not None:
            # A 7-bit picture id (rare; browsers send 15 bits) wraps at 128, so it keeps its
            # own modulus; the output keeps the width the source uses.
            mask = 0x7FFF if picture_id_bits == 15 else 0x7F
            c.picture_id_mask = mask
            c.last_picture_id &= mask
            c.picture_id_offset = ((c.last_picture_id + 1) - picture_id) & mask
        if tl0picidx is not None:
            c.tl0_offset = ((c.last_tl0picidx + 1) - tl0picidx) & 0xFF
        c.first_seq = sequence_number
        self.source = source
        self.switches += 1

    def map(self, sequence_number: int, timestamp: int, now: float) -> Mapped | None:
        """Output numbers for a packet of the current source; None if it predates the switch."""
        out = ffi.new("uint16_t *")
        out_ts = ffi.new("uint32_t *")
        if lib.fwd_map(self.c, sequence_number & 0xFFFF, timestamp & 0xFFFFFFFF, now, out, out_ts):
            return None
        return Mapped(out[0], out_ts[0])

    def map_picture_id(self, picture_id: int) -> int:
        return int(lib.fwd_map_picture_id(self.c, picture_id & 0x7FFF))

    def map_tl0picidx(self, tl0picidx: int) -> int:
        return int(lib.fwd_map_tl0picidx(self.c, tl0picidx & 0xFF))

    def map_source_timestamp(self, timestamp: int) -> int:
        """Translate a source RTP timestamp (e.g. from a sender report) to the output clock."""
        return (timestamp + self.c.ts_offset) & 0xFFFFFFFF

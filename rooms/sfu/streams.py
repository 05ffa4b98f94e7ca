"""Publisher streams (``Source``) and subscriber output slots (``OutputSlot``).

A ``Source`` is one incoming stream of a participant (audio, camera or screen). An
``OutputSlot`` is one pre-negotiated send-only m-line of a subscriber, with its own SSRC, whose
source can change without renegotiation. ``Source.outputs`` lists the slots whose current or
pending source it is, so an incoming packet only visits slots that may want it.

A slot switches to its pending source at the first packet of that source that can start a
stream: any packet for audio, the first packet of a keyframe for VP8. Until then it keeps
forwarding its current source, so a viewer never sees a frozen or broken picture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from struct import Struct
from typing import Literal

from .hooks import RtpWriter
from .keyframes import KeyframeRequestLimiter
from .nack import CachedPacket, RetransmissionCache
from .rewriter import StreamRewriter
from .rtcp import ReceiveStats
from .rtp_header import FIXED_HEADER, RtpView, one_byte_extension_block
from .selection import SourceKey
from .vp8 import Vp8Descriptor

SlotKind = Literal["audio", "video"]


@dataclass(eq=False)
class Source:
    key: SourceKey
    mid: str
    payload_type: int
    clock_rate: int
    is_vp8: bool
    audio_level_id: int
    ssrc: int | None = None
    enabled: bool = True
    outputs: list[OutputSlot] = field(default_factory=list)
    stats: ReceiveStats = field(init=False)
    keyframes: KeyframeRequestLimiter = field(default_factory=KeyframeRequestLimiter)

    def __post_init__(self) -> None:
        self.stats = ReceiveStats(clock_rate=self.clock_rate)

    @property
    def participant_id(self) -> str:
        return self.key.participant_id


SwitchListener = Callable[["OutputSlot", "Source | None"], None]


@dataclass(eq=False)
class OutputSlot:
    subscriber_id: str
    mid: str
    kind: SlotKind
    ssrc: int
    rtx_ssrc: int
    payload_type: int
    rtx_payload_type: int | None
    clock_rate: int
    writer: RtpWriter
    on_switch: SwitchListener
    mid_ext_id: int = 0
    audio_level_ext_id: int = 0
    cache_size: int = 512
    current: Source | None = None
    pending: Source | None = None
    pending_since: float = 0.0
    packets: int = 0
    octets: int = 0
    retransmitted: int = 0
    remb: int | None = None
    fraction_lost: int = 0
    rewriter: StreamRewriter = field(init=False)
    cache: RetransmissionCache | None = field(init=False)
    _ext: bytes = field(init=False)
    _audio_ext: list[bytes] = field(init=False)
    _b0: int = field(init=False)
    _pack: Callable[..., bytes] = field(init=False)
    _pack_audio: Callable[..., bytes] = field(init=False)
    _rtx_seq: int = 0

    def __post_init__(self) -> None:
        self.rewriter = StreamRewriter(clock_rate=self.clock_rate)
        # Audio is not retransmitted (no NACK for Opus in browsers); video keeps a cache.
        self.cache = RetransmissionCache(self.cache_size) if self.kind == "video" else None
        base: list[tuple[int, bytes]] = []
        if 1 <= self.mid_ext_id <= 14 and len(self.mid.encode()) <= 16:
            base.append((self.mid_ext_id, self.mid.encode()))
        self._ext = one_byte_extension_block(base) if base else b""
        if self.kind == "audio" and 1 <= self.audio_level_ext_id <= 14:
            # Every possible level precomputed: the audio path then does no encoding work.
            self._audio_ext = [
                one_byte_extension_block([*base, (self.audio_level_ext_id, bytes((level,)))])
                for level in range(128)
            ]
        else:
            self._audio_ext = []
        self._b0 = 0x90 if self._ext else 0x80
        # Fixed header + extension block in one pack; every level's block has one size.
        self._pack = Struct(f"!BBHII{len(self._ext)}s").pack
        audio_size = len(self._audio_ext[0]) if self._audio_ext else 0
        self._pack_audio = Struct(f"!BBHII{audio_size}s").pack

    @property
    def target(self) -> Source | None:
        return self.pending if self.pending is not None else self.current

    def assign(self, source: Source | None, now: float) -> bool:
        """Point the slot at ``source``; returns True when a keyframe should be requested."""
        if source is self.target:
            return False
        if self.pending is not None:
            if self.pending is not self.current:
                self._unlink(self.pending)
            self.pending = None
        if source is None:
            if self.current is not None:
                self._unlink(self.current)
                self.current = None
                self.on_switch(self, None)
            return False
        if source is self.current:
            return False
        self.pending = source
        self.pending_since = now
        if self not in source.outputs:
            source.outputs.append(self)
        return self.kind == "video"

    def detach(self, source: Source) -> None:
        """``source`` is gone: stop using it at once."""
        if self.pending is source:
            self.pending = None
        if self.current is source:
            self.current = None
            self.on_switch(self, None)
        self._unlink(source)

    def _unlink(self, source: Source) -> None:
        if self in source.outputs:
            source.outputs.remove(self)

    def handle(
        self,
        source: Source,
        data: bytes,
        view: RtpView,
        desc: Vp8Descriptor | None,
        level: int | None,
        now: float,
    ) -> int:
        """Forward one packet of ``source`` if this slot wants it; returns bytes sent."""
        rewriter = self.rewriter
        if self.current is not source or rewriter.source is not source:
            if self.pending is not source or (desc is not None and not desc.keyframe):
                return 0
            previous = self.current
            if previous is not None and previous is not source:
                self._unlink(previous)
            self.current = source
            self.pending = None
            rewriter.switch(
                source,
                sequence_number=view.sequence_number,
                timestamp=view.timestamp,
                picture_id=desc.picture_id if desc is not None else None,
                tl0picidx=desc.tl0picidx if desc is not None else None,
                now=now,
                picture_id_bits=desc.picture_id_bits if desc is not None else 15,
            )
            self.on_switch(self, source)
        # Hot path from here (once per packet and output): what StreamRewriter.map does,
        # inlined, and the output packet built once, with the VP8 picture id / TL0PICIDX
        # rewritten in place. The same bytes go to the writer and into the NACK cache.
        seq = view.sequence_number
        if (seq - rewriter.first_seq) & 0xFFFF >= 0x8000:
            return 0  # predates the switch
        out_seq = (seq + rewriter.seq_offset) & 0xFFFF
        out_ts = (view.timestamp + rewriter.ts_offset) & 0xFFFFFFFF
        if 0 < (out_seq - rewriter.last_seq) & 0xFFFF < 0x8000:
            rewriter.last_seq = out_seq
            rewriter.last_timestamp = out_ts
            rewriter.last_time = now
        b1 = (view.marker << 7) | self.payload_type
        if level is not None and self._audio_ext:
            header = self._pack_audio(0x90, b1, out_seq, out_ts, self.ssrc, self._audio_ext[level])
        else:
            header = self._pack(self._b0, b1, out_seq, out_ts, self.ssrc, self._ext)
        start = view.payload_start
        end = view.payload_end
        at = len(header)
        packet: bytes
        if desc is not None and (desc.picture_id is not None or desc.tl0picidx is not None):
            size = desc.size
            head = bytearray(data[start : start + size])
            if desc.picture_id is not None:
                picture_id = rewriter.map_picture_id(desc.picture_id)
                off = desc.picture_id_offset
                if desc.picture_id_bits == 15:
                    head[off] = 0x80 | ((picture_id >> 8) & 0x7F)
                    head[off + 1] = picture_id & 0xFF
                else:
                    head[off] = picture_id & 0x7F
            if desc.tl0picidx is not None:
                head[desc.tl0picidx_offset] = rewriter.map_tl0picidx(desc.tl0picidx)
            packet = header + head + data[start + size : end]
        else:
            packet = header + data[start:end]
        sent = self.writer.write_rtp(packet)
        cache = self.cache
        if cache is not None:
            cache.store(CachedPacket(out_seq, out_ts, view.marker, at, packet, now))
        if sent:
            self.packets += 1
            self.octets += end - start
        return sent

    def retransmit(self, sequence_numbers: list[int], now: float) -> int:
        """Answer a NACK from the cache (RTX when negotiated); returns packets resent."""
        if self.cache is None:
            return 0
        resent = 0
        for seq in sequence_numbers:
            entry = self.cache.get(seq, now)
            if entry is None:
                continue
            packet: bytes | bytearray
            if self.rtx_payload_type is not None:
                # RFC 4588: RTX header, then the original sequence number, then the payload.
                self._rtx_seq = (self._rtx_seq + 1) & 0xFFFF
                original = entry.packet
                packet = bytearray(original[: entry.header_size])
                FIXED_HEADER.pack_into(
                    packet,
                    0,
                    original[0],
                    (entry.marker << 7) | self.rtx_payload_type,
                    self._rtx_seq,
                    entry.timestamp,
                    self.rtx_ssrc,
                )
                packet += seq.to_bytes(2, "big")
                packet += memoryview(original)[entry.header_size :]
            else:
                packet = entry.packet
            if self.writer.write_rtp(packet):
                resent += 1
        self.retransmitted += resent
        return resent

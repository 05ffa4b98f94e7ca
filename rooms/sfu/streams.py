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
from typing import Literal, Protocol

from .keyframes import KeyframeRequestLimiter
from .nack import PacketHistory
from .rewriter import StreamRewriter
from .rtcp import ReceiveStats
from .rtp_header import FIXED_HEADER, RtpView, one_byte_extension_block, parse_rtp
from .selection import SourceKey
from .vp8 import Vp8Descriptor, parse_vp8, rewrite_descriptor

SlotKind = Literal["audio", "video"]

MAX_PACKET = 1500
"""Largest RTP packet forwarded (the writers take 2 bytes more: the RTX original sequence
number, plus the SRTP trailer)."""
MAX_NACKED = 64
"""Sequence numbers answered per NACK at most."""


class PacketWriter(Protocol):
    """Where an output slot puts its packets (``hooks.RtpWriter`` on a real transport).

    The forwarding path builds each output packet straight into ``buffer`` (the writer's own
    send buffer) and then calls ``send_rtp(length)``; other packets go through ``write_rtp``.
    Both return the bytes put on the wire, 0 when nothing was sent."""

    @property
    def buffer(self) -> memoryview: ...

    def send_rtp(self, length: int) -> int: ...

    def write_rtp(self, packet: bytes | bytearray | memoryview) -> int: ...

    def write_rtcp(self, packet: bytes | bytearray | memoryview) -> int: ...


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
    history_size: int = 0
    """Packets kept for answering NACKs (video); 0 keeps none."""
    outputs: list[OutputSlot] = field(default_factory=list)
    stats: ReceiveStats = field(init=False)
    keyframes: KeyframeRequestLimiter = field(default_factory=KeyframeRequestLimiter)
    history: PacketHistory | None = field(init=False)

    def __post_init__(self) -> None:
        self.stats = ReceiveStats(clock_rate=self.clock_rate)
        self.history = PacketHistory(self.history_size) if self.history_size else None

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
    writer: PacketWriter
    on_switch: SwitchListener
    mid_ext_id: int = 0
    audio_level_ext_id: int = 0
    current: Source | None = None
    pending: Source | None = None
    pending_since: float = 0.0
    packets: int = 0
    octets: int = 0
    retransmitted: int = 0
    remb: int | None = None
    fraction_lost: int = 0
    rewriter: StreamRewriter = field(init=False)
    _ext: bytes = field(init=False)
    _audio_ext: list[bytes] = field(init=False)
    _b0: int = field(init=False)
    _pack_into: Callable[..., None] = field(init=False)
    _pack_audio_into: Callable[..., None] = field(init=False)
    _header_size: int = field(init=False)
    _audio_header_size: int = field(init=False)
    _rtx_seq: int = 0

    def __post_init__(self) -> None:
        self.rewriter = StreamRewriter(clock_rate=self.clock_rate)
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
        # Fixed header + extension block written in one call; every level's block has one size.
        header = Struct(f"!BBHII{len(self._ext)}s")
        self._pack_into = header.pack_into
        self._header_size = header.size
        audio_header = Struct(f"!BBHII{len(self._audio_ext[0]) if self._audio_ext else 0}s")
        self._pack_audio_into = audio_header.pack_into
        self._audio_header_size = audio_header.size

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
        payload: memoryview,
        view: RtpView,
        desc: Vp8Descriptor | None,
        level: int | None,
        now: float,
    ) -> int:
        """Forward one packet of ``source`` if this slot wants it; returns bytes sent.

        ``payload`` is the packet's payload (a view into the received datagram, padding
        excluded); ``view`` its parsed header, ``desc`` its VP8 descriptor, ``level`` its
        audio level."""
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
        # inlined, and the output packet written once, straight into the writer's send
        # buffer: header and extensions in one pack_into, the payload in one copy, the VP8
        # picture id / TL0PICIDX patched in place. ``_build`` is the same, for NACKs.
        seq = view.sequence_number
        if (seq - rewriter.first_seq) & 0xFFFF >= 0x8000:
            return 0  # predates the switch
        with_level = level is not None and self._audio_ext
        at = self._audio_header_size if with_level else self._header_size
        size = len(payload)
        end = at + size
        if end > MAX_PACKET:
            return 0  # too large to forward: dropped before it moves the stream's state
        out_seq = (seq + rewriter.seq_offset) & 0xFFFF
        out_ts = (view.timestamp + rewriter.ts_offset) & 0xFFFFFFFF
        if 0 < (out_seq - rewriter.last_seq) & 0xFFFF < 0x8000:
            rewriter.last_seq = out_seq
            rewriter.last_timestamp = out_ts
            rewriter.last_time = now
        writer = self.writer
        buf = writer.buffer
        b1 = (view.marker << 7) | self.payload_type
        if with_level and level is not None:
            self._pack_audio_into(
                buf, 0, 0x90, b1, out_seq, out_ts, self.ssrc, self._audio_ext[level]
            )
        else:
            self._pack_into(buf, 0, self._b0, b1, out_seq, out_ts, self.ssrc, self._ext)
        buf[at:end] = payload
        if desc is not None:
            picture_id = desc.picture_id
            if picture_id is not None:
                picture_id = rewriter.map_picture_id(picture_id)
                off = at + desc.picture_id_offset
                if desc.picture_id_bits == 15:
                    buf[off] = 0x80 | ((picture_id >> 8) & 0x7F)
                    buf[off + 1] = picture_id & 0xFF
                else:
                    buf[off] = picture_id & 0x7F
            if desc.tl0picidx is not None:
                buf[at + desc.tl0picidx_offset] = rewriter.map_tl0picidx(desc.tl0picidx)
        sent = writer.send_rtp(end)
        if sent:
            self.packets += 1
            self.octets += size
        return sent

    def _build(self, source: Source, data: bytes, out_seq: int, rtx: bool) -> bytes:
        """The packet ``handle`` sent for the received ``data`` (RFC 4588 RTX when ``rtx``)."""
        rewriter = self.rewriter
        view = parse_rtp(data)
        desc = None
        if source.is_vp8:
            desc = parse_vp8(memoryview(data)[view.payload_start : view.payload_end])
        if rtx and self.rtx_payload_type is not None:
            self._rtx_seq = (self._rtx_seq + 1) & 0xFFFF
            header = (
                FIXED_HEADER.pack(
                    self._b0,
                    (view.marker << 7) | self.rtx_payload_type,
                    self._rtx_seq,
                    (view.timestamp + rewriter.ts_offset) & 0xFFFFFFFF,
                    self.rtx_ssrc,
                )
                + self._ext
                + out_seq.to_bytes(2, "big")
            )
        else:
            header = (
                FIXED_HEADER.pack(
                    self._b0,
                    (view.marker << 7) | self.payload_type,
                    out_seq,
                    (view.timestamp + rewriter.ts_offset) & 0xFFFFFFFF,
                    self.ssrc,
                )
                + self._ext
            )
        payload = data[view.payload_start : view.payload_end]
        if desc is not None:
            picture_id = tl0picidx = None
            if desc.picture_id is not None:
                picture_id = (
                    desc.picture_id + rewriter.picture_id_offset
                ) & rewriter.picture_id_mask
            if desc.tl0picidx is not None:
                tl0picidx = (desc.tl0picidx + rewriter.tl0_offset) & 0xFF
            payload = (
                rewrite_descriptor(payload, desc, picture_id, tl0picidx) + payload[desc.size :]
            )
        return header + payload

    def retransmit(self, sequence_numbers: list[int], now: float) -> int:
        """Answer a NACK from the source's history (RTX when negotiated); returns packets
        resent. Only packets of the current source since the last switch can be resent: the
        offsets that numbered them are the current ones."""
        source = self.current
        rewriter = self.rewriter
        if source is None or rewriter.source is not source or source.history is None:
            return 0
        resent = 0
        # A NACK can name the same number many times and thousands of numbers in a few bytes:
        # each distinct one is answered once, and at most MAX_NACKED of them.
        for out_seq in list(dict.fromkeys(n & 0xFFFF for n in sequence_numbers))[:MAX_NACKED]:
            seq = (out_seq - rewriter.seq_offset) & 0xFFFF
            if (seq - rewriter.first_seq) & 0xFFFF >= 0x8000:
                continue  # before the switch: another source's packet
            if 0 < (out_seq - rewriter.last_seq) & 0xFFFF < 0x8000:
                continue  # not sent yet
            data = source.history.get(seq, now)
            if data is None:
                continue
            if self.writer.write_rtp(self._build(source, data, out_seq, rtx=True)):
                resent += 1
        self.retransmitted += resent
        return resent

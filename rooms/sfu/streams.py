"""Publisher streams (``Source``) and subscriber output slots (``OutputSlot``).

A ``Source`` is one incoming stream of a participant (audio, camera or screen). An
``OutputSlot`` is one pre-negotiated send-only m-line of a subscriber, with its own SSRC, whose
source can change without renegotiation. ``Source.outputs`` lists the slots whose current or
pending source it is, so an incoming packet only visits slots that may want it.

A slot switches to its pending source at the first packet of that source that can start a
stream: any packet for audio, the first packet of a keyframe for VP8. Until then it keeps
forwarding its current source, so a viewer never sees a frozen or broken picture.

Per packet and output, the work is done in C (fastpath.c: ``fwd_fanout``): each slot has a
``fwd_out`` (header template, its rewriter's state, its writer's ``fwd_dest``) and each
source keeps the array of slots it currently feeds (``Source.live``). Everything that decides
(assignment, switching, NACK answers, sender reports) stays here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ._fastpath import ffi, lib
from .keyframes import KeyframeRequestLimiter
from .nack import MissingPackets, PacketHistory
from .rewriter import StreamRewriter
from .rtcp import ReceiveStats
from .rtp_header import FIXED_HEADER, one_byte_extension_block, parse_rtp
from .selection import SourceKey
from .vp8 import parse_vp8, rewrite_descriptor

SlotKind = Literal["audio", "video"]

MAX_NACKED = 64
"""Sequence numbers answered per NACK at most."""


class PacketWriter(Protocol):
    """Where an output slot puts its packets (``transport.RtpWriter`` on a real transport).

    ``dest`` is the C side (``fwd_dest``): the forwarding loop in fastpath.c builds each
    output packet straight into its send buffer, protects and sends it. Other packets go
    through ``write_rtp`` / ``write_rtcp``; both return the bytes put on the wire, 0 when
    nothing was sent."""

    @property
    def dest(self) -> Any: ...

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
    nack_upstream: bool = False
    """Ask the publisher again for packets lost on the way in (``missing``)."""
    rid: str | None = None
    """The RTP stream id of this simulcast layer (None without simulcast)."""
    layer: int = 0
    """This layer's place among the source's layers, lowest first."""
    layers: list[Source] = field(default_factory=list)
    """All layers of the stream, lowest first, this one included (the same list in every
    layer); just ``[self]`` without simulcast."""
    size: tuple[int, int] | None = None
    """The picture size the newest keyframe announced."""
    bitrate: int = 0
    """Bit/s received over the last feedback interval (``sample``)."""
    receiving: bool = False
    """Packets arrived in the last feedback interval."""
    flowed: int = 0
    """What this stream needs when it flows: the highest recent ``bitrate`` while it arrived,
    falling by ``FLOWED_DECAY`` each interval, kept as it is while nothing arrives (0 until it
    first did). A simulcast layer its publisher paused is what it was when it flowed; its
    nominal rate (a formula of its size) is a guess that can be far off (a 640x480 camera
    layer measured 480-580 kbit/s, nominal 777)."""
    _sampled_octets: int = 0
    padding_skipped: int = 0
    """Padding-only packets dropped so far (mod 2**16): forwarded sequence numbers are the
    received ones less this, so the output has no gap where padding was."""
    outputs: list[OutputSlot] = field(default_factory=list)
    """Slots whose current or pending source this is."""
    live: list[OutputSlot] = field(init=False, default_factory=list)
    """Slots whose current source this is: the C loop forwards to these (``_live_c``, the
    same list as an array). Changed only through ``_set_live``."""
    stats: ReceiveStats = field(init=False)
    keyframes: KeyframeRequestLimiter = field(default_factory=KeyframeRequestLimiter)
    history: PacketHistory | None = field(init=False)
    missing: MissingPackets | None = field(init=False)
    _live_c: Any = field(init=False)

    def __post_init__(self) -> None:
        self.stats = ReceiveStats(clock_rate=self.clock_rate)
        self.history = PacketHistory(self.history_size) if self.history_size else None
        self.missing = MissingPackets() if self.nack_upstream else None
        self._live_c = ffi.NULL
        if self not in self.layers:
            self.layers.append(self)

    def sample(self, interval: float) -> None:
        """Measure the bitrate and liveness over the ``interval`` seconds since the last call."""
        octets = self.stats.octets
        received = octets - self._sampled_octets
        self._sampled_octets = octets
        self.receiving = received > 0
        self.bitrate = int(received * 8 / interval) if interval > 0 else 0
        if self.receiving:
            self.flowed = max(self.bitrate, int(self.flowed * FLOWED_DECAY))

    @property
    def participant_id(self) -> str:
        return self.key.participant_id

    def _set_live(self, slot: OutputSlot, live: bool) -> None:
        if live == (slot in self.live):
            return
        if live:
            self.live.append(slot)
        else:
            self.live.remove(slot)
        # The array the C loop walks; its entries stay valid while ``live`` holds the slots.
        self._live_c = ffi.new("fwd_out *[]", [s.c for s in self.live]) if self.live else ffi.NULL


_octets = ffi.new("uint64_t *")
# How fast ``Source.flowed`` lets go of a peak while the stream arrives (per feedback interval):
# a keyframe's second counts for a few seconds, and a layer that has just resumed (a few
# packets a second at first) does not lose what it flowed at before it paused.
FLOWED_DECAY = 0.875


def forward(source: Source, pkt: Any, data: bytes) -> tuple[int, int]:
    """Hot path: one received packet of ``source``, parsed into ``pkt`` (``fwd_parse``), to
    every slot that wants it; returns (packets, bytes) put on the wire.

    The C loop serves the slots already carrying ``source``; a slot waiting to switch to it
    (rare, and until its first keyframe at most) is looked at here first."""
    octets = _octets
    octets[0] = 0
    live = source.live
    packets = lib.fwd_fanout(source._live_c, len(live), pkt, data, octets) if live else 0
    if len(source.outputs) != len(live):
        for slot in tuple(source.outputs):
            if slot.current is not source and slot.start(source, pkt):
                packets += lib.fwd_fanout([slot.c], 1, pkt, data, octets)
    return packets, int(octets[0])


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
    abs_send_time_ext_id: int = 0
    """Video: stamp each packet's send time (abs-send-time), when the subscriber negotiated
    it. Without it a browser's receive-side estimate (its REMB) times packets by their RTP
    timestamps, the publisher's capture clock: every publisher's encoding and pacing jitter
    reads as queueing on the subscriber's link (REMBs fell to 22 kbit/s on loopback)."""
    current: Source | None = None
    pending: Source | None = None
    pending_since: float = 0.0
    retransmitted: int = 0
    remb: int | None = None
    fraction_lost: int = 0
    reports_sent: dict[int, float] = field(default_factory=dict)
    """When each of the last few sender reports went out on this slot, by the middle 32 bits
    of its NTP time (what the subscriber's receiver reports echo as LSR): the round trip."""
    rewriter: StreamRewriter = field(init=False)
    c: Any = field(init=False)
    """The slot as the C loop sees it (``fwd_out``): header template, rewriter, writer."""
    _ext: bytes = field(init=False)
    _b0: int = field(init=False)
    _rtx_seq: int = 0

    def __post_init__(self) -> None:
        self.rewriter = StreamRewriter(clock_rate=self.clock_rate)
        base: list[tuple[int, bytes]] = []
        if 1 <= self.mid_ext_id <= 14 and len(self.mid.encode()) <= 16:
            base.append((self.mid_ext_id, self.mid.encode()))
        ast_at = 0
        if self.kind == "video" and 1 <= self.abs_send_time_ext_id <= 14:
            # Where the loop writes each packet's send time: where two templates differ.
            zero, ones = (
                one_byte_extension_block([*base, (self.abs_send_time_ext_id, fill * 3)])
                for fill in (b"\x00", b"\xff")
            )
            ast_at = next(i for i, (a, b) in enumerate(zip(zero, ones, strict=True)) if a != b)
            base.append((self.abs_send_time_ext_id, b"\x00" * 3))
        self._ext = one_byte_extension_block(base) if base else b""
        self._b0 = 0x90 if self._ext else 0x80
        c = self.c = ffi.new("fwd_out *")
        c.dest = self.writer.dest
        c.rw = self.rewriter.c
        c.b0 = self._b0
        c.payload_type = self.payload_type
        c.ssrc = self.ssrc
        c.ext_len = len(self._ext)
        c.ast_at = ast_at
        ffi.memmove(c.ext, self._ext, len(self._ext))
        if self.kind == "audio" and 1 <= self.audio_level_ext_id <= 14:
            # The block with the level in it; the loop writes each packet's level at level_at.
            quiet, loud = (
                one_byte_extension_block([*base, (self.audio_level_ext_id, bytes((level,)))])
                for level in (127, 0)
            )
            c.level_ext_len = len(quiet)
            c.level_at = next(i for i, (a, b) in enumerate(zip(quiet, loud, strict=True)) if a != b)
            ffi.memmove(c.level_ext, quiet, len(quiet))

    @property
    def packets(self) -> int:
        """RTP packets sent (the sender report's count)."""
        return int(self.c.packets)

    @property
    def octets(self) -> int:
        """Payload bytes sent (the sender report's count)."""
        return int(self.c.octets)

    def renumber(self, ssrc: int, rtx_ssrc: int) -> None:
        """Send as new SSRCs from the next packet on (the answer announcing them is out):
        the browser opens a new receive stream, in the MediaStream that answer names."""
        self.ssrc = ssrc
        self.rtx_ssrc = rtx_ssrc
        self.c.ssrc = ssrc

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
        source._set_live(self, False)

    def start(self, source: Source, pkt: Any) -> bool:
        """Switch to ``source`` if it is pending here and ``pkt`` (``fwd_pkt``) can start its
        stream: any packet for audio, the first packet of a keyframe for VP8. Returns True
        when the slot now carries ``source`` (and forwards ``pkt``)."""
        if self.pending is not source or (source.is_vp8 and not pkt.keyframe):
            return False
        previous = self.current
        if previous is not None and previous is not source:
            self._unlink(previous)
        self.current = source
        self.pending = None
        has_picture_id = pkt.picture_id >= 0
        self.rewriter.switch(
            source,
            sequence_number=pkt.seq,
            timestamp=pkt.ts,
            picture_id=pkt.picture_id if has_picture_id else None,
            tl0picidx=pkt.tl0picidx if pkt.tl0picidx >= 0 else None,
            now=pkt.now,
            picture_id_bits=pkt.picture_id_bits if has_picture_id else 15,
        )
        source._set_live(self, True)
        self.on_switch(self, source)
        return True

    def _build_rtx(self, source: Source, data: bytes, out_seq: int, rtx_payload_type: int) -> bytes:
        """The RTX packet (RFC 4588) of what the forwarding loop sent for the received
        ``data``: the same offsets, applied here in Python for the rare NACK."""
        rewriter = self.rewriter
        view = parse_rtp(data)
        desc = None
        if source.is_vp8:
            desc = parse_vp8(memoryview(data)[view.payload_start : view.payload_end])
        self._rtx_seq = (self._rtx_seq + 1) & 0xFFFF
        header = (
            FIXED_HEADER.pack(
                self._b0,
                (view.marker << 7) | rtx_payload_type,
                self._rtx_seq,
                (view.timestamp + rewriter.ts_offset) & 0xFFFFFFFF,
                self.rtx_ssrc,
            )
            + self._stamped_ext()
            + out_seq.to_bytes(2, "big")
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

    def _stamped_ext(self) -> bytes:
        """The header extensions of a packet sent now (a retransmission): the send time in."""
        at = int(self.c.ast_at)
        if not at:
            return self._ext
        ast = int(lib.fwd_abs_send_time())
        return self._ext[:at] + ast.to_bytes(3, "big") + self._ext[at + 3 :]

    def retransmit(self, sequence_numbers: list[int], now: float) -> int:
        """Answer a NACK from the source's history with RTX; returns packets resent. Only
        packets of the current source since the last switch can be resent: the offsets that
        numbered them are the current ones.

        A subscriber that did not negotiate RTX gets nothing (its PLI, when the frame stays
        broken, brings a keyframe). The packet again on the media stream would carry an SRTP
        index already used: refused by the receiver's replay check when the first copy did
        arrive, and protected twice under one (key, index), which is safe only while the two
        are byte for byte the same. Under a new sequence number it would not fill the gap the
        receiver is waiting on (the receiver reassembles frames by sequence number) and would
        shift every later packet's number. Browsers negotiate RTX for video."""
        source = self.current
        rewriter = self.rewriter
        rtx = self.rtx_payload_type
        if source is None or rewriter.source is not source or source.history is None or rtx is None:
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
            if self.writer.write_rtp(self._build_rtx(source, data, out_seq, rtx)):
                resent += 1
        self.retransmitted += resent
        return resent

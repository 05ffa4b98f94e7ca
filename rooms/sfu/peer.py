"""One participant's peer connection with the SFU: its state, its lifecycle and packet intake.

It applies an offer checked by ``rooms.sfu.negotiation`` (publishing m-lines become its
sources, receive slots its output slots), installs the transport (``rooms.sfu.transport``) and
takes in every packet that arrives on it.

Lip sync: a browser synchronises audio and video only within one MediaStream, and it learns
the stream of a receive slot from the ``a=msid`` of our answer. So every answer names, per slot,
the stream of whoever the slot is about to carry (``stream_id``): a person's audio and camera
share ``person-<id>``, a screen share is ``screen-<id>`` (Chromium syncs one video per stream
with its audio; a screen needs no lip sync). A slot that changes owner keeps its old msid until
the next answer, so the room asks the client for a new offer (``streams_stale``) when a person
whose audio and camera both reach this subscriber is not in one stream: an offer/answer when a
voice and a face pair up, not on every last-N switch (a silent face has nothing to sync with),
and at most one per ``RESTREAM_MIN_INTERVAL``. A slot whose msid changes also gets new SSRCs in
that answer: Chromium sets a receive stream's sync group when it creates it (per SSRC) and keeps
it when only the msid changes (measured: no A/V sync after an msid-only change), so the new
SSRC is what makes it open a stream in the new owner's sync group; the video restarts at a
keyframe, requested at once. A transceiver per person instead would grow the SDP with everyone
who ever spoke.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from struct import Struct
from typing import Any, Protocol

from aiortc import RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription
from aiortc.rtp import RtcpPacket

from . import feedback, transport
from ._fastpath import ffi as _fast_ffi
from ._fastpath import lib as _fast
from .allocation import DownlinkEstimator, SlotHistory
from .config import SfuConfig
from .errors import NegotiationError
from .negotiation import (
    ABS_SEND_TIME_URI,
    AUDIO_LEVEL_URI,
    MID_URI,
    MediaPlan,
    complete_answer,
    ext_id,
    offer_ice_ufrag,
    prepare_transceiver,
    stream_id,
)
from .reports import PeerState
from .rtp_header import RtpView, find_extension, parse_rtp
from .selection import SourceKey, SourceKind
from .streams import OutputSlot, Source
from .twcc import TransportFeedback, now_us
from .vp8 import keyframe_size

logger = logging.getLogger(__name__)

_SSRC = Struct("!I")
_SEQ = Struct("!H")
_PKT = _fast_ffi.new("fwd_pkt *")
# SSRCs whose m-line and layer a peer remembers (``Peer.learnt_ssrcs``), the oldest forgotten
# first: a few per share started, a client cannot grow it past this.
MAX_LEARNT_SSRCS = 32
"""The packet being forwarded (the whole forwarding path is synchronous: one at a time)."""


class PeerRoom(Protocol):
    """What a peer calls on the room it is in (``rooms.sfu.room.SfuRoom``): the room knows
    its peers, a peer knows only this."""

    now: Callable[[], float]

    def add_source(self, peer: Peer, source: Source) -> None:
        """A stream the peer now publishes (the room decides whether it is forwarded and
        hands it to ``Peer.attach_source``)."""

    def drop_source(self, peer: Peer, source: Source) -> None:
        """A stream the peer no longer publishes (the room stops forwarding it and calls
        ``Peer.detach_source``)."""

    def forward(self, source: Source, data: bytes, pkt: Any) -> None:
        """One incoming RTP packet of ``source``, parsed into ``pkt``."""

    def request_keyframe(self, source: Source) -> None: ...

    def slot_switched(self, slot: OutputSlot, source: Source | None) -> None: ...


class Peer:
    """Owns one ``RTCPeerConnection``; all its media goes through the room's forwarding."""

    def __init__(
        self,
        room: PeerRoom,
        participant_id: str,
        config: SfuConfig,
        on_state: Callable[[Peer, PeerState, str], None],
    ) -> None:
        self.room = room
        self.participant_id = participant_id
        self.config = config
        self.pc = RTCPeerConnection(config.rtc_configuration())
        self.state: PeerState = "connecting"
        # The ICE username fragment of the browser connection this peer answered.
        self.remote_ufrag: str | None = None
        self.closed = False
        self.writer: transport.RtpWriter | None = None
        # SSRCs slots sent as before a renumber: never used again (their SRTP streams are
        # dropped, and a new one would restart the packet index under the same key).
        self.retired_ssrcs: set[int] = set()
        self.sources: dict[SourceKind, Source] = {}
        self.sources_by_ssrc: dict[int, Source] = {}
        self.sources_by_mid: dict[str, Source] = {}
        self.slots: dict[str, OutputSlot] = {}
        self.slots_by_ssrc: dict[int, OutputSlot] = {}
        # The msid stream each slot was last answered with, and whether a new offer was
        # asked for because a slot's owner changed since (reset by every answer).
        self.answered_streams: dict[str, str] = {}
        self.answered_at = 0.0
        self.restream_asked = False
        self.rtcp_ssrc = 0
        self.mid_ext_id = 0
        self.rid_ext_id = 0
        # The m-line and layer each SSRC learnt from its packets' MID and rtp-stream-id
        # extensions named (``_learn_ssrc``), kept after the stream goes: a browser stops
        # sending those extensions once receiver reports acknowledged the SSRC, and a share
        # started again on the same m-line comes back with the same SSRCs and without them.
        self.learnt_ssrcs: dict[int, tuple[str, str | None]] = {}
        # The transport-wide sequence number extension's id and the arrivals it numbers, when
        # this peer publishes with transport-cc (rooms.sfu.twcc); None without.
        self.twcc_ext_id = 0
        self.transport_feedback: TransportFeedback | None = None
        # This subscriber's downlink (its REMB and receiver reports feed it; the room
        # allocates layers within it) and the tile size (w, h) it shows each video slot at.
        self.downlink = DownlinkEstimator(
            initial=config.downlink_initial_bitrate,
            floor=config.downlink_min_bitrate,
            ceiling=config.downlink_max_bitrate,
        )
        self.tiles: dict[str, tuple[int, int]] = {}
        # Each video slot's last layer and when the budget last lowered it (allocation.remember).
        self.layer_history: dict[str, SlotHistory[SourceKey]] = {}
        self.sent_octets = 0
        self.packets_in = 0
        self.bytes_in = 0
        self.packets_dropped = 0
        self.nacks_answered = 0
        self._hooked: set[int] = set()
        self._on_state = on_state
        self.pc.on("connectionstatechange", self._connection_state_changed)

    # --- negotiation -----------------------------------------------------------------

    async def negotiate(self, offer_sdp: str, plans: list[MediaPlan]) -> str:
        """Apply a checked offer and return the answer SDP. Raises NegotiationError; the
        caller then tears the peer down (aiortc cannot roll a half-applied offer back)."""
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        except Exception as exc:
            raise NegotiationError(f"offer rejected: {exc}") from None
        by_mid = {p.mid: p for p in plans}
        transceivers = [t for t in self.pc.getTransceivers() if t.mid in by_mid]
        if not transceivers:
            raise NegotiationError("no media m-line could be used")
        for t in transceivers:
            self._prepare(t, by_mid[str(t.mid)])
        dtls = transceivers[0].receiver.transport
        if any(t.receiver.transport is not dtls for t in transceivers):
            raise NegotiationError("all media must share one transport (BUNDLE)")
        if self.writer is None:
            transport.intercept_transport(dtls, self.on_rtp, self.on_rtcp)
            self.writer = transport.RtpWriter(dtls)
            # The forwarding loop sends while the writer is ready: follow the transport.
            dtls.on("statechange", self.writer.sync)
            self.rtcp_ssrc = transport.sender_ssrcs(transceivers[0].sender)[0]
        wanted = self.wanted_streams()
        answered: dict[str, str] = {}
        renumbered: list[tuple[OutputSlot, int, int]] = []
        for t in transceivers:
            mid = str(t.mid)
            if by_mid[mid].role != "slot":
                continue
            sid = wanted.get(mid) or self.answered_streams.get(mid) or f"sfu-{mid}"
            slot = self.slots.get(mid)
            if slot is not None and self.answered_streams.get(mid) not in (None, sid):
                ssrc, rtx_ssrc = self._fresh_ssrc(), self._fresh_ssrc()
                transport.set_sender_ssrcs(t.sender, ssrc, rtx_ssrc)
                renumbered.append((slot, ssrc, rtx_ssrc))
            answered[mid] = sid
            transport.set_stream_id(t.sender, sid)
        try:
            answer = await self.pc.createAnswer()
            await self.pc.setLocalDescription(answer)
        except Exception as exc:
            raise NegotiationError(f"could not answer the offer: {exc}") from None
        self.answered_streams = answered
        self.answered_at = self.room.now()
        self.restream_asked = False
        for slot, ssrc, rtx_ssrc in renumbered:
            self.slots_by_ssrc.pop(slot.ssrc, None)
            for old in (slot.ssrc, slot.rtx_ssrc):
                self.retired_ssrcs.add(old)
                if self.writer is not None:
                    self.writer.retire(old)
            slot.renumber(ssrc, rtx_ssrc)
            self.slots_by_ssrc[ssrc] = slot
            if slot.kind == "video" and slot.current is not None:
                self.room.request_keyframe(slot.current)
        self._update_streams(transceivers, by_mid)
        self.remote_ufrag = offer_ice_ufrag(offer_sdp)
        return complete_answer(str(self.pc.localDescription.sdp), plans)

    def _prepare(self, t: RTCRtpTransceiver, plan: MediaPlan) -> None:
        if id(t) not in self._hooked:
            transport.neuter_sender(t.sender)
            transport.neuter_receiver(t.receiver)
            self._hooked.add(id(t))
        prepare_transceiver(t, plan)

    def _update_streams(
        self, transceivers: list[RTCRtpTransceiver], by_mid: dict[str, MediaPlan]
    ) -> None:
        if self.writer is None:
            raise NegotiationError("transport missing after negotiation")
        for t in transceivers:
            plan = by_mid[str(t.mid)]
            codecs = transport.negotiated_codecs(t)
            primary = codecs[0]
            payload_type = int(primary.payloadType or 0)
            mid_id = ext_id(t, MID_URI)
            if mid_id:
                self.mid_ext_id = mid_id
            if plan.role == "publish" and plan.source_kind is not None:
                existing = self.sources_by_mid.get(plan.mid)
                if (
                    existing is not None
                    and existing.key.kind == plan.source_kind
                    and tuple(layer.rid for layer in existing.layers if layer.rid) == plan.rids
                ):
                    continue
                if existing is not None:
                    self.room.drop_source(self, existing)
                layers: list[Source] = []
                for index, rid in enumerate(plan.rids or (None,)):
                    source = Source(
                        key=SourceKey(self.participant_id, plan.source_kind),
                        mid=plan.mid,
                        payload_type=payload_type,
                        clock_rate=primary.clockRate,
                        is_vp8=plan.kind == "video",
                        audio_level_id=ext_id(t, AUDIO_LEVEL_URI),
                        ssrc=plan.ssrc,
                        history_size=self.config.nack_cache_size if plan.kind == "video" else 0,
                        nack_upstream=self.config.nack_upstream and plan.kind == "video",
                        rid=rid,
                        layer=index,
                        layers=layers,
                    )
                    source.keyframes.min_interval = self.config.keyframe_min_interval
                self.rid_ext_id = plan.rid_ext_id or self.rid_ext_id
                if plan.twcc_ext_id:
                    self.twcc_ext_id = plan.twcc_ext_id
                    if self.transport_feedback is None:
                        self.transport_feedback = TransportFeedback()
                self.room.add_source(self, layers[0])
            elif plan.role == "slot" and plan.mid not in self.slots:
                ssrc, rtx_ssrc = transport.sender_ssrcs(t.sender)
                rtx = codecs[1].payloadType if len(codecs) > 1 else None
                slot = OutputSlot(
                    subscriber_id=self.participant_id,
                    mid=plan.mid,
                    kind=plan.kind,
                    ssrc=ssrc,
                    rtx_ssrc=rtx_ssrc,
                    payload_type=payload_type,
                    rtx_payload_type=rtx,
                    clock_rate=primary.clockRate,
                    writer=self.writer,
                    on_switch=self.room.slot_switched,
                    mid_ext_id=mid_id,
                    audio_level_ext_id=ext_id(t, AUDIO_LEVEL_URI),
                    abs_send_time_ext_id=ext_id(t, ABS_SEND_TIME_URI),
                )
                self.slots[plan.mid] = slot
                self.slots_by_ssrc[ssrc] = slot
            elif plan.role == "inactive" and plan.mid in self.sources_by_mid:
                self.room.drop_source(self, self.sources_by_mid[plan.mid])

    def _fresh_ssrc(self) -> int:
        taken = {*self.slots_by_ssrc, *(s.rtx_ssrc for s in self.slots.values()), self.rtcp_ssrc}
        while True:
            ssrc = secrets.randbits(32)
            if ssrc and ssrc not in taken and ssrc not in self.retired_ssrcs:
                return ssrc

    def wanted_streams(self, *, paired_only: bool = False) -> dict[str, str]:
        """The msid stream of each slot that carries (or is switching to) a source; with
        ``paired_only``, only the slots of people whose audio and camera both come here."""
        targets = {mid: slot.target.key for mid, slot in self.slots.items() if slot.target}
        if paired_only:
            heard = {k.participant_id for k in targets.values() if k.kind == "audio"}
            seen = {k.participant_id for k in targets.values() if k.kind == "camera"}
            paired = heard & seen
            targets = {
                mid: k
                for mid, k in targets.items()
                if k.participant_id in paired and k.kind != "screen"
            }
        return {mid: stream_id(key) for mid, key in targets.items()}

    def streams_stale(self) -> bool:
        """Someone's audio and camera both reach this subscriber but its last answer did not
        put them in one stream: the browser cannot keep them in sync."""
        answered = self.answered_streams
        wanted = self.wanted_streams(paired_only=True)
        return any(answered.get(mid) != sid for mid, sid in wanted.items())

    # --- state ---------------------------------------------------------------------

    def _connection_state_changed(self) -> None:
        state = self.pc.connectionState
        if self.closed:
            return
        if self.writer is not None:
            self.writer.sync()  # the ICE side changed: the forwarding loop may send, or stop
        if state == "connected" and self.state != "connected":
            self.state = "connected"
            self._on_state(self, "connected", "")
        elif state in ("failed", "closed"):
            self._on_state(self, "failed", f"peer connection {state}")

    async def close(self) -> None:
        self.closed = True
        if self.writer is not None:
            self.writer.close()
        await self.pc.close()

    # --- packet intake (runs inside the DTLS transport's receive loop) ----------------

    def on_rtp(self, data: bytes, arrival_time_ms: int) -> None:
        if self.closed:
            return
        size = len(data)
        if size < 12:
            self.packets_dropped += 1
            return
        arrivals = self.transport_feedback
        if arrivals is not None:
            # Every numbered packet counts, padding and probes on any SSRC included: they are
            # how the browser measures its uplink.
            number = _fast.fwd_ext16(data, size, self.twcc_ext_id)
            if number >= 0:
                arrivals.add(number, now_us())
        source = self.sources_by_ssrc.get(_SSRC.unpack_from(data, 8)[0])
        if source is None:
            try:
                view = parse_rtp(data)
            except ValueError:
                self.packets_dropped += 1
                return
            source = self._learn_ssrc(data, view.ssrc, view)
            if source is None:
                self.packets_dropped += 1
                return
        # The header, the audio level and the VP8 descriptor, read in C (fastpath.c) into
        # the one fwd_pkt the forwarding loop takes; -1: not RTP, -2: a bad VP8 descriptor.
        pkt = _PKT
        parsed = _fast.fwd_parse(pkt, data, size, source.is_vp8, source.audio_level_id)
        if parsed == -1 or data[1] & 0x7F != source.payload_type:
            # RTX and unnegotiated payload types are not forwarded.
            self.packets_dropped += 1
            return
        if pkt.payload_end <= pkt.payload_start:
            # Padding only (a browser pads its simulcast layers and probes its bandwidth with
            # such packets in the media stream): not forwarded, and the sequence numbers after
            # it close up, or each subscriber would count every one as a lost packet.
            self.packets_dropped += 1
            # The publisher must not resend it, but it is no media: a layer its publisher
            # paused keeps sending padding (2-9 kbit/s), and counted at that rate it looked
            # all but free to the allocation, was given, resumed at 500 kbit/s on a viewer's
            # 500 kbit/s link and dropped the video (seen in the browser test).
            self._received(source, pkt.seq, 0)
            source.padding_skipped = (source.padding_skipped + 1) & 0xFFFF
            return
        if source.padding_skipped:
            pkt.seq = (pkt.seq - source.padding_skipped) & 0xFFFF
        self.packets_in += 1
        self.bytes_in += size
        self._received(source, _SEQ.unpack_from(data, 2)[0], size)
        if pkt.keyframe and parsed == 0:
            # A keyframe says the picture size (layer choice compares it with tile sizes).
            picture = keyframe_size(memoryview(data)[pkt.payload_start : pkt.payload_end])
            if picture is not None:
                source.size = picture
        if parsed == 0:
            self.room.forward(source, data, pkt)

    def _received(self, source: Source, seq: int, size: int) -> None:
        """Account for a packet of ``source`` (its sequence number as the publisher sent it)
        and NACK what its arrival shows missing."""
        source.stats.add(seq, size)
        if source.missing is not None:
            feedback.nack_missing(source, seq, self.room.now(), self.writer, self.rtcp_ssrc)

    def _learn_ssrc(self, data: bytes, ssrc: int, view: RtpView) -> Source | None:
        # Offers without a=ssrc lines (allowed with unified plan) are mapped by the MID
        # header extension of the first packet, simulcast layers by rtp-stream-id too; an
        # SSRC seen that way before is mapped again without them (``learnt_ssrcs``).
        raw = find_extension(data, view, self.mid_ext_id)
        learnt: tuple[str, str | None] | None = None
        if raw is not None:
            mid = raw.decode("ascii", "replace")
        else:
            learnt = self.learnt_ssrcs.get(ssrc)
            if learnt is None:
                return None
            mid = learnt[0]
        source = self.sources_by_mid.get(mid)
        name: str | None = None
        if source is not None and source.rid is not None:
            # A simulcast layer: which one, the rtp-stream-id extension says.
            rid = find_extension(data, view, self.rid_ext_id) if self.rid_ext_id else None
            if rid is not None:
                name = rid.decode("ascii", "replace")
            elif learnt is not None:
                name = learnt[1]
            source = next((layer for layer in source.layers if layer.rid == name), None)
        if source is None or (source.ssrc is not None and source.ssrc in self.sources_by_ssrc):
            return None
        source.ssrc = ssrc
        self.sources_by_ssrc[ssrc] = source
        if len(self.learnt_ssrcs) >= MAX_LEARNT_SSRCS:
            del self.learnt_ssrcs[next(iter(self.learnt_ssrcs))]
        self.learnt_ssrcs[ssrc] = (mid, name)
        return source

    def on_rtcp(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            packets = RtcpPacket.parse(data)
        except Exception:
            self.packets_dropped += 1
            return
        room = self.room
        self.nacks_answered += feedback.handle(
            packets,
            sources=self.sources_by_ssrc,
            slots=self.slots_by_ssrc,
            downlink=self.downlink,
            request_keyframe=room.request_keyframe,
            clock=room.now,
        )

    def measure(self, interval: float, now: float) -> None:
        """Close a feedback interval (rooms.sfu.feedback.measure)."""
        self.sent_octets = feedback.measure(
            self.all_sources(), self.slots.values(), self.downlink, self.sent_octets, interval, now
        )

    def attach_source(self, source: Source) -> None:
        """Take ``source`` (and its simulcast layers) as the stream of its kind this peer
        publishes (called by the room, which has dropped the one it replaces)."""
        self.sources[source.key.kind] = source
        self.sources_by_mid[source.mid] = source
        for layer in source.layers:
            if layer.ssrc is not None:
                self.sources_by_ssrc[layer.ssrc] = layer

    def detach_source(self, source: Source) -> bool:
        """Forget ``source`` and its layers (called by the room); True when it was one of
        this peer's streams, by kind or by mid."""
        held = False
        if self.sources.get(source.key.kind) is source:
            del self.sources[source.key.kind]
            held = True
        if self.sources_by_mid.get(source.mid) is source:
            del self.sources_by_mid[source.mid]
            held = True
        for layer in source.layers:
            if layer.ssrc is not None and self.sources_by_ssrc.get(layer.ssrc) is layer:
                del self.sources_by_ssrc[layer.ssrc]
        return held

    def all_sources(self) -> list[Source]:
        """Every stream received from this peer, each simulcast layer on its own."""
        return [layer for source in self.sources.values() for layer in source.layers]

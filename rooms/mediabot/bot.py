"""A media bot: one ``RTCPeerConnection`` to the SFU that publishes pre-encoded media and
checks what it receives. Used by the tests, by the benchmark (``main``) and, through a
WebSocket ``Signaling`` the control plane provides, against a real deployment.

- Publishes Opus (20 ms packets, RFC 6464 audio level set to ``audio_level``) and VP8 (15 fps,
  a keyframe every second, or every ``keyframe_every`` seconds, and on request) from a
  ``clip`` encoded once per process; at run time it only packetizes. With ``pace`` its video
  leaves through a ``Pacer`` (2.5 x the clip's bitrate, or with ``pace_on_grant`` 2.5 x the
  SFU's grant when that is more, as libwebrtc paces at 2.5 x its estimate), otherwise each
  frame leaves in one burst. Stock aiortc senders/receivers are neutered exactly as in the
  SFU.
- Counts per receive slot: packets, bytes, loss (sequence gaps), keyframes, and the origin of
  every frame / audio packet (clip digests), and decodes received VP8 frames with libvpx to
  prove they are intact.
- With ``feedback`` it reports what it receives as a browser does: an RTCP receiver report
  (fraction lost, cumulative loss) for every stream it receives each ``FEEDBACK_INTERVAL``
  (libwebrtc sends its video receiver reports about once a second, and sooner along with other
  feedback); no NACKs. With ``remb`` as well, a receive-side estimate of its downlink
  (``rooms.mediabot.estimate``: delay-based, as a browser's) goes to the SFU as REMB; without
  it the SFU's estimate of its downlink rests on loss alone.
- A simulcast bot (``simulcast``) sends its three layers with their own SSRCs and honours the
  SFU's REMB as a browser does: the layers the grant does not fund are paused (the lowest is
  always sent), and a layer resumed when the grant rises starts at a keyframe.
- Signaling is pluggable: ``Signaling`` takes an offer SDP and returns the answer SDP.
- ``ice_servers`` and ``relay_only`` make it a client behind a TURN relay: it then sends and
  receives through the relay only (``local_candidate_type`` says "relay").

Command line (in-process SFU in a child process, which reports its own CPU time):

    python -m rooms.mediabot.bot --bots 6 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import struct
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import av
from aiortc import (
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc import sdp as aiortc_sdp
from aiortc.clock import current_ntp_time
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from aiortc.rtp import unpack_remb_fci

from rooms.sfu import rtcp, transport
from rooms.sfu.config import SfuConfig
from rooms.sfu.rtcp import ReceiveStats
from rooms.sfu.rtp_header import build_header, one_byte_extension_block, parse_rtp, seq_delta
from rooms.sfu.twcc import TWCC_URI
from rooms.sfu.vp8 import build_descriptor, keyframe_size, parse_vp8

from .clip import Clip, clip, identify, layered_clip
from .estimate import ReceiveEstimate

logger = logging.getLogger(__name__)

Signaling = Callable[[str], Awaitable[str]]
MAX_PAYLOAD = 1100
MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
# The header extension id a simulcast bot gives rtp-stream-id (aiortc's own use 1..3).
RID_EXT_ID = 10
# The transport-wide sequence number's id in a bot's offer with ``transport_cc``; the bot puts
# it first in every packet's extension block, so its value sits at a fixed offset.
TWCC_EXT_ID = 5
_TWCC_AT = 12 + 4 + 1
LAYER_RIDS = ("l", "m", "h")
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


@dataclass
class Segment:
    """A run of consecutive frames from one origin on one receive slot."""

    origin: int | None
    starts_with_keyframe: bool
    frames: int = 0


@dataclass(slots=True)
class Part:
    """One received VP8 packet waiting to be assembled into its frame."""

    timestamp: int
    marker: int
    start: bool
    picture_id: int | None
    body: bytes
    arrived: float
    key: bool = False
    """The first packet of a keyframe."""


FEEDBACK_INTERVAL = 0.5
"""Seconds between a ``feedback`` bot's receiver reports."""
ESTIMATE_INTERVAL = 0.1
"""Seconds between updates of a ``remb`` bot's receive-side estimate."""
FRAME_TIMES = 15 * 600
"""Arrival times of decodable frames kept per stream (ten minutes at 15 fps)."""
JITTER_WAIT = 0.3
"""How long a receiver waits for a missing packet (a retransmission may bring it), from when a
later packet showed it missing, before it gives the frame up, as a browser's jitter buffer
does; then it asks for a keyframe. A frame still arriving with no hole is waited for."""
MAX_PENDING = 512
VIDEO_HISTORY = 512


@dataclass
class ReceivedStream:
    mid: str
    kind: str
    ssrc: int | None = None
    stats: ReceiveStats = field(default_factory=lambda: ReceiveStats(clock_rate=90000))
    keyframes: int = 0
    frames_complete: int = 0
    frames_decoded: int = 0
    decode_errors: int = 0
    width: int = 0
    height: int = 0
    picture_id_jumps: int = 0
    origins: Counter[int | None] = field(default_factory=Counter)
    last_seen: dict[int | None, float] = field(default_factory=dict)
    first_seen: dict[int | None, float] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    frames_skipped: int = 0
    """Frames given up on: a packet still missing after ``JITTER_WAIT``."""
    frames_decodable: int = 0
    """Complete frames with their references intact (from a keyframe on), in order: what a
    decoder gets (libvpx may hold a few back before it outputs them, ``frames_decoded``)."""
    frame_times: deque[float] = field(default_factory=lambda: deque(maxlen=FRAME_TIMES))
    """When each decodable frame was complete (video) or each packet arrived (audio), by
    ``time.monotonic``, the last ``FRAME_TIMES``."""
    frame_stamps: deque[int] = field(default_factory=lambda: deque(maxlen=FRAME_TIMES))
    """The RTP timestamps of the frames in ``frame_times`` (video)."""
    frame_size: tuple[int, int] = (0, 0)
    """The picture size of the last keyframe received (from its VP8 header, no decoder)."""
    created: float = field(default_factory=time.monotonic)
    """When the stream was negotiated (``time.monotonic``): from then on it could show."""
    sized_bytes: Counter[tuple[int, int]] = field(default_factory=Counter)
    """Payload bytes of decodable frames, by the picture size they had."""
    _pending: dict[int, Part] = field(default_factory=dict)
    _next_seq: int | None = None
    _last_picture_id: int | None = None
    _decoder: av.VideoCodecContext | None = None
    _decodable: bool = False
    _last_pli: float = float("-inf")

    @property
    def packets(self) -> int:
        return self.stats.packets

    @property
    def lost(self) -> int:
        return self.stats.lost


SENDER_REPORT_INTERVAL = 1.0
"""Seconds between a bot's sender reports (with ``feedback``), about a browser's rate."""
PACING_FACTOR = 2.5
"""Like libwebrtc's pacer: a paced sender spends at most 2.5 times its media bitrate."""
PACE_INTERVAL = 0.01


def hole_noticed(pending: dict[int, Part], first: int) -> float | None:
    """When a receiver could first tell a packet was missing from the frame at ``first``: the
    earliest arrival among the packets past the first hole in the run of sequence numbers from
    ``first``; None when the run has no hole (the frame is still arriving, as a keyframe paced
    over more than ``JITTER_WAIT`` does: a browser's packet buffer waits for it, it has nothing
    to NACK)."""
    seq, run = first, 0
    while seq in pending:
        seq, run = (seq + 1) & 0xFFFF, run + 1
    if run == len(pending):
        return None
    return min(p.arrived for s, p in pending.items() if seq_delta(s, seq) > 0)


def keyframe_waits(pending: dict[int, Part], first: int) -> bool:
    """Whether a complete keyframe (its first packet to its marker, one timestamp, no hole)
    is among the packets after ``first``."""
    for seq, part in pending.items():
        if not part.key or seq_delta(seq, first) <= 0:
            continue
        at = seq
        while (next_part := pending.get(at)) is not None and next_part.timestamp == part.timestamp:
            if next_part.marker:
                return True
            at = (at + 1) & 0xFFFF
    return False


def clip_bitrate(clip_: Clip) -> float:
    """Average VP8 bitrate of the looped clip, bit/s."""
    return sum(map(len, clip_.video_frames)) * 8 * clip_.fps / max(1, len(clip_.video_frames))


def layers_funded(grant: int, targets: Sequence[int], minimums: Sequence[int]) -> int:
    """How many layers (lowest first) a REMB grant of ``grant`` bit/s funds, as a browser
    decides: the lowest always; each further one while the grant covers the target bitrates
    of the layers below it and this layer's minimum."""
    count = 1
    for n in range(1, len(targets)):
        if grant < sum(targets[:n]) + minimums[n]:
            break
        count = n + 1
    return count


# Like libwebrtc's simulcast table, a layer can start on about a third of its target bitrate.
LAYER_MIN_SHARE = 3


class Pacer:
    """Spreads video packets over time as a browser does (a keyframe of 50 KB leaves in about
    a quarter of a second at 2.5 x 600 kbit/s, not in one burst): a byte budget that refills at
    ``rate`` bytes/s, at most ``PACE_INTERVAL`` worth of it saved while nothing waits.

    Like libwebrtc's pacer (its round-robin packet queue) it shares the budget between the
    streams it paces (a simulcast camera's layers): the next packet is the oldest of the
    waiting stream that has sent the fewest bytes, and a stream that was idle comes back at
    most ``MAX_LEADING`` bytes behind the one that sent most. So a top layer's 50 KB keyframe
    does not hold the lower layers' next frames back for a quarter of a second (first in,
    first out, it did, and Janus then took the middle layer for stalled and fell back)."""

    MAX_LEADING = 1400

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.queues: dict[int, deque[bytes]] = {}
        self.sent: dict[int, int] = {}
        self.waiting = 0
        """Packets queued, all streams."""
        self._budget = 0.0
        self._last = now

    def _refill(self, now: float) -> None:
        self._budget += (now - self._last) * self.rate
        self._last = now
        if not self.waiting:
            self._budget = min(self._budget, self.rate * PACE_INTERVAL)

    def push(self, packet: bytes, now: float, stream: int = 0) -> None:
        if not self.waiting:
            self._refill(now)  # what an idle pacer saved is capped before the burst arrives
        queue = self.queues.get(stream)
        if queue is None:
            queue = self.queues[stream] = deque()
        if not queue:
            most = max(self.sent.values(), default=0)
            self.sent[stream] = max(self.sent.get(stream, 0), most - self.MAX_LEADING)
        queue.append(packet)
        self.waiting += 1

    def due(self, now: float) -> list[bytes]:
        """The queued packets that may leave now (each stream's in order)."""
        self._refill(now)
        out: list[bytes] = []
        sent = self.sent
        while self.waiting and self._budget > 0:
            stream = min((s for s, q in self.queues.items() if q), key=sent.__getitem__)
            packet = self.queues[stream].popleft()
            sent[stream] += len(packet)
            self.waiting -= 1
            self._budget -= len(packet)
            out.append(packet)
        return out


class Bot:
    def __init__(
        self,
        name: str,
        signaling: Signaling,
        *,
        variant: int = 0,
        audio_level: int = 30,
        publish_audio: bool = True,
        publish_video: bool = True,
        audio_slots: int = 2,
        video_slots: int = 2,
        decode: bool = True,
        pace: bool = False,
        ice_addresses: tuple[str, ...] = (),
        ice_servers: Sequence[RTCIceServer] = (),
        relay_only: bool = False,
        simulcast: bool = False,
        padding: bool = False,
        feedback: bool = False,
        remb: bool = False,
        transport_cc: bool = False,
        keyframe_every: int = 1,
        pace_on_grant: bool = False,
    ) -> None:
        self.name = name
        self.signaling = signaling
        self.variant = variant
        self.audio_level = audio_level
        self.publish_audio = publish_audio
        self.publish_video = publish_video
        self.decode = decode
        self.pace = pace
        # A paced bot spends PACING_FACTOR times its clip's bitrate; with ``pace_on_grant``,
        # times the SFU's grant (REMB) when that is more, as libwebrtc paces at 2.5 times its
        # estimate: a keyframe then leaves as fast as a browser's would.
        self.pace_on_grant = pace_on_grant
        self._pacer: Pacer | None = None
        self._pace_floor = 0.0
        # ``keyframe_every``: seconds between the clip's own keyframes (more than one: closer
        # to a browser, whose encoder keys only when asked).
        self.clip: Clip = clip(variant, keyframe_every)
        # Video in simulcast layers (lowest first, like a browser's camera scaled by 4, 2, 1),
        # each its own SSRC and RTP stream id, announced with a=rid / a=simulcast.
        self.layers: tuple[Clip, ...] = (
            layered_clip(variant, keyframe_every) if simulcast else (self.clip,)
        )
        self.simulcast = simulcast
        # What each layer sends (bit/s), and what it needs at least to be started: the grant
        # (REMB) the SFU sends funds layers from the lowest up, as a browser's does.
        self.layer_targets = [int(clip_bitrate(layer)) for layer in self.layers]
        self.layer_minimums = [target // LAYER_MIN_SHARE for target in self.layer_targets]
        self.remb: int | None = None
        """The last bitrate the SFU granted this bot's video (REMB), None before the first."""
        self.layers_active = len(self.layers)
        """How many layers (lowest first) are sent: all until a REMB says otherwise."""
        self.layer_frames_sent = [0] * len(self.layers)
        self.layer_pauses = 0
        self.layer_resumes = 0
        # Layers resumed and not yet sent since: each starts again at a keyframe.
        self._resuming: set[int] = set()
        # After each video frame, a padding-only packet in the same stream (as a browser pads
        # its simulcast layers and probes its bandwidth): it takes a sequence number.
        self.padding = padding
        self.feedback = feedback or remb
        self.estimate = ReceiveEstimate() if remb else None
        self.rembs_sent = 0
        self.reports_sent = 0
        # Transport-cc, as a browser offers it: every packet numbered as it is sent (the
        # numbers and send times are kept, ``twcc_sent``) and the SFU's feedback kept as it
        # came (``twcc_feedback``), for tests to compare.
        self.transport_cc = transport_cc
        self.twcc_sent: deque[tuple[int, float]] = deque(maxlen=20_000)
        self.twcc_feedback: deque[bytes] = deque(maxlen=2_000)
        self._twcc_next = 0
        configuration = SfuConfig(ice_addresses=ice_addresses).rtc_configuration()
        # A bot may stand for a browser behind a TURN relay (the worker itself never uses one).
        configuration.iceServers = list(ice_servers)
        if relay_only:
            configuration.iceTransportPolicy = RTCIceTransportPolicy.RELAY
        self.pc = RTCPeerConnection(configuration)
        self.received: dict[str, ReceivedStream] = {}
        self._by_ssrc: dict[int, ReceivedStream] = {}
        self._want = (audio_slots, video_slots)
        self._audio_t: RTCRtpTransceiver | None = None
        self._video_t: RTCRtpTransceiver | None = None
        self._writer: transport.RtpWriter | None = None
        self._rtcp_ssrc = 0
        self._hooked: set[int] = set()
        self._send_task: asyncio.Task[None] | None = None
        self._feedback_task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._connected = asyncio.Event()
        self._failed = False
        self.packets_sent = 0
        self.plis_received = 0
        self.frames_sent = 0
        self.video_paused = False
        """While set, the sender skips video frames (a camera turned off for a moment)."""
        self.nacked = 0
        """Sequence numbers the SFU asked for again (generic NACKs)."""
        self.retransmitted = 0
        # The last video packets sent, by sequence number, for answering NACKs: resent as
        # they were (same SSRC and number), as a browser does when RTX is not negotiated.
        self._sent_video: list[tuple[int, bytes] | None] = [None] * VIDEO_HISTORY
        self.pc.on("connectionstatechange", self._state_changed)

    # --- lifecycle ------------------------------------------------------------------

    async def start(self, timeout: float = 10.0) -> None:
        if self.publish_audio:
            self._audio_t = self.pc.addTransceiver("audio", direction="sendonly")
        if self.publish_video:
            self._video_t = self.pc.addTransceiver("video", direction="sendonly")
        self._add_slots(*self._want)
        await self._negotiate()
        await asyncio.wait_for(self._connected.wait(), timeout)
        if self._failed:
            raise ConnectionError(f"bot {self.name}: connection failed")
        self._send_task = asyncio.ensure_future(self._run_sender())
        if self.feedback:
            self._feedback_task = asyncio.ensure_future(self._run_feedback())

    @property
    def wanted_slots(self) -> tuple[int, int]:
        """The receive slots (audio, video) this connection was last asked for."""
        return self._want

    async def renegotiate(self, audio_slots: int, video_slots: int) -> None:
        """Add receive slots up to the given totals and send a new offer."""
        have_a = sum(1 for s in self.received.values() if s.kind == "audio")
        have_v = sum(1 for s in self.received.values() if s.kind == "video")
        self._add_slots(max(0, audio_slots - have_a), max(0, video_slots - have_v))
        await self._negotiate()

    async def close(self) -> None:
        for task in (self._send_task, self._feedback_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._send_task = self._feedback_task = None
        await self.pc.close()

    def _add_slots(self, audio: int, video: int) -> None:
        for _ in range(audio):
            self.pc.addTransceiver("audio", direction="recvonly")
        for _ in range(video):
            self.pc.addTransceiver("video", direction="recvonly")

    async def _negotiate(self) -> None:
        for t in self.pc.getTransceivers():
            if id(t) not in self._hooked:
                transport.neuter_sender(t.sender)
                transport.neuter_receiver(t.receiver)
                self._hooked.add(id(t))
        offer = await self.pc.createOffer()
        await self.pc.setLocalDescription(offer)
        offer_sdp = self.pc.localDescription.sdp
        if self.simulcast and self._video_t is not None:
            offer_sdp = with_simulcast(offer_sdp, str(self._video_t.mid), LAYER_RIDS)
        if self.transport_cc:
            offer_sdp = with_transport_cc(offer_sdp)
        answer = await self.signaling(offer_sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        transceivers = self.pc.getTransceivers()
        if self._writer is None:
            dtls = transceivers[0].receiver.transport
            transport.intercept_transport(dtls, self._on_rtp, self._on_rtcp)
            self._writer = transport.RtpWriter(dtls)
            self._rtcp_ssrc = transport.sender_ssrcs(transceivers[0].sender)[0]
        for media in aiortc_sdp.SessionDescription.parse(answer).media:
            if media.direction != "sendonly":
                continue
            mid = str(media.rtp.muxId)
            stream = self.received.get(mid)
            if stream is None:
                stream = self.received[mid] = ReceivedStream(mid=mid, kind=media.kind)
                if media.kind == "audio":
                    stream.stats = ReceiveStats(clock_rate=48000)
            if media.ssrc:
                stream.ssrc = media.ssrc[0].ssrc
                self._by_ssrc[media.ssrc[0].ssrc] = stream

    @property
    def local_candidate_type(self) -> str | None:
        """How this bot reaches the SFU: "host", "srflx" or "relay" (None before ICE chose)."""
        return None if self._writer is None else self._writer.local_candidate_type

    def _state_changed(self) -> None:
        state = self.pc.connectionState
        if state == "connected":
            self._connected.set()
        elif state in ("failed", "closed"):
            self._failed = True
            self._connected.set()

    # --- waiting on what arrives -----------------------------------------------------

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait (event-driven, bounded) until ``predicate()`` holds; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    def streams(self, kind: str) -> list[ReceivedStream]:
        return [s for s in self.received.values() if s.kind == kind]

    def origin_packets(self, kind: str, origin: int) -> int:
        return sum(s.origins[origin] for s in self.streams(kind))

    def first_seen(self, origin: int) -> float | None:
        times = [s.first_seen[origin] for s in self.received.values() if origin in s.first_seen]
        return min(times) if times else None

    def last_seen(self, origin: int) -> float | None:
        times = [s.last_seen[origin] for s in self.received.values() if origin in s.last_seen]
        return max(times) if times else None

    # --- receiving -------------------------------------------------------------------

    def _on_rtp(self, data: bytes, arrival_time_ms: int) -> None:
        view = parse_rtp(data)
        stream = self._by_ssrc.get(view.ssrc)
        if stream is None:
            return
        stream.stats.add(view.sequence_number, len(data))
        payload = data[view.payload_start : view.payload_end]
        now = time.monotonic()
        if self.estimate is not None:
            self.estimate.on_packet(
                view.ssrc, view.timestamp, stream.stats.clock_rate, now, len(data)
            )
        if stream.kind == "audio":
            origin = identify(payload)
            stream.origins[origin] += 1
            stream.last_seen[origin] = now
            stream.first_seen.setdefault(origin, now)
            stream.frame_times.append(now)
        else:
            self._on_video(stream, view.sequence_number, view.timestamp, view.marker, payload, now)
        self._changed.set()

    def _on_video(
        self, stream: ReceivedStream, seq: int, ts: int, marker: int, payload: bytes, now: float
    ) -> None:
        """Frames are reassembled by sequence number, in order, like a jitter buffer: a frame
        whose packet is missing waits up to ``JITTER_WAIT`` from when a later packet showed the
        hole (a retransmission may fill it), then is given up, and the receiver asks for a
        keyframe. It is given up at once when it is cut short (the next frame's first packet
        follows its last) or when a complete keyframe already waits after it (a browser decodes
        that and drops what came before). A frame still arriving, with no hole, is waited for."""
        desc = parse_vp8(payload)
        if desc.keyframe:
            stream.keyframes += 1
            stream.frame_size = keyframe_size(payload) or stream.frame_size
        start = bool(desc.start_of_partition and desc.partition_id == 0)
        if stream._next_seq is None:
            if not start:
                return
            stream._next_seq = seq
        elif seq_delta(seq, stream._next_seq) < 0:
            return  # too late: its frame was given up or done
        stream._pending[seq] = Part(
            ts, marker, start, desc.picture_id, payload[desc.size :], now, start and desc.keyframe
        )
        self._assemble(stream, now)

    def _assemble(self, stream: ReceivedStream, now: float) -> None:
        pending = stream._pending
        while pending and stream._next_seq is not None:
            first = stream._next_seq
            head = pending.get(first)
            seqs: list[int] = []
            truncated = head is not None and not head.start
            if head is not None and head.start:
                seq = first
                while (part := pending.get(seq)) is not None and part.timestamp == head.timestamp:
                    seqs.append(seq)
                    if part.marker:
                        break
                    seq = (seq + 1) & 0xFFFF
                else:
                    # Another frame's packet right after this one's last: it cannot complete.
                    truncated = part is not None
                    seqs = []
            if seqs:
                parts = [pending.pop(s) for s in seqs]
                stream._next_seq = (seqs[-1] + 1) & 0xFFFF
                self._on_frame(stream, parts, now)
                continue
            if not truncated and len(pending) < MAX_PENDING:
                noticed = hole_noticed(pending, first)
                if noticed is None:
                    return  # still arriving
                if now - noticed < JITTER_WAIT and not keyframe_waits(pending, first):
                    return  # waiting for the missing packet
            # Give the frame up: go on at the next frame start after it.
            stream.frames_skipped += 1
            stream._decodable = False
            self._request_keyframe(stream, now)
            later = [s for s, p in pending.items() if p.start and seq_delta(s, first) > 0]
            if not later:
                pending.clear()
                stream._next_seq = None
                return
            stream._next_seq = min(later, key=lambda s: seq_delta(s, first))
            for s in [s for s in pending if seq_delta(s, stream._next_seq) < 0]:
                del pending[s]

    def _on_frame(self, stream: ReceivedStream, parts: list[Part], now: float) -> None:
        picture_id = parts[0].picture_id
        if picture_id is not None:
            last = stream._last_picture_id
            if last is not None and picture_id != (last + 1) & 0x7FFF:
                stream.picture_id_jumps += 1
            stream._last_picture_id = picture_id
        frame = b"".join(p.body for p in parts)
        stream.frames_complete += 1
        origin = identify(frame)
        keyframe = (frame[0] & 0x01) == 0
        stream.origins[origin] += 1
        stream.last_seen[origin] = now
        stream.first_seen.setdefault(origin, now)
        # Segments start at the first keyframe: what arrives before it (the subscriber's
        # DTLS finishing after the SFU's) is not a switch.
        if stream.segments or keyframe:
            if not stream.segments or stream.segments[-1].origin != origin:
                stream.segments.append(Segment(origin, keyframe))
            stream.segments[-1].frames += 1
        if not keyframe and not stream._decodable:
            self._request_keyframe(stream, now)
        if keyframe:
            stream._decodable = True
        if stream._decodable:
            stream.frames_decodable += 1
            stream.frame_times.append(now)
            stream.frame_stamps.append(parts[0].timestamp)
            stream.sized_bytes[stream.frame_size] += len(frame)
        if self.decode and stream._decodable:
            self._decode(stream, frame)

    def _request_keyframe(self, stream: ReceivedStream, now: float) -> None:
        # Like a browser: a receiver that cannot decode asks for a keyframe (rate-limited).
        if self._writer is None or stream.ssrc is None or now - stream._last_pli < 0.3:
            return
        stream._last_pli = now
        self._writer.write_rtcp(rtcp.pli(self._rtcp_ssrc, stream.ssrc))

    def _decode(self, stream: ReceivedStream, frame: bytes) -> None:
        if stream._decoder is None:
            stream._decoder = av.VideoCodecContext.create("vp8", "r")
        try:
            for decoded in stream._decoder.decode(av.Packet(frame)):
                stream.frames_decoded += 1
                stream.width, stream.height = decoded.width, decoded.height
        except av.FFmpegError:
            stream.decode_errors += 1
            stream._decodable = False

    def _on_rtcp(self, data: bytes) -> None:
        # PLI (payload-specific feedback, format 1) restarts the clip at its next keyframe.
        pos = 0
        while pos + 4 <= len(data):
            fmt, ptype, words = (
                data[pos] & 0x1F,
                data[pos + 1],
                int.from_bytes(data[pos + 2 : pos + 4], "big"),
            )
            end = pos + 4 * (words + 1)
            if ptype == 200 and end <= len(data) and words >= 6:
                # A sender report: its NTP time and arrival are what the next receiver
                # report for that stream echoes (LSR, DLSR), as a browser's do; the SFU
                # reads the round trip from them.
                stream = self._by_ssrc.get(int.from_bytes(data[pos + 4 : pos + 8]))
                if stream is not None:
                    ntp = int.from_bytes(data[pos + 8 : pos + 16])
                    stream.stats.record_sr(ntp, time.monotonic())
            elif ptype == 206 and fmt in (1, 4):
                self.plis_received += 1
                self._keyframe_requested = True
            elif ptype == 206 and fmt == 15 and end <= len(data):
                with contextlib.suppress(ValueError, struct.error):
                    self._on_remb(unpack_remb_fci(data[pos + 12 : end])[0])
            elif ptype == 205 and fmt == 15 and end <= len(data):
                self.twcc_feedback.append(data[pos:end])
                self._changed.set()
            elif ptype == 205 and fmt == 1 and end <= len(data):
                for at in range(pos + 12, end - 3, 4):
                    pid, blp = (
                        int.from_bytes(data[at : at + 2]),
                        int.from_bytes(data[at + 2 : at + 4]),
                    )
                    self._resend(
                        [pid] + [(pid + i + 1) & 0xFFFF for i in range(16) if blp >> i & 1]
                    )
            pos = end

    def _on_remb(self, bitrate: int) -> None:
        """The SFU's grant for this bot's video: a simulcast bot sends the layers it funds
        (``layers_funded``) and pauses the rest, as a browser does; a resumed layer starts
        at a keyframe (the clip jumps to its next one, as an encoder makes one)."""
        self.remb = bitrate
        if self._pacer is not None and self.pace_on_grant:
            self._pacer.rate = max(self._pace_floor, PACING_FACTOR * bitrate / 8)
        if not self.simulcast:
            return
        active = layers_funded(bitrate, self.layer_targets, self.layer_minimums)
        if active > self.layers_active:
            self.layer_resumes += active - self.layers_active
            self._resuming.update(range(self.layers_active, active))
            self._keyframe_requested = True
        elif active < self.layers_active:
            self.layer_pauses += self.layers_active - active
            self._resuming.difference_update(range(active, self.layers_active))
        self.layers_active = active

    def _resend(self, sequence_numbers: list[int]) -> None:
        writer = self._writer
        for seq in sequence_numbers:
            self.nacked += 1
            entry = self._sent_video[seq % VIDEO_HISTORY]
            if (
                writer is not None
                and entry is not None
                and entry[0] == seq
                and self._send(writer, entry[1])
            ):
                self.retransmitted += 1

    async def _run_feedback(self) -> None:
        """Receiver reports for every stream that has received packets (``feedback``), and
        the receive-side estimate as REMB when it says so (``remb``)."""
        next_report = time.monotonic() + FEEDBACK_INTERVAL
        while True:
            await asyncio.sleep(ESTIMATE_INTERVAL if self.estimate else FEEDBACK_INTERVAL)
            now = time.monotonic()
            writer = self._writer
            if self.estimate is not None:
                bitrate = self.estimate.evaluate(now)
                ssrcs = [s.ssrc for s in self.streams("video") if s.ssrc is not None]
                if bitrate is not None and ssrcs and writer is not None:
                    writer.write_rtcp(rtcp.remb(self._rtcp_ssrc, bitrate, ssrcs))
                    self.rembs_sent += 1
            if now < next_report:
                continue
            next_report = now + FEEDBACK_INTERVAL
            reports = [
                s.stats.report(s.ssrc, now)
                for s in self.received.values()
                if s.ssrc is not None and s.stats.packets
            ]
            for at in range(0, len(reports), 31):  # at most 31 report blocks per packet
                if writer is not None:
                    writer.write_rtcp(rtcp.receiver_report(self._rtcp_ssrc, reports[at : at + 31]))
                    self.reports_sent += 1

    # --- sending ---------------------------------------------------------------------

    _keyframe_requested = False

    async def _run_sender(self) -> None:
        loop = asyncio.get_running_loop()
        audio = self._audio_t
        video = self._video_t
        audio_params = self._params(audio) if audio else None
        video_params = self._params(video) if video else None
        clip_ = self.clip
        layers = self.layers
        a_seq = 1000
        v_seqs = [1000 + 7000 * n for n in range(len(layers))]
        pictures = [0] * len(layers)
        a_ts = v_ts = 0
        a_index = v_index = 0
        next_audio = next_video = loop.time()
        frame_interval = 1.0 / clip_.fps
        ts_step = 90000 // clip_.fps
        rate = sum(clip_bitrate(layer) for layer in layers)
        pacer = Pacer(PACING_FACTOR * rate / 8, loop.time()) if self.pace else None
        self._pacer, self._pace_floor = pacer, PACING_FACTOR * rate / 8
        layer_ssrcs = [0] + [random.getrandbits(32) for _ in layers[1:]]
        # The transport-wide number's place, filled in as each packet goes out (``_send``).
        twcc = [(TWCC_EXT_ID, b"\0\0")] if self.transport_cc else []
        # With ``feedback``, a sender report per stream every SENDER_REPORT_INTERVAL, as a
        # browser sends them: what each has sent (packets, payload bytes) and its last RTP
        # timestamp, by SSRC. The SFU passes them on to the subscribers, and reads its
        # round trip to each from their answers.
        sent: dict[int, list[int]] = {}
        next_report = loop.time() + SENDER_REPORT_INTERVAL
        while True:
            now = loop.time()
            writer = self._writer
            if self.feedback and now >= next_report:
                next_report = now + SENDER_REPORT_INTERVAL
                if writer is not None:
                    ntp = current_ntp_time()
                    for ssrc, (packets, octets, stamp) in sent.items():
                        writer.write_rtcp(
                            rtcp.sender_report(
                                ssrc=ssrc,
                                ntp_timestamp=ntp,
                                rtp_timestamp=stamp,
                                packets=packets,
                                octets=octets,
                            )
                        )
            if audio_params is not None and now >= next_audio:
                next_audio += 0.02
                pt, ssrc, mid_id, level_id, mid = audio_params
                elements = [*twcc, (mid_id, mid)] if mid_id else [*twcc]
                if level_id:
                    elements.append((level_id, bytes((self.audio_level & 0x7F,))))
                ext = one_byte_extension_block(elements) if elements else b""
                payload = clip_.audio_packets[a_index % len(clip_.audio_packets)]
                header = build_header(
                    marker=0,
                    payload_type=pt,
                    sequence_number=a_seq,
                    timestamp=a_ts,
                    ssrc=ssrc,
                    ext=ext,
                )
                if writer is not None and self._send(writer, header + payload):
                    self.packets_sent += 1
                counts = sent.setdefault(ssrc, [0, 0, 0])
                counts[0] += 1
                counts[1] += len(payload)
                counts[2] = a_ts
                a_seq = (a_seq + 1) & 0xFFFF
                a_ts = (a_ts + 960) & 0xFFFFFFFF
                a_index += 1
            if video_params is not None and now >= next_video and self.video_paused:
                next_video += frame_interval
            elif video_params is not None and now >= next_video:
                next_video += frame_interval
                self.frames_sent += 1
                if self._keyframe_requested:
                    # Jump to the clip's next keyframe (as an encoder keys on request).
                    self._keyframe_requested = False
                    n = len(clip_.video_frames)
                    pos = v_index % n
                    while not clip_.keyframes[pos % n]:
                        pos += 1
                    v_index += pos - (v_index % n)
                pt, ssrc, mid_id, _, mid = video_params
                layer_ssrcs[0] = ssrc
                for n, layer in enumerate(layers):
                    if n >= self.layers_active:
                        break  # paused: the grant does not fund it
                    if n in self._resuming:
                        if not layer.keyframes[v_index % len(layer.keyframes)]:
                            continue
                        self._resuming.discard(n)
                    self.layer_frames_sent[n] += 1
                    elements = [*twcc, (mid_id, mid)] if mid_id else [*twcc]
                    if self.simulcast:
                        elements.append((RID_EXT_ID, LAYER_RIDS[n].encode()))
                    ext = one_byte_extension_block(elements) if elements else b""
                    frame = layer.video_frames[v_index % len(layer.video_frames)]
                    chunks = [frame[i : i + MAX_PAYLOAD] for i in range(0, len(frame), MAX_PAYLOAD)]
                    counts = sent.setdefault(layer_ssrcs[n], [0, 0, 0])
                    counts[0] += len(chunks)
                    counts[1] += len(frame)
                    counts[2] = v_ts
                    for i, chunk in enumerate(chunks):
                        header = build_header(
                            marker=1 if i == len(chunks) - 1 else 0,
                            payload_type=pt,
                            sequence_number=v_seqs[n],
                            timestamp=v_ts,
                            ssrc=layer_ssrcs[n],
                            ext=ext,
                        )
                        desc = build_descriptor(picture_id=pictures[n], start=i == 0)
                        packet = header + desc + chunk
                        # Kept for NACKs (the layers' sequence numbers lie far apart).
                        self._sent_video[v_seqs[n] % VIDEO_HISTORY] = (v_seqs[n], packet)
                        if pacer is not None:
                            pacer.push(packet, now, n)
                        elif writer is not None and self._send(writer, packet):
                            self.packets_sent += 1
                        v_seqs[n] = (v_seqs[n] + 1) & 0xFFFF
                    if self.padding:
                        header = build_header(
                            marker=0,
                            payload_type=pt,
                            sequence_number=v_seqs[n],
                            timestamp=v_ts,
                            ssrc=layer_ssrcs[n],
                            ext=ext,
                        )
                        padded = bytes((header[0] | 0x20,)) + header[1:] + bytes(31) + b"\x20"
                        if writer is not None and self._send(writer, padded):
                            self.packets_sent += 1
                        v_seqs[n] = (v_seqs[n] + 1) & 0xFFFF
                    pictures[n] = (pictures[n] + 1) & 0x7FFF
                v_ts = (v_ts + ts_step) & 0xFFFFFFFF
                v_index += 1
            if pacer is not None:
                for packet in pacer.due(now):
                    if writer is not None and self._send(writer, packet):
                        self.packets_sent += 1
            wake = min(
                next_audio if audio_params else float("inf"),
                next_video if video_params else float("inf"),
                now + PACE_INTERVAL if pacer is not None and pacer.waiting else float("inf"),
            )
            if wake == float("inf"):
                return
            await asyncio.sleep(max(0.0, wake - loop.time()))

    def _send(self, writer: transport.RtpWriter, packet: bytes) -> int:
        """Send an RTP packet; with transport-cc, numbered now, as a browser numbers each
        packet it hands to its socket (a resent one gets a new number)."""
        if self.transport_cc and packet[0] & 0x10 and packet[16] >> 4 == TWCC_EXT_ID:
            number = self._twcc_next
            self._twcc_next = (number + 1) & 0xFFFF
            packet = packet[:_TWCC_AT] + number.to_bytes(2, "big") + packet[_TWCC_AT + 2 :]
            self.twcc_sent.append((number, time.monotonic()))
        return writer.write_rtp(packet)

    @staticmethod
    def _params(t: RTCRtpTransceiver) -> tuple[int, int, int, int, bytes]:
        codec = transport.negotiated_codecs(t)[0]
        ssrc = transport.sender_ssrcs(t.sender)[0]
        ids = {ext.uri: int(ext.id) for ext in t._headerExtensions}
        return (
            int(codec.payloadType or 0),
            ssrc,
            ids.get(MID_URI, 0),
            ids.get(AUDIO_LEVEL_URI, 0),
            str(t.mid).encode(),
        )


def with_simulcast(offer_sdp: str, mid: str, rids: Sequence[str]) -> str:
    """The offer with the video m-line ``mid`` publishing simulcast layers ``rids`` (lowest
    first): rtp-stream-id, ``a=rid:<id> send`` and ``a=simulcast:send`` (aiortc writes none)."""
    out: list[str] = []
    inside = False

    def close() -> None:
        if inside:
            out.append(f"a=extmap:{RID_EXT_ID} {RID_URI}")
            out.extend(f"a=rid:{rid} send" for rid in rids)
            out.append("a=simulcast:send " + ";".join(rids))

    for line in offer_sdp.splitlines():
        if line.startswith("m="):
            close()
            inside = False
        elif line == f"a=mid:{mid}":
            inside = True
        out.append(line)
    close()
    return "\r\n".join(out) + "\r\n"


def with_transport_cc(offer_sdp: str) -> str:
    """The offer with transport-cc on every m-line, as a browser offers it: the transport-wide
    sequence number extension and ``a=rtcp-fb:<pt> transport-cc`` for its first codec."""
    out: list[str] = []
    for line in offer_sdp.splitlines():
        out.append(line)
        if line.startswith("a=mid:"):
            payload_type = next(
                (m.split()[3] for m in reversed(out) if m.startswith("m=") and len(m.split()) > 3),
                None,
            )
            if payload_type is not None:
                out.append(f"a=extmap:{TWCC_EXT_ID} {TWCC_URI}")
                out.append(f"a=rtcp-fb:{payload_type} transport-cc")
    return "\r\n".join(out) + "\r\n"


# --- command line: N bots against an SFU in a child process ----------------------------


def _sfu_child(conn: Connection, config: SfuConfig, profile_path: str | None = None) -> None:
    """Child process: run the SFU on uvloop, answer offers from the pipe, report CPU use and
    a subscriber's downlink estimate."""
    import cProfile

    import uvloop

    from rooms.sfu.sfu import Sfu

    profiler = cProfile.Profile() if profile_path else None

    async def serve() -> None:
        sfu = Sfu(config, sink=lambda event: None)
        room = sfu.room("bench")
        loop = asyncio.get_running_loop()
        cpu_start = os.times()
        while True:
            request = await loop.run_in_executor(None, conn.recv)
            if request[0] == "offer":
                _, pid, sdp = request
                try:
                    conn.send(("ok", await room.offer(pid, sdp)))
                except Exception as exc:
                    conn.send(("error", str(exc)))
            elif request[0] == "downlink":
                # A subscriber's downlink estimate (bit/s), None for one not in the room.
                peer = room.peers.get(request[1])
                conn.send(("ok", None if peer is None else peer.downlink.value))
            elif request[0] == "reset":
                cpu_start = os.times()
                room.forwarded_packets = 0
                if profiler is not None:
                    profiler.enable()
                conn.send(("ok", None))
            elif request[0] == "report":
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(str(profile_path))
                now = os.times()
                user, system = now.user - cpu_start.user, now.system - cpu_start.system
                conn.send(("ok", (user, system, room.forwarded_packets)))
            else:
                await sfu.close()
                conn.send(("ok", None))
                return

    uvloop.run(serve())


async def _bench(args: argparse.Namespace) -> None:
    import multiprocessing

    from rooms.sfu.ice import use_host_addresses

    addresses = ("127.0.0.1",)
    use_host_addresses(addresses)
    config = SfuConfig(ice_addresses=addresses, last_n=args.last_n)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_sfu_child, args=(child, config, args.profile), daemon=True)
    process.start()
    loop = asyncio.get_running_loop()
    lock = asyncio.Lock()

    async def call(*request: object) -> object:
        async with lock:
            parent.send(request)
            status, value = await loop.run_in_executor(None, parent.recv)
        if status != "ok":
            raise RuntimeError(str(value))
        return value

    bots: list[Bot] = []
    try:
        for i in range(args.bots):

            async def signaling(sdp: str, pid: str = f"bot{i}") -> str:
                return str(await call("offer", pid, sdp))

            bot = Bot(
                f"bot{i}",
                signaling,
                variant=i % 4,
                audio_level=20 + 10 * i,
                audio_slots=min(3, args.bots - 1),
                video_slots=min(args.last_n, args.bots - 1),
                decode=False,
                ice_addresses=addresses,
            )
            await bot.start()
            bots.append(bot)
        await asyncio.sleep(2.0)
        await call("reset")
        await asyncio.sleep(args.duration)
        report = await call("report")
        if not isinstance(report, tuple):
            raise RuntimeError(f"unexpected report from the SFU process: {report!r}")
        user, system, forwarded = float(report[0]), float(report[1]), int(report[2])
        cpu = user + system
        print(f"bots={args.bots} duration={args.duration}s last_n={args.last_n}")
        print(
            f"SFU process CPU {cpu:.2f}s (user {user:.2f}s, system {system:.2f}s) = "
            f"{100 * cpu / args.duration:.1f}% of a core"
        )
        print(f"forwarded {forwarded} packets = {forwarded / args.duration:.0f} pkt/s")
        if forwarded:
            print(
                f"cost per forwarded packet: {1e6 * cpu / forwarded:.1f} us CPU all-in "
                f"({1e6 * user / forwarded:.1f} us user, {1e6 * system / forwarded:.1f} us "
                "system)"
            )
        for bot in bots:
            v = bot.streams("video")
            a = bot.streams("audio")
            print(
                f"{bot.name}: sent {bot.packets_sent}, video in "
                f"{sum(s.packets for s in v)} pkts lost {sum(s.lost for s in v)}, "
                f"audio in {sum(s.packets for s in a)}"
            )
    finally:
        for bot in bots:
            await bot.close()
        with contextlib.suppress(Exception):
            await call("close")
        process.join(5)
        if process.is_alive():
            process.terminate()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run media bots against an SFU")
    parser.add_argument("--bots", type=int, default=6)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--last-n", type=int, default=9)
    parser.add_argument("--profile", help="write a cProfile of the SFU process to this file")
    args = parser.parse_args(argv)
    import uvloop

    uvloop.run(_bench(args))


if __name__ == "__main__":
    main()

"""Bot processes for the media benchmark (bench/media.py, bench/janus.py).

A bot process runs many bots on one uvloop and obeys commands from the benchmark over a pipe
(`BotPool` is the benchmark's side). The bots are `rooms.mediabot.bot.Bot` with three additions,
all here, none in the SFU code:

- `StampingWriter`: every RTP packet a bot publishes gets a 12-byte trailer (a magic word and
  the sender's `time.time_ns()`, taken just before `sendto`) appended to its payload. The
  SFUs forward payloads untouched, so a receiver that finds the trailer knows when the packet
  left its publisher: one clock for every process on the machine. The receiver strips the
  trailer before the stock accounting (sequence gaps, clip digests) sees the packet.
- `BenchBot` counts, per measurement window, received packets, sequence-gap losses per
  subscriber, two latencies in histograms, and the time from the start of joining to the
  first complete forwarded video frame. SFU-added latency: send stamp → the kernel's arrival
  time of the datagram at the subscriber's socket (`SIOCGSTAMPNS`, read right after the event
  loop's `recvmsg` of that datagram), i.e. until the SFU's `sendto` delivered it on loopback;
  it includes the SFU's socket queueing, scheduling and work, and nothing of the receiving
  bot. Delivery latency: send stamp → the subscriber bot's handler in user space, which adds
  the time the datagram waited for a busy bot process.
- `AnsweringBot` receives only and answers an offer (Janus subscribers: Janus offers).
- Every received video stream notes the picture size its keyframes announce in the window
  (VP8 keyframe header, read only from packets that start a frame): the simulcast layer each
  SFU forwarded (`--simulcast`).

Bots join our stack through `BenchRoomClient` (the join API and the room socket, like a browser)
and Janus through `JanusSession` (its HTTP API, VideoRoom plugin).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import itertools
import logging
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import httpx
from aiortc import RTCSessionDescription
from aiortc import sdp as aiortc_sdp

from rooms.mediabot.bot import LAYER_RIDS, Bot, ReceivedStream
from rooms.mediabot.client import RoomClient
from rooms.sfu import transport
from rooms.sfu.ice import use_host_addresses
from rooms.sfu.rtcp import ReceiveStats
from rooms.sfu.vp8 import keyframe_size

logger = logging.getLogger(__name__)

STAMP_MAGIC = b"RMTS"
STAMP = struct.Struct("!4sQ")
HIST_BIN_MS = 0.05
HIST_BINS = 10_000  # 0 .. 500 ms, then one overflow bin
STEP_TIMEOUT = 20.0
# Receive buffer of the bots' ICE sockets (aioice asks for 256 KiB). One bot process stands in
# for dozens of browsers on their own machines; when its loop is busy for a moment, a burst of
# keyframes from several publishers overflowed 256 KiB and the kernel dropped them (UDP
# RcvbufErrors at the bots' sockets, counted as loss). The kernel caps it at net.core.rmem_max.
BOT_RCVBUF = 4 * 1024 * 1024
# ioctl: kernel receive time of the last datagram read from a socket (struct timespec,
# CLOCK_REALTIME). The first call turns timestamping on for that socket.
SIOCGSTAMPNS = 0x8907
# The bots stand in for browsers on other machines, yet share this machine's 2 cores with the
# SFU under test: they run under SCHED_IDLE, so that the SFU (ours or Janus alike) is never
# kept waiting for a CPU by its own load generator: a waking SFU preempts a running bot at
# once. They still get every cycle the SFU leaves. (At nice 10 the SFU still spent 20-31 % of
# the window runnable but waiting for a CPU at 40-50 people.)
BOT_SCHED_POLICY = os.SCHED_IDLE
_TIMESPEC = struct.Struct("qq")
_NO_TIMESPEC = bytes(_TIMESPEC.size)


# --- latency histogram -----------------------------------------------------------------------


def new_histogram() -> list[int]:
    return [0] * (HIST_BINS + 1)


def hist_add(hist: list[int], ms: float) -> None:
    index = int(ms / HIST_BIN_MS) if ms > 0 else 0
    hist[min(index, HIST_BINS)] += 1


def hist_merge(into: list[int], other: list[int]) -> None:
    for i, count in enumerate(other):
        if count:
            into[i] += count


def hist_percentile(hist: list[int], p: float) -> float | None:
    """Upper edge of the bin holding the nearest-rank p-th percentile (ms)."""
    total = sum(hist)
    if not total:
        return None
    rank = max(1, -(-total * p // 100))
    seen = 0
    for i, count in enumerate(hist):
        seen += count
        if seen >= rank:
            return round((i + 1) * HIST_BIN_MS, 3)
    return None


# --- the bots ---------------------------------------------------------------------------------


class StampingWriter(transport.RtpWriter):
    """`RtpWriter` that appends the send-time trailer and counts what it sends."""

    __slots__ = ("bytes_sent", "packets_sent")

    def __init__(self, dtls: Any) -> None:
        super().__init__(dtls)
        self.packets_sent = 0
        self.bytes_sent = 0

    def write_rtp(self, packet: bytes | bytearray | memoryview) -> int:
        written = super().write_rtp(bytes(packet) + STAMP.pack(STAMP_MAGIC, time.time_ns()))
        if written:
            self.packets_sent += 1
            self.bytes_sent += len(packet) + STAMP.size
        return written


@dataclass
class Window:
    started: float
    base: dict[str, tuple[int, int, int]]  # mid -> (packets, lost, octets) at the start
    sent_packets: int
    sent_bytes: int
    keyframe_requests: int
    resent: int


class BenchBot(Bot):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.join_started = time.monotonic()
        self.first_frame_at: float | None = None
        self.hist: list[int] | None = None
        self.delivery_hist: list[int] | None = None
        self.unstamped = 0
        self._stamp_fd: int | None = None
        self.window: Window | None = None
        # mid -> picture sizes ("WxH") of the keyframes received in the window
        self.window_sizes: dict[str, set[str]] = {}

    async def _negotiate(self) -> None:
        await super()._negotiate()
        if self._writer is not None and not isinstance(self._writer, StampingWriter):
            self._writer = StampingWriter(self._writer._dtls)

    def _arrival_ns(self) -> int | None:
        """Kernel arrival time of the datagram being handled (see the module docstring)."""
        if self._stamp_fd is None:
            writer = self._writer
            pair = writer._nominated.get(1) if writer is not None else None
            sock = pair.protocol.transport.get_extra_info("socket") if pair is not None else None
            if sock is None:
                return None
            self._stamp_fd = sock.fileno()
        try:
            sec, nsec = _TIMESPEC.unpack(fcntl.ioctl(self._stamp_fd, SIOCGSTAMPNS, _NO_TIMESPEC))
        except OSError:  # ENOENT until the first timestamped datagram
            return None
        return sec * 1_000_000_000 + nsec

    def _on_rtp(self, data: bytes, arrival_time_ms: int) -> None:
        if self.first_frame_at is not None:
            self._count(data)
            return
        size = self._take_stamp(data)
        super()._on_rtp(data if size == len(data) else data[:size], arrival_time_ms)
        if self.first_frame_at is None and any(
            s.frames_complete for s in self.received.values() if s.kind == "video"
        ):
            self.first_frame_at = time.monotonic()

    def _take_stamp(self, data: bytes) -> int:
        """Record the packet's two latencies from its send-time trailer (inside a window);
        returns the packet's length without the trailer."""
        size = len(data)
        if size > 12 + STAMP.size and data[-STAMP.size : -8] == STAMP_MAGIC:
            hist = self.hist
            if hist is not None and self.delivery_hist is not None:
                sent = int.from_bytes(data[-8:], "big")
                hist_add(self.delivery_hist, (time.time_ns() - sent) / 1e6)
                arrived = self._arrival_ns()
                if arrived is not None:
                    hist_add(hist, (arrived - sent) / 1e6)
            return size - STAMP.size
        if self.hist is not None:
            self.unstamped += 1
        return size

    def _count(self, data: bytes) -> None:
        """What a bot does with a packet once it has seen its first frame: the latencies and
        the stream's sequence accounting, none of the content checks (frame assembly, clip
        digests, keyframe requests) of ``Bot._on_rtp``. One bot process stands in for dozens
        of browsers, so every microsecond here is taken from the SFU it shares the CPUs with;
        the content checks belong to the tests, which run them on every packet."""
        size = self._take_stamp(data)
        stream = self._by_ssrc.get(int.from_bytes(data[8:12], "big"))
        if stream is not None:
            stream.stats.add((data[2] << 8) | data[3], size)
            if stream.kind == "video" and self.window is not None:
                self._note_size(stream.mid, data, size)

    def _note_size(self, mid: str, data: bytes, size: int) -> None:
        """The picture size of a VP8 keyframe this packet starts (the layer forwarded)."""
        start = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10 and size >= start + 4:  # header extension
            start += 4 + 4 * int.from_bytes(data[start + 2 : start + 4], "big")
        # Only a packet that starts partition 0 (VP8 descriptor: S set, PID 0) can be a
        # keyframe's first; the rest are skipped without parsing.
        if start >= size or data[start] & 0x17 != 0x10:
            return
        picture = keyframe_size(memoryview(data)[start:size])
        if picture is not None:
            self.window_sizes.setdefault(mid, set()).add(f"{picture[0]}x{picture[1]}")

    # --- measurement window ----------------------------------------------------------------

    def _sent(self) -> tuple[int, int]:
        writer = self._writer
        if isinstance(writer, StampingWriter):
            return writer.packets_sent, writer.bytes_sent
        return 0, 0

    def window_start(self) -> None:
        packets, octets = self._sent()
        self.window = Window(
            started=time.monotonic(),
            base={
                mid: (s.stats.packets, s.stats.lost, s.stats.octets)
                for mid, s in self.received.items()
            },
            sent_packets=packets,
            sent_bytes=octets,
            keyframe_requests=self.plis_received,
            resent=self.retransmitted,
        )
        self.hist = new_histogram()
        self.delivery_hist = new_histogram()
        self.window_sizes = {}
        self._arrival_ns()  # turns timestamping on before the window's packets arrive
        self.unstamped = 0

    def window_end(self) -> dict[str, Any]:
        window = self.window
        if window is None:
            raise RuntimeError("window_end without window_start")
        seconds = time.monotonic() - window.started
        received = lost = octets = 0
        streams = {"audio": 0, "video": 0}
        per_stream: dict[str, list[Any]] = {}
        video_sizes: dict[str, int] = {}
        for mid, s in self.received.items():
            p0, l0, o0 = window.base.get(mid, (0, 0, 0))
            dp = s.stats.packets - p0
            received += dp
            lost += max(0, s.stats.lost - l0)
            octets += s.stats.octets - o0
            if dp:
                streams[s.kind] += 1
            sizes = "/".join(sorted(self.window_sizes.get(mid, ())))
            per_stream[mid] = [s.kind, dp, max(0, s.stats.lost - l0), sizes]
            if s.kind == "video" and dp:
                video_sizes[sizes or "?"] = video_sizes.get(sizes or "?", 0) + 1
        sent_packets, sent_bytes = self._sent()
        hist = self.hist or new_histogram()
        delivery_hist = self.delivery_hist or new_histogram()
        self.hist = self.delivery_hist = None
        self.window = None
        return {
            "name": self.name,
            "seconds": seconds,
            "received_packets": received,
            "received_bytes": octets,
            "lost_packets": lost,
            "loss_pct": 100.0 * lost / (received + lost) if received + lost else 0.0,
            "audio_streams": streams["audio"],
            "video_streams": streams["video"],
            "sent_packets": sent_packets - window.sent_packets,
            "sent_bytes": sent_bytes - window.sent_bytes,
            "keyframe_requests": self.plis_received - window.keyframe_requests,
            "resent": self.retransmitted - window.resent,
            "unstamped": self.unstamped,
            "streams": per_stream,
            "video_sizes": video_sizes,
            "hist": hist,
            "delivery_hist": delivery_hist,
        }

    def join_ms(self) -> float | None:
        if self.first_frame_at is None:
            return None
        return (self.first_frame_at - self.join_started) * 1000


async def _no_signaling(sdp: str) -> str:
    raise RuntimeError("an answering bot does not make offers")


class AnsweringBot(BenchBot):
    """Receives only, and answers an offer made by the server (a Janus subscriber)."""

    def __init__(self, name: str, ice_addresses: tuple[str, ...]) -> None:
        super().__init__(
            name,
            _no_signaling,
            publish_audio=False,
            publish_video=False,
            audio_slots=0,
            video_slots=0,
            decode=False,
            ice_addresses=ice_addresses,
        )

    async def answer(self, offer_sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        for t in self.pc.getTransceivers():
            if id(t) not in self._hooked:
                transport.neuter_sender(t.sender)
                transport.neuter_receiver(t.receiver)
                self._hooked.add(id(t))
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        transceivers = self.pc.getTransceivers()
        if self._writer is None:
            dtls = transceivers[0].receiver.transport
            transport.intercept_transport(dtls, self._on_rtp, self._on_rtcp)
            self._writer = transport.RtpWriter(dtls)
            self._rtcp_ssrc = transport.sender_ssrcs(transceivers[0].sender)[0]
        for media in aiortc_sdp.SessionDescription.parse(offer_sdp).media:
            if media.direction not in ("sendonly", "sendrecv") or not media.ssrc:
                continue
            mid = str(media.rtp.muxId)
            stream = self.received.get(mid)
            if stream is None:
                stream = self.received[mid] = ReceivedStream(mid=mid, kind=media.kind)
                if media.kind == "audio":
                    stream.stats = ReceiveStats(clock_rate=48000)
            stream.ssrc = media.ssrc[0].ssrc
            self._by_ssrc[stream.ssrc] = stream
        return str(self.pc.localDescription.sdp)

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)
        if self._failed:
            raise ConnectionError(f"{self.name}: connection failed")


class BenchRoomClient(RoomClient):
    """`RoomClient` whose bot is a `BenchBot` and whose socket timestamps room events."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: dict[int, float] = {}

    def _on_message(self, message: dict[str, Any]) -> None:
        version = message.get("version")
        if isinstance(version, int) and message.get("type") != "snapshot":
            self.arrivals.setdefault(version, time.monotonic())
        super()._on_message(message)

    async def start_media(self, **bot_options: Any) -> Bot:
        bot = BenchBot(self.name, self.signaling, **bot_options)
        bot.join_started = self.joined_at
        self.bot = bot
        async with self._negotiating:  # a renegotiation asked meanwhile waits for this one
            await bot.start(timeout=STEP_TIMEOUT)
        return bot


# --- Janus over HTTP --------------------------------------------------------------------------


class JanusError(Exception):
    pass


class JanusSession:
    """One Janus session over the HTTP transport, with a long-poll task for its events."""

    _transactions = itertools.count(1)

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=STEP_TIMEOUT)
        self.session_id = 0
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._poller: asyncio.Task[None] | None = None
        # handle -> set when Janus says its PeerConnection is up ("webrtcup")
        self._up: dict[int, asyncio.Event] = {}

    def _transaction(self) -> str:
        return f"t{os.getpid()}-{next(self._transactions)}"

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(path, json=body)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        if data.get("janus") == "error":
            raise JanusError(str(data.get("error")))
        return data

    async def create(self) -> None:
        data = await self._post("/janus", {"janus": "create", "transaction": self._transaction()})
        self.session_id = int(data["data"]["id"])
        self._poller = asyncio.create_task(self._poll())

    async def attach(self, plugin: str = "janus.plugin.videoroom") -> int:
        data = await self._post(
            f"/janus/{self.session_id}",
            {"janus": "attach", "plugin": plugin, "transaction": self._transaction()},
        )
        return int(data["data"]["id"])

    async def message(
        self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send a plugin message; return the synchronous answer or the asynchronous event."""
        transaction = self._transaction()
        request: dict[str, Any] = {"janus": "message", "transaction": transaction, "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = future
        try:
            data = await self._post(f"/janus/{self.session_id}/{handle}", request)
            if data.get("janus") != "ack":
                return data
            return await asyncio.wait_for(future, STEP_TIMEOUT)
        finally:
            self._waiting.pop(transaction, None)

    async def _poll(self) -> None:
        while True:
            try:
                response = await self.http.get(
                    f"/janus/{self.session_id}", params={"maxev": 10}, timeout=40
                )
                events = response.json()
            except (httpx.HTTPError, ValueError):
                await asyncio.sleep(0.2)
                continue
            for event in events if isinstance(events, list) else [events]:
                if event.get("janus") == "webrtcup":
                    self._up.setdefault(int(event.get("sender", 0)), asyncio.Event()).set()
                future = self._waiting.get(str(event.get("transaction", "")))
                if future is not None and not future.done() and event.get("janus") == "event":
                    future.set_result(event)

    async def wait_up(self, handle: int, timeout: float) -> None:
        """Until Janus has set the handle's PeerConnection up. A bot's side may be connected
        before Janus's (the DTLS handshake ends on its side first), and until then Janus
        refuses to subscribe anyone to this publisher ("No such feed")."""
        await asyncio.wait_for(self._up.setdefault(handle, asyncio.Event()).wait(), timeout)

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self.session_id:
            with contextlib.suppress(Exception):
                await self._post(
                    f"/janus/{self.session_id}",
                    {"janus": "destroy", "transaction": self._transaction()},
                )
        await self.http.aclose()


def publisher_jsep(offer_sdp: str) -> dict[str, Any]:
    """The JSEP of a publisher's offer to Janus. A simulcast offer (`with_simulcast`) lists its
    ``a=rid`` lines lowest layer first; Janus 1.1.2 assumes highest first unless the JSEP says
    ``rid_order: "lmh"`` (janus.c), and numbers the layers 0 (lowest) to 2 (highest) for the
    subscribers' ``substream`` from that order."""
    jsep: dict[str, Any] = {"type": "offer", "sdp": offer_sdp}
    rids = [
        line.split(":", 1)[1].split()[0]
        for line in offer_sdp.splitlines()
        if line.startswith("a=rid:") and line.endswith(" send")
    ]
    if rids:
        if rids != list(LAYER_RIDS[: len(rids)]):
            raise ValueError(f"simulcast layers not listed lowest first: {rids}")
        jsep["rid_order"] = "lmh"
    return jsep


def plugin_data(event: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = event.get("plugindata", {}).get("data", {})
    if "error" in data:
        raise JanusError(f"{data.get('error_code')}: {data['error']}")
    return data


@dataclass
class JanusPeer:
    session: JanusSession
    publisher: BenchBot
    subscriber: AnsweringBot | None = None


# --- the bot process --------------------------------------------------------------------------


class BotProcess:
    def __init__(self, ice_addresses: tuple[str, ...]) -> None:
        self.ice_addresses = ice_addresses
        self.clients: dict[str, BenchRoomClient] = {}
        self.janus: dict[str, JanusPeer] = {}
        self.cpu_start = os.times()

    def bots(self) -> list[BenchBot]:
        found: list[BenchBot] = []
        for client in self.clients.values():
            if isinstance(client.bot, BenchBot):
                found.append(client.bot)
        for peer in self.janus.values():
            if peer.subscriber is not None:
                found.append(peer.subscriber)
        return found

    def publishers(self) -> list[BenchBot]:
        return [p.publisher for p in self.janus.values()]

    async def room_join(self, spec: dict[str, Any]) -> None:
        client = BenchRoomClient(
            spec["url"], spec["token"], name=spec["name"], api_token=spec.get("api_token")
        )
        self.clients[spec["name"]] = client
        try:
            await client.join()
            if not await client.wait_until(lambda: client.admitted, timeout=STEP_TIMEOUT):
                raise RuntimeError(f"{spec['name']} not admitted: {client.lobby_reason}")
            await client.start_media(
                variant=spec["variant"],
                audio_level=spec["level"],
                audio_slots=spec["audio_slots"],
                video_slots=spec["video_slots"],
                decode=False,
                pace=True,
                ice_addresses=self.ice_addresses,
                simulcast=bool(spec.get("simulcast")),
            )
        except BaseException:
            # A bot that could not join leaves the room (the benchmark goes on without it).
            del self.clients[spec["name"]]
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 10)
            raise

    async def janus_publish(self, spec: dict[str, Any]) -> None:
        session = JanusSession(spec["url"])
        started = time.monotonic()
        await session.create()
        handle = await session.attach()

        async def signaling(sdp: str) -> str:
            body = {
                "request": "joinandconfigure",
                "ptype": "publisher",
                "room": spec["room"],
                "id": spec["feed"],
                "display": spec["name"],
                "audio": True,
                "video": True,
            }
            event = await session.message(handle, body, publisher_jsep(sdp))
            plugin_data(event)
            jsep = event.get("jsep")
            if not jsep:
                raise JanusError(f"no answer from Janus: {event}")
            return str(jsep["sdp"])

        bot = BenchBot(
            spec["name"],
            signaling,
            variant=spec["variant"],
            audio_level=spec["level"],
            audio_slots=0,
            video_slots=0,
            decode=False,
            pace=True,
            ice_addresses=self.ice_addresses,
            simulcast=bool(spec.get("simulcast")),
        )
        bot.join_started = started
        self.janus[spec["name"]] = JanusPeer(session, bot)
        await bot.start(timeout=STEP_TIMEOUT)
        await session.wait_up(handle, STEP_TIMEOUT)

    async def janus_subscribe(self, spec: dict[str, Any]) -> None:
        peer = self.janus[spec["name"]]
        started = time.monotonic()
        handle = await peer.session.attach()
        substreams = spec.get("video_substreams") or [None] * len(spec["video_feeds"])
        streams = [{"feed": f, "mid": spec["audio_mid"]} for f in spec["audio_feeds"]] + [
            {"feed": f, "mid": spec["video_mid"]}
            | ({} if substream is None else {"substream": substream})
            for f, substream in zip(spec["video_feeds"], substreams, strict=True)
        ]
        event = await peer.session.message(
            handle,
            {"request": "join", "ptype": "subscriber", "room": spec["room"], "streams": streams},
        )
        plugin_data(event)
        jsep = event.get("jsep")
        if not jsep or jsep.get("type") != "offer":
            raise JanusError(f"no subscriber offer from Janus: {event}")
        bot = AnsweringBot(spec["name"] + "/sub", self.ice_addresses)
        bot.join_started = started
        peer.subscriber = bot
        answer = await bot.answer(str(jsep["sdp"]))
        started_event = await peer.session.message(
            handle, {"request": "start"}, {"type": "answer", "sdp": answer, "trickle": False}
        )
        plugin_data(started_event)
        await bot.wait_connected(STEP_TIMEOUT)

    def window_start(self) -> None:
        self.cpu_start = os.times()
        for bot in self.bots() + self.publishers():
            bot.window_start()

    def window_end(self) -> dict[str, Any]:
        now = os.times()
        hist = new_histogram()
        delivery_hist = new_histogram()
        receivers = []
        sent_packets = sent_bytes = keyframe_requests = resent = 0
        for bot in self.bots():
            result = bot.window_end()
            hist_merge(hist, result.pop("hist"))
            hist_merge(delivery_hist, result.pop("delivery_hist"))
            sent_packets += result["sent_packets"]
            sent_bytes += result["sent_bytes"]
            keyframe_requests += result["keyframe_requests"]
            resent += result["resent"]
            receivers.append(result)
        for bot in self.publishers():  # Janus: publishing and receiving are two peers
            result = bot.window_end()
            sent_packets += result["sent_packets"]
            sent_bytes += result["sent_bytes"]
            keyframe_requests += result["keyframe_requests"]
            resent += result["resent"]
        return {
            "receivers": receivers,
            "hist": hist,
            "delivery_hist": delivery_hist,
            "cpu_s": (now.user - self.cpu_start.user) + (now.system - self.cpu_start.system),
            "sent_packets": sent_packets,
            "sent_bytes": sent_bytes,
            "keyframe_requests": keyframe_requests,
            "resent": resent,
        }

    def join_times(self) -> dict[str, float | None]:
        return {bot.name: bot.join_ms() for bot in self.bots()}

    async def lock_toggles(self, name: str, count: int, pause: float) -> list[tuple[float, int]]:
        """The host toggles the room lock; (send time, event version) per toggle."""
        host = self.clients[name]
        samples: list[tuple[float, int]] = []
        locked = False
        for _ in range(count):
            locked = not locked
            before = set(host.arrivals)
            sent = time.monotonic()
            await host.send({"type": "room.lock", "locked": locked})
            ok = await host.wait_until(functools.partial(_new_event, host, before), 5.0)
            if ok:
                samples.append((sent, max(set(host.arrivals) - before)))
            await asyncio.sleep(pause)
        return samples

    def arrivals(self) -> dict[str, dict[int, float]]:
        return {name: dict(c.arrivals) for name, c in self.clients.items()}

    async def leave(self) -> None:
        clients, self.clients = list(self.clients.values()), {}
        peers, self.janus = list(self.janus.values()), {}
        for client in clients:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 10)
        for peer in peers:
            for bot in (peer.subscriber, peer.publisher):
                if bot is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(bot.close(), 10)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(peer.session.close(), 10)


def _new_event(client: BenchRoomClient, before: set[int]) -> bool:
    return bool(set(client.arrivals) - before)


def bot_process(conn: Connection, ice_addresses: tuple[str, ...]) -> None:
    """Entry point of a bot process (multiprocessing, spawn)."""
    import aioice.turn
    import uvloop

    aioice.turn.UDP_SOCKET_BUFFER_SIZE = BOT_RCVBUF  # read by aioice.ice for host sockets
    os.sched_setscheduler(0, BOT_SCHED_POLICY, os.sched_param(0))
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    use_host_addresses(ice_addresses)

    async def serve() -> None:
        state = BotProcess(ice_addresses)
        loop = asyncio.get_running_loop()
        handlers: dict[str, Callable[..., Any]] = {
            "room_join": state.room_join,
            "janus_publish": state.janus_publish,
            "janus_subscribe": state.janus_subscribe,
            "window_start": state.window_start,
            "window_end": state.window_end,
            "join_times": state.join_times,
            "lock_toggles": state.lock_toggles,
            "arrivals": state.arrivals,
            "leave": state.leave,
        }
        while True:
            request = await loop.run_in_executor(None, conn.recv)
            command, args = request[0], request[1:]
            if command == "exit":
                await state.leave()
                conn.send(("ok", None))
                return
            try:
                result = handlers[command](*args)
                if asyncio.iscoroutine(result):
                    result = await result
                conn.send(("ok", result))
            except Exception as exc:
                logger.exception("bot process: %s failed", command)
                who = args[0].get("name", "") if args and isinstance(args[0], dict) else ""
                conn.send(("error", f"{command} {who}: {type(exc).__name__}: {exc}"))

    uvloop.run(serve())


class BotPool:
    """The benchmark's side: N bot processes (spawned), each with its own pipe."""

    def __init__(self, processes: int, ice_addresses: tuple[str, ...]) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        for _ in range(processes):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=bot_process, args=(child, ice_addresses), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)

    @property
    def pids(self) -> list[int]:
        return [int(p.pid) for p in self.procs]

    def call(self, index: int, *request: Any, timeout: float = 60.0) -> Any:
        conn = self.conns[index]
        conn.send(request)
        if not conn.poll(timeout):
            raise TimeoutError(f"bot process {index}: no answer to {request[0]} in {timeout}s")
        status, value = conn.recv()
        if status != "ok":
            raise RuntimeError(str(value))
        return value

    def broadcast(self, *request: Any, timeout: float = 60.0) -> list[Any]:
        for conn in self.conns:
            conn.send(request)
        results: list[Any] = []
        errors: list[Any] = []
        for index, conn in enumerate(self.conns):
            if not conn.poll(timeout):
                raise TimeoutError(f"bot process {index}: no answer to {request[0]}")
            status, value = conn.recv()
            (results if status == "ok" else errors).append(value)
        if errors:
            raise RuntimeError("; ".join(map(str, errors)))
        return results

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(Exception):
                conn.send(("exit",))
        for index, proc in enumerate(self.procs):
            with contextlib.suppress(Exception):
                if self.conns[index].poll(15):
                    self.conns[index].recv()
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)

"""Impaired-network benchmark: publishers and subscribers behind shaped links.

    PYTHONPATH=. .venv/bin/python -m bench.impaired [--scenario loss|slow|drop] [--runs 2] ...

Three scenarios (``--scenario``, ``loss`` by default); the ``slow`` and ``drop`` ones are
described at ``slow_scenario`` and ``drop_scenario``. ``loss``:

The SFU runs in a child process (``rooms.mediabot.bot._sfu_child``: the SFU's own code on
uvloop, answering offers over a pipe; no web stack). ``--people`` bots join one room, each
publishing audio and a VP8 clip of its own and receiving everyone else's video, reassembled
by sequence number with a 0.3 s jitter buffer (counting the frames a decoder could decode;
libvpx itself is left out, all bots share one process). The first bot
publishes through ``rooms.mediabot.shaper``: ``--loss`` random loss on its way to the SFU
(nothing on the way back). The scenario runs twice, with the SFU's NACKs toward publishers
on and off (``SfuConfig.nack_upstream``).

Per run, after every subscriber has decoded frames from every publisher, each publisher sends
``--frames`` video frames and then pauses; the bench waits until decoding stops (bounded) and
reports, per publisher, the share of its frames each subscriber could decode (complete, in
order, references intact: ``frames_decodable``; worst and mean): the lossy one's against the
others' (which should be unaffected). Also the loss the shaper made,
the sequence numbers the SFU asked for and the publisher resent, and the SFU's CPU.

Writes ``bench/results/impaired-<scenario>-<UTC timestamp>.json`` (``impaired-<stamp>`` for
``loss``).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import datetime as dt
import itertools
import json
import multiprocessing
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from rooms.mediabot.bot import Bot, ReceivedStream, _sfu_child
from rooms.mediabot.shaper import LinkSpec, UdpShaper, shape_signaling
from rooms.sfu.config import SfuConfig
from rooms.sfu.ice import use_host_addresses

REPO_ROOT = Path(__file__).resolve().parents[1]
ADDRESSES = ("127.0.0.1",)
LOSSY = 0  # the variant (and index) of the publisher behind the lossy link


def decoded_by_origin(bot: Bot) -> dict[int, int]:
    """Frames a decoder got, complete and with intact references (``frames_decodable``), per
    publisher (a slot carries one publisher all along here)."""
    out: dict[int, int] = {}
    for stream in bot.streams("video"):
        origin = next((o for o, _ in stream.origins.most_common() if o is not None), None)
        if origin is not None:
            out[origin] = out.get(origin, 0) + stream.frames_decodable
    return out


async def scenario(args: argparse.Namespace, nack: bool) -> dict[str, Any]:
    config = SfuConfig(ice_addresses=ADDRESSES, last_n=9, nack_upstream=nack)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_sfu_child, args=(child, config), daemon=True)
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

    shaper = await UdpShaper.start(up=LinkSpec(loss=args.loss), seed=args.seed)
    bots: list[Bot] = []
    others = args.people - 1
    try:
        for i in range(args.people):

            async def signaling(sdp: str, pid: str = f"p{i}") -> str:
                return str(await call("offer", pid, sdp))

            bot = Bot(
                f"p{i}",
                shape_signaling(signaling, shaper) if i == LOSSY else signaling,
                variant=i,
                audio_level=30 + i,
                audio_slots=min(3, others),
                video_slots=others,
                decode=False,  # frames_decodable needs no decoder; one process runs all bots
                pace=True,
                ice_addresses=ADDRESSES,
            )
            await bot.start(timeout=30)
            bots.append(bot)

        def everyone_decodes() -> bool:
            return all(
                all(decoded_by_origin(bot).get(j, 0) >= 5 for j in range(args.people) if j != i)
                for i, bot in enumerate(bots)
            )

        if not await bots[-1].wait_until(everyone_decodes, timeout=120):
            raise RuntimeError("not every subscriber decoded every publisher")
        await call("reset")
        lost0, offered0 = shaper.up_link.lost, shaper.up_link.offered
        sent0 = [bot.frames_sent for bot in bots]
        got0 = [decoded_by_origin(bot) for bot in bots]
        await bots[0].wait_until(
            lambda: all(b.frames_sent - s >= args.frames for b, s in zip(bots, sent0, strict=True)),
            timeout=args.frames / 15 * 3 + 30,
        )
        for bot in bots:
            bot.video_paused = True
        sent = [bot.frames_sent - s for bot, s in zip(bots, sent0, strict=True)]
        report = await call("report")
        if not isinstance(report, tuple):
            raise RuntimeError(f"unexpected report from the SFU process: {report!r}")
        user, system, forwarded = float(report[0]), float(report[1]), int(report[2])

        def decoded_now() -> int:
            return sum(sum(decoded_by_origin(bot).values()) for bot in bots)

        # Let the last frames (and their repairs) arrive: wait until two readings a
        # jitter buffer's wait apart agree, at most 5 s.
        for _ in range(10):
            before = decoded_now()
            await asyncio.sleep(0.5)
            if decoded_now() == before:
                break
        shares: dict[int, list[float]] = {j: [] for j in range(args.people)}
        for i, bot in enumerate(bots):
            now = decoded_by_origin(bot)
            for j in range(args.people):
                if j != i:
                    got = now.get(j, 0) - got0[i].get(j, 0)
                    shares[j].append(min(1.0, got / sent[j]) if sent[j] else 0.0)
        others_shares = [s for j, v in shares.items() if j != LOSSY for s in v]
        offered = shaper.up_link.offered - offered0
        return {
            "nack_upstream": nack,
            "people": args.people,
            "loss_set": args.loss,
            "loss_made_pct": round(100 * (shaper.up_link.lost - lost0) / offered, 2)
            if offered
            else None,
            "frames_per_publisher": min(sent),
            "lossy_decoded_pct_worst": round(100 * min(shares[LOSSY]), 2),
            "lossy_decoded_pct_mean": round(100 * statistics.mean(shares[LOSSY]), 2),
            "others_decoded_pct_worst": round(100 * min(others_shares), 2),
            "others_decoded_pct_mean": round(100 * statistics.mean(others_shares), 2),
            "sfu_nacked_seqs": bots[LOSSY].nacked,
            "publisher_resent": bots[LOSSY].retransmitted,
            "skipped_frames_at_subscribers": sum(
                s.frames_skipped for bot in bots[1:] for s in bot.streams("video")
            ),
            "sfu_cpu_s": round(user + system, 2),
            "sfu_forwarded_packets": forwarded,
        }
    finally:
        for bot in bots:
            await bot.close()
        shaper.close()
        with contextlib.suppress(Exception):  # the child may be gone already
            await asyncio.wait_for(call("close"), 10)
        process.join(5)
        if process.is_alive():
            process.terminate()


# --- slow subscriber and link drop --------------------------------------------------------


PLAYOUT_DELAY = 0.3
"""How long after the earliest moment its RTP time allows a frame is played out (the bot's
jitter buffer also waits this long for a missing packet)."""
PLAYOUT_WINDOW = 10.0
"""The earliest moment is judged from the frames of this many seconds before."""


def playout_times(arrivals: Sequence[float], stamps: Sequence[int]) -> list[float]:
    """When a jitter buffer plays each frame out: ``PLAYOUT_DELAY`` after the earliest moment
    its RTP timestamp allows (the smallest transit, arrival less RTP time, of the frames of the
    last ``PLAYOUT_WINDOW`` s), or when it arrives if later; never before the frame before.
    A steady delay (a standing queue) is absorbed within the window, as a browser's jitter
    buffer adapts; a frame that comes later than its turn plays late, and the gap before it
    may be a freeze."""
    unwrapped: list[float] = []
    total = 0
    for n, stamp in enumerate(stamps):
        if n:
            step = (stamp - stamps[n - 1]) & 0xFFFFFFFF
            total += step - (1 << 32) if step >= 1 << 31 else step
        unwrapped.append(total / 90000)
    transit = [a - t for a, t in zip(arrivals, unwrapped, strict=True)]
    out: list[float] = []
    first = 0
    for n, arrival in enumerate(arrivals):
        while arrivals[first] < arrival - PLAYOUT_WINDOW:
            first += 1
        due = min(transit[first : n + 1]) + unwrapped[n] + PLAYOUT_DELAY
        out.append(max(arrival, due, out[-1] if out else arrival))
    return out


PAUSE = 5.0
"""A gap this long is a pause (WebRTC's ``totalPausesDuration``), not a freeze."""


class Gap(NamedTuple):
    """A gap between played frames, as far as it lies in a window."""

    at: float
    """When it began (the window's start if before it)."""
    length: float
    """How much of the window it took."""
    whole: float
    """How long it was in all, from the frame before it (or, when none came before, from when
    the stream began) to the frame after it (or, when none came, as long as it was looked
    at): what tells a freeze from a pause. A stream that was paused before the window and
    resumed a second into it was paused, not frozen for that second; one paused 3 s before
    the window's end and back 4 s after it was paused too."""

    @property
    def pause(self) -> bool:
        return self.whole >= PAUSE


def freezes(
    times: Sequence[float],
    start: float,
    end: float,
    since: float | None = None,
    until: float | None = None,
) -> list[Gap]:
    """The freezes and pauses of one stream in [start, end] (``times``: when its frames were
    played out, in order), as WebRTC's getStats counts them: a gap between frames longer than
    max(3 x mean frame interval, mean + 150 ms), the mean over the window. The window's
    edges count as frames (a stream that stops, or shows nothing, is frozen to the edge).
    getStats counts a gap of ``PAUSE`` or more as a pause, not a freeze (the sender stopped,
    as the SFU does with a video that does not fit): ``Gap.pause``, judged by the whole gap,
    also where it lies partly outside the window. ``since``: when the stream began
    (``ReceivedStream.created``); one that showed nothing before the window has been without
    frames since then (else: since the window's start). ``until``: how long after the window
    its frames were still looked at (``times`` holds those too); a gap still open at the
    window's end lasts to the first frame after it, or at least until then (else: to the
    window's end)."""
    first = bisect.bisect_left(times, start)
    after = bisect.bisect_right(times, end)
    inside = times[first:after]
    created = start if since is None else min(since, start)
    last_look = end if until is None else max(end, until)
    began = times[first - 1] if first else created
    closed = times[after] if after < len(times) else last_look
    points = [began, *inside, closed]
    frames = len(inside)
    if frames < 2:
        return [Gap(start, end - start, closed - points[0])]
    mean = (inside[-1] - inside[0]) / (frames - 1)
    threshold = max(3 * mean, mean + 0.150)
    return [
        Gap(max(a, start), min(b, end) - max(a, start), b - a)
        for a, b in itertools.pairwise(points)
        if b - a > threshold and min(b, end) > max(a, start)
    ]


async def look_past_window() -> float:
    """Let frames arrive for a pause's length after a window, so that a gap still open at
    its end is judged by its whole length (``freezes``' ``until``, returned)."""
    await asyncio.sleep(PAUSE)
    return time.monotonic()


def played(stream: ReceivedStream) -> list[float]:
    return playout_times(list(stream.frame_times), list(stream.frame_stamps))


@dataclass
class Snapshot:
    """What one subscriber had received at a moment, per receive slot."""

    at: float
    octets: dict[str, int]
    lost: dict[str, int]
    sized: dict[str, Counter[tuple[int, int]]]


def snapshot(bot: Bot) -> Snapshot:
    return Snapshot(
        time.monotonic(),
        {mid: s.stats.octets for mid, s in bot.received.items()},
        {mid: s.stats.lost for mid, s in bot.received.items()},
        {mid: Counter(s.sized_bytes) for mid, s in bot.received.items()},
    )


def received(
    bot: Bot, first: Snapshot, last: Snapshot, until: float | None = None
) -> dict[str, Any]:
    """One subscriber's video between two snapshots: its bitrate, and per stream the picture
    size most of its bytes had, its bitrate and its freezes (``until``: as in ``freezes``)."""
    window = last.at - first.at
    streams: list[dict[str, Any]] = []
    for s in bot.streams("video"):
        sized = last.sized[s.mid] - first.sized.get(s.mid, Counter())
        size = sized.most_common(1)[0][0] if sized else (0, 0)
        found = freezes(played(s), first.at, last.at, s.created, until)
        frozen = [gap.length for gap in found if not gap.pause]
        paused = [gap.length for gap in found if gap.pause]
        streams.append(
            {
                "mid": s.mid,
                "size": f"{size[0]}x{size[1]}",
                "kbps": round((last.octets[s.mid] - first.octets.get(s.mid, 0)) * 8 / window / 1e3),
                "frozen_pct": round(100 * sum(frozen) / window, 2),
                "longest_freeze_s": round(max(frozen, default=0.0), 3),
                "paused_pct": round(100 * sum(paused) / window, 2),
                # Each gap (a freeze or a pause) as (s into the window, how long it lasted).
                "gaps": [(round(gap.at - first.at, 2), round(gap.length, 2)) for gap in found],
            }
        )
    frozen_pcts: list[float] = [s["frozen_pct"] for s in streams]
    return {
        "video_kbps": sum(s["kbps"] for s in streams),
        "frozen_pct": round(statistics.mean(frozen_pcts), 2) if streams else None,
        "frozen_pct_worst": max(frozen_pcts, default=None),
        "paused_streams": sum(1 for s in streams if s["paused_pct"] > 0),
        "paused_pct": round(statistics.mean(s["paused_pct"] for s in streams), 2)
        if streams
        else None,
        "sizes": dict(Counter(s["size"] for s in streams)),
        "streams": streams,
    }


class SfuProcess:
    """The SFU in a child process (``_sfu_child``), driven over its pipe."""

    def __init__(self, config: SfuConfig) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._parent, child = ctx.Pipe()
        self.process = ctx.Process(target=_sfu_child, args=(child, config), daemon=True)
        self.process.start()
        self._lock = asyncio.Lock()

    async def call(self, *request: object) -> object:
        loop = asyncio.get_running_loop()
        async with self._lock:
            self._parent.send(request)
            status, value = await loop.run_in_executor(None, self._parent.recv)
        if status != "ok":
            raise RuntimeError(str(value))
        return value

    async def close(self) -> None:
        with contextlib.suppress(Exception):  # the child may be gone already
            await asyncio.wait_for(self.call("close"), 10)
        self.process.join(5)
        if self.process.is_alive():
            self.process.terminate()


async def simulcast_room(sfu: SfuProcess, args: argparse.Namespace, shaper: UdpShaper) -> list[Bot]:
    """``args.people`` simulcast bots in one room, each reporting what it receives (receiver
    reports: ``Bot(feedback=True)``); the last one reaches the SFU through ``shaper``.
    ``args.feedback``: "remb": the shaped bot also sends its receive-side estimate as REMB
    (``Bot(remb=True)``), "remb-all": every bot does, "rr": none does; ``args.keyframe_every``
    and ``args.pace_on_grant`` go to every bot. Returns once every bot decodes every other
    one's video, and the shaped one at least one (bounded; the shaped one may get fewer videos
    than there are when they do not fit its link).

    Why not every bot by default: the others' links are loopback, and all bots share one
    Python process that falls behind with ten of them receiving ~2 Mbit/s each; the packets
    then wait in the sockets, and a delay-based estimate rightly reads that as a queue (with
    "remb-all" the unimpaired ten-person room backs off, to the floor in one run)."""
    people, feedback = args.people, args.feedback
    shaped = people - 1
    bots: list[Bot] = []
    others = people - 1
    for i in range(people):

        async def signaling(sdp: str, pid: str = f"p{i}") -> str:
            return str(await sfu.call("offer", pid, sdp))

        bot = Bot(
            f"p{i}",
            shape_signaling(signaling, shaper) if i == shaped else signaling,
            variant=i,
            audio_level=30 + i,
            audio_slots=min(3, others),
            video_slots=others,
            decode=False,
            pace=True,
            simulcast=True,
            feedback=True,
            remb=feedback == "remb-all" or (feedback == "remb" and i == shaped),
            ice_addresses=ADDRESSES,
            keyframe_every=args.keyframe_every,
            pace_on_grant=args.pace_on_grant,
        )
        bots.append(bot)
        await bot.start(timeout=30)

    def everyone_decodes() -> bool:
        return all(
            all(decoded_by_origin(bot).get(j, 0) >= 5 for j in range(people) if j != i)
            if i != shaped
            else any(n >= 5 for n in decoded_by_origin(bot).values())
            for i, bot in enumerate(bots)
        )

    if not await bots[-1].wait_until(everyone_decodes, timeout=120):
        for bot in bots:
            await bot.close()
        raise RuntimeError("not every subscriber decoded every publisher")
    return bots


async def slow_run(args: argparse.Namespace, rate: float | None) -> dict[str, Any]:
    """One run of the slow-subscriber room: the last bot's downlink at ``rate`` (None: not
    limited, the same relay in its path)."""
    config = SfuConfig(ice_addresses=ADDRESSES, last_n=9)
    sfu = SfuProcess(config)
    shaper = await UdpShaper.start(down=LinkSpec(rate_bps=rate), seed=args.seed)
    slow = args.people - 1
    bots: list[Bot] = []
    try:
        bots = await simulcast_room(sfu, args, shaper)
        await asyncio.sleep(args.settle)
        first = [snapshot(bot) for bot in bots]
        trace: list[int] = []  # the limited subscriber's downlink estimate, each 0.5 s
        while time.monotonic() < first[0].at + args.seconds:
            trace.append(int(str(await sfu.call("downlink", f"p{slow}"))))
            await asyncio.sleep(0.5)
        last = [snapshot(bot) for bot in bots]
        estimate = await sfu.call("downlink", f"p{slow}")
        until = await look_past_window()
        subscribers = [
            received(bot, a, b, until) for bot, a, b in zip(bots, first, last, strict=True)
        ]
        audio = [s.mid for s in bots[slow].streams("audio")]
        return {
            "limit_kbps": None if rate is None else round(rate / 1e3),
            "slow_subscriber": slow,
            "slow_estimate_kbps": round(int(str(estimate)) / 1e3),
            # The join (until the window) and the window apart: what the link's queue dropped
            # then, and the audio packets the limited subscriber lost.
            "link_overflowed": shaper.down_link.overflowed,
            "join_audio_lost": sum(first[slow].lost.get(mid, 0) for mid in audio),
            "window_audio_lost": sum(
                last[slow].lost[mid] - first[slow].lost.get(mid, 0) for mid in audio
            ),
            "estimate_trace_kbps": [round(v / 1e3) for v in trace],
            "subscribers": subscribers,
        }
    finally:
        for bot in bots:
            await bot.close()
        shaper.close()
        await sfu.close()


def slow_summary(limited: dict[str, Any], free: dict[str, Any]) -> dict[str, Any]:
    """The targets' figures from one limited run and the unimpaired run beside it."""
    slow = limited["slow_subscriber"]
    others = [i for i in range(len(free["subscribers"])) if i != slow]
    ratios = [
        limited["subscribers"][i]["video_kbps"] / free["subscribers"][i]["video_kbps"]
        for i in others
    ]
    same_size = [
        a["size"] == b["size"]
        for i in others
        for a, b in zip(
            limited["subscribers"][i]["streams"], free["subscribers"][i]["streams"], strict=True
        )
    ]
    s = limited["subscribers"][slow]
    return {
        "slow_video_kbps": s["video_kbps"],
        "slow_sizes": s["sizes"],
        "slow_frozen_pct": s["frozen_pct"],
        "slow_frozen_pct_worst_stream": s["frozen_pct_worst"],
        "slow_paused_streams": s["paused_streams"],
        "slow_paused_pct": s["paused_pct"],
        "slow_estimate_kbps": limited["slow_estimate_kbps"],
        "slow_link_overflowed": limited["link_overflowed"],
        "slow_join_audio_lost": limited["join_audio_lost"],
        "slow_window_audio_lost": limited["window_audio_lost"],
        "unimpaired_slow_video_kbps": free["subscribers"][slow]["video_kbps"],
        "others_kbps_ratio_min": round(min(ratios), 3),
        "others_kbps_ratio_max": round(max(ratios), 3),
        "others_same_size_pct": round(100 * sum(same_size) / len(same_size), 1),
        "others_frozen_pct_worst": max(limited["subscribers"][i]["frozen_pct"] for i in others),
    }


async def slow_scenario(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Slow subscriber: ``--people`` (10) bots in a room, all publishing simulcast (three
    layers); the last one's downlink limited to ``--rate`` (500 kbit/s, drop-tail queue of
    ``LinkSpec.queue_bytes``). Each run is the limited room and then the same room unlimited,
    back to back: after everyone decodes everyone and ``--settle`` s, ``--seconds`` s are
    measured: per subscriber its video bitrate, the picture size of each stream it receives
    (from the keyframes' VP8 headers) and its frozen time (``freezes``)."""
    rows = []
    for n in range(args.runs):
        limited = await slow_run(args, args.rate)
        free = await slow_run(args, None)
        row = {"run": n, "summary": slow_summary(limited, free), "limited": limited, "free": free}
        print(json.dumps(row["summary"]), flush=True)
        rows.append(row)
    return rows


async def drop_run(args: argparse.Namespace) -> dict[str, Any]:
    config = SfuConfig(ice_addresses=ADDRESSES, last_n=9)
    sfu = SfuProcess(config)
    shaper = await UdpShaper.start(down=LinkSpec(rate_bps=args.rate_before), seed=args.seed)
    dropped = args.people - 1
    pid = f"p{dropped}"
    bots: list[Bot] = []
    try:
        bots = await simulcast_room(sfu, args, shaper)
        bot = bots[dropped]
        await asyncio.sleep(args.settle)
        loop = asyncio.get_running_loop()
        trace: list[tuple[float, int]] = []

        async def poll(until: float) -> None:
            while time.monotonic() < until:
                trace.append((time.monotonic(), int(str(await sfu.call("downlink", pid)))))
                await asyncio.sleep(0.1)

        before = snapshot(bot)
        await poll(time.monotonic() + args.before)
        drop_at = time.monotonic()
        shaper.down_link.set_rate(args.rate_after, loop.time())
        await poll(drop_at + args.after / 2)
        middle = snapshot(bot)
        await poll(drop_at + args.after)
        after = snapshot(bot)
        followed = next(
            (t - drop_at for t, v in trace if t >= drop_at and v <= args.rate_after), None
        )
        until = await look_past_window()
        video = [
            freezes(played(s), before.at, after.at, s.created, until) for s in bot.streams("video")
        ]
        audio_gaps = [
            max(
                (
                    b - a
                    for a, b in itertools.pairwise(
                        [t for t in s.frame_times if before.at <= t <= after.at]
                    )
                ),
                default=after.at - before.at,
            )
            for s in bot.streams("audio")
        ]
        late = received(bot, middle, after, until)  # the second half after the drop
        return {
            "rate_before_kbps": round(args.rate_before / 1e3),
            "rate_after_kbps": round(args.rate_after / 1e3),
            "estimate_before_kbps": round(
                statistics.median(v for t, v in trace if t < drop_at) / 1e3
            ),
            "estimate_followed_s": None if followed is None else round(followed, 2),
            "estimate_end_kbps": round(trace[-1][1] / 1e3),
            "longest_video_freeze_s": round(
                max((gap.length for f in video for gap in f if not gap.pause), default=0.0), 3
            ),
            "longest_video_pause_s": round(
                max((gap.length for f in video for gap in f if gap.pause), default=0.0), 3
            ),
            "video_freezes_at": sorted(
                (round(gap.at - drop_at, 2), round(gap.length, 3)) for f in video for gap in f
            ),
            "video_freezes": sum(len(f) for f in video),
            "longest_audio_gap_s": round(max(audio_gaps, default=0.0), 3),
            "audio_lost_packets": sum(
                after.lost[s.mid] - before.lost.get(s.mid, 0) for s in bot.streams("audio")
            ),
            "link_overflowed": shaper.down_link.overflowed,
            "sizes_after": late["sizes"],
            "video_kbps_after": late["video_kbps"],
            "trace_kbps": [(round(t - drop_at, 2), round(v / 1e3)) for t, v in trace],
        }
    finally:
        for bot in bots:
            await bot.close()
        shaper.close()
        await sfu.close()


async def drop_scenario(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Drop: ``--people`` (4) simulcast bots; the last one's downlink runs at
    ``--rate-before`` (2 Mbit/s) and, ``--before`` s into the measurement, drops to
    ``--rate-after`` (300 kbit/s) for ``--after`` s (``Link.set_rate``). The SFU's downlink
    estimate for that subscriber is read every 0.1 s over the pipe (``"downlink"``): how long
    until it is at or below the new rate; the subscriber's longest video freeze
    (``freezes``) and its audio: the longest gap between received packets and the packets
    lost, over the whole measurement."""
    rows = []
    for n in range(args.runs):
        row = await drop_run(args) | {"run": n}
        print(json.dumps({k: v for k, v in row.items() if k != "trace_kbps"}), flush=True)
        rows.append(row)
    return rows


SUMMARY_KEYS = {
    "slow": (
        "slow_video_kbps",
        "slow_frozen_pct",
        "slow_frozen_pct_worst_stream",
        "slow_paused_streams",
        "slow_paused_pct",
        "slow_estimate_kbps",
        "slow_link_overflowed",
        "slow_join_audio_lost",
        "slow_window_audio_lost",
        "others_kbps_ratio_min",
        "others_kbps_ratio_max",
        "others_same_size_pct",
        "others_frozen_pct_worst",
    ),
    "drop": (
        "estimate_followed_s",
        "longest_video_freeze_s",
        "longest_video_pause_s",
        "longest_audio_gap_s",
        "audio_lost_packets",
        "video_kbps_after",
    ),
}


def medians(scenario: str, rows: list[dict[str, Any]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in SUMMARY_KEYS.get(scenario, ()):
        values = [(row["summary"] if scenario == "slow" else row)[key] for row in rows]
        known = [v for v in values if v is not None]
        out[key] = statistics.median(known) if len(known) == len(values) else None
    return out


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    use_host_addresses(ADDRESSES)
    if args.scenario == "slow":
        return await slow_scenario(args)
    if args.scenario == "drop":
        return await drop_scenario(args)
    rows = []
    for nack in (True, False):
        row = await scenario(args, nack)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=("loss", "slow", "drop"), default="loss")
    parser.add_argument("--people", type=int, help="6 (loss), 10 (slow), 4 (drop)")
    parser.add_argument("--loss", type=float, default=0.05)
    parser.add_argument("--frames", type=int, default=300, help="per publisher (15 fps)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--runs", type=int, default=2, help="slow and drop: runs (medians)")
    parser.add_argument("--rate", type=float, default=500_000, help="slow: downlink bit/s")
    parser.add_argument("--settle", type=float, default=5.0, help="s after everyone decodes")
    parser.add_argument("--seconds", type=float, default=20.0, help="slow: measured s")
    parser.add_argument("--rate-before", type=float, default=2_000_000)
    parser.add_argument("--rate-after", type=float, default=300_000)
    parser.add_argument("--before", type=float, default=5.0, help="drop: s before the drop")
    parser.add_argument("--after", type=float, default=10.0, help="drop: s after the drop")
    parser.add_argument(
        "--feedback",
        choices=("rr", "remb", "remb-all"),
        default="remb",
        help="slow and drop: which bots send REMB besides receiver reports (simulcast_room)",
    )
    parser.add_argument(
        "--keyframe-every",
        type=int,
        choices=range(1, 61),
        default=1,
        metavar="SECONDS",
        help="slow and drop: seconds between the bots' own keyframes (1: the clip every other "
        "benchmark uses; more: closer to a browser, which keys only when asked)",
    )
    parser.add_argument(
        "--pace-on-grant",
        action="store_true",
        help="slow and drop: the bots pace at 2.5 times the SFU's grant (REMB) when that is "
        "more than 2.5 times their clip's bitrate, as a browser paces at 2.5 times its estimate",
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    if args.people is None:
        args.people = {"loss": 6, "slow": 10, "drop": 4}[args.scenario]
    import uvloop

    rows = uvloop.run(run(args))
    summary = medians(args.scenario, rows)
    if summary:
        print("medians:", json.dumps(summary))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    args.out.mkdir(parents=True, exist_ok=True)
    name = "impaired" if args.scenario == "loss" else f"impaired-{args.scenario}"
    path = args.out / f"{name}-{stamp}.json"
    path.write_text(
        json.dumps(
            {"args": vars(args) | {"out": str(args.out)}, "medians": summary, "rows": rows},
            indent=1,
        )
    )
    print(f"written: {path}")


if __name__ == "__main__":
    main()

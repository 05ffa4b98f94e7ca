"""Media benchmark: our SFU on the real stack, side by side with Janus, room sizes 2..50.

    PYTHONPATH=. .venv/bin/python -m bench.media [--sizes 2,5,10,20,35,50] [--duration 20]
    PYTHONPATH=. .venv/bin/python -m bench.media --smoke        # a few seconds, 2 bots

Ours: a scratch PostgreSQL database (`rooms_bench_media`, dropped at the end), Redis database 12
(flushed), one daphne and ONE `manage.py sfu` worker process (SFU_EMBEDDED=false,
SFU_ICE_ADDRESSES=127.0.0.1). Bots run in separate processes (`--bot-processes`, default 2) and
join like browsers: join API, room socket, offer/answer over the socket (`RoomClient`).
Janus: `bench/janus.py`, in a private network namespace, the same bots and media (see there).

Per room size it measures over a fixed window (after the joins and a settle time) the SFU
process's CPU from /proc/<pid>/stat (utime + stime, all threads), its RSS, what the subscribers
received and lost (sequence gaps), the send → receive latency of stamped packets, join time
(join API call → first complete forwarded video frame), and signaling fan-out (host toggles the
room lock; send → arrival on every socket, over the Redis channel layer).

Writes bench/results/media-<timestamp>.json (flat rows; keys documented in KEYS and
bench/README.md), .md (table) and .png (chart). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

from bench.mediabots import BotPool, hist_merge, hist_percentile, new_histogram  # noqa: E402

SIZES = (2, 5, 10, 20, 35, 50)
ICE = ("127.0.0.1",)
SCRATCH_DB = "rooms_bench_media"
REDIS_DB = 12  # tests use 5 and 7, bench/signaling.py 6: concurrent runs must not share
REDIS_DB_SMOKE = 13
AUDIO_SLOTS = 3
# A bot that cannot join (the SFU did not answer its offer in time) is recorded and the size is
# measured with the others; after this many failures the rest do not try.
MAX_JOIN_FAILURES = 3
LAST_N = 9

KEYS: dict[str, str] = {
    "system": "'rooms' (our SFU worker) or 'janus' (Janus VideoRoom); janus_* keys repeat the "
    "same measurement for Janus in the merged rows",
    "participants": "bots meant to be in the room; each publishes audio + video and subscribes",
    "joined": "bots that did join (ours; fewer than participants when joins failed and the "
    "size was measured with the others)",
    "join_failures": "why the others did not join",
    "window_s": "length of the measurement window (s)",
    "sfu_cpu_s": "CPU seconds (user + system, all threads) of the SFU process in the window",
    "sfu_cpu_pct": "sfu_cpu_s / window_s, percent of one core",
    "sfu_rss_mb": "resident memory of the SFU process at the end of the window (MiB)",
    "forwarded_pkts": "RTP packets received by all subscribers in the window (= forwarded and "
    "delivered)",
    "forwarded_pkts_per_s": "forwarded_pkts / window_s",
    "sfu_pkts_per_cpu_s": "forwarded_pkts / sfu_cpu_s: forwarding efficiency",
    "inbound_pkts_per_s": "RTP packets per second all publishers sent to the SFU",
    "keyframe_requests": "PLI / FIR packets all publishers received from the SFU in the window "
    "(a bot answers each by jumping to its clip's next keyframe, in every layer)",
    "resent_pkts": "packets all publishers sent again in the window, asked for by the SFU's NACKs",
    "sent_kbps_per_bot": "what one publisher sent (RTP incl. headers, audio + video), kbit/s",
    "audio_streams_per_sub": "median number of audio streams a subscriber received",
    "video_streams_per_sub": "median number of video streams a subscriber received",
    "loss_pct_median": "median over subscribers of lost / (received + lost), sequence gaps",
    "loss_pct_worst": "worst subscriber's loss, percent",
    "latency_ms_p50": "SFU-added latency, median (ms): the publisher's send stamp (just before "
    "its sendto) → the kernel's arrival time of the forwarded datagram at the subscriber's "
    "socket (SIOCGSTAMPNS), i.e. the moment the SFU's sendto delivered it on loopback; "
    "includes the SFU's socket queueing, scheduling and work, nothing of the receiving bot",
    "latency_ms_p99": "the same, 99th percentile (ms)",
    "join_ms_p50": "join API call (ours) / subscribe request (Janus) → first complete forwarded "
    "video frame, median over bots that had someone to see (ms)",
    "join_ms_p95": "the same, 95th percentile (ms)",
    "signaling_fanout_ms_p50": "host's room.lock → the event on every room socket over Redis, "
    "median of all (event, socket) samples (ms; ours only)",
    "signaling_fanout_ms_p99": "the same, 99th percentile (ms)",
    "sfu_runq_wait_pct": "time the SFU's threads were runnable but waited for a CPU "
    "(/proc/<pid>/task/*/schedstat), percent of the window: the machine, not the SFU",
    "bots_cpu_pct": "CPU of all bot processes in the window, percent of one core",
    "server_cpu_pct": "CPU of daphne (ours) in the window, percent of one core",
    "machine_busy_pct": "whole machine busy in the window, percent of all cores",
    "unstamped_pkts": "received packets without the send-time trailer (should be 0)",
    "subs_missing_streams": "subscribers that received fewer than min(3, people - 1) audio or "
    "min(9, people - 1) video streams in the window (loss from sequence gaps cannot see a "
    "stream that got nothing)",
    "video_sizes": "received video streams (with packets in the window) by the picture size "
    "their keyframes announced in the window, e.g. {'160x120': 36, '320x240': 4}: the "
    "simulcast layer forwarded ('a/b' when a stream switched, '?' when no keyframe came)",
    "sfu_datagrams_per_send": "ours: datagrams the forwarding loop sent per sendmmsg call in "
    "the window (its batches; 1.0 means one system call per datagram)",
    "sfu_same_size_pct": "ours: % of sent datagrams as long as the one before them in the same "
    "sendmmsg batch (one destination): the most UDP GSO could have merged",
    "sfu_udp_drops": "datagrams the kernel dropped at the SFU's UDP sockets in the window "
    "(receive buffer full; /proc/net/udp)",
    "bots_udp_drops": "the same at the bots' sockets: loss caused by the load generator",
    "latency_ms_p90": "SFU-added latency, 90th percentile (ms)",
    "latency_samples": "stamped packets with a kernel arrival time behind the latency figures",
    "delivery_ms_p50": "publisher send stamp → the subscriber bot's handler in user space, "
    "median (ms): adds the time a datagram waited for a busy bot process",
    "delivery_ms_p99": "the same, 99th percentile (ms)",
    "errors": "what went wrong at this size (empty when nothing)",
    "pkts_per_cpu_ratio": "sfu_pkts_per_cpu_s / janus_sfu_pkts_per_cpu_s (>1: ours cheaper); "
    "empty when either row is generator_bound",
    "generator_bound": "the bots' sockets dropped datagrams in the window: the generator fell "
    "behind, so this row's loss, packet counts and cost describe the bots, not the SFU",
}


# --- /proc ------------------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_runq_wait_s(pid: int) -> float:
    """Seconds the process's threads spent runnable but waiting for a CPU (schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int((task / "schedstat").read_text().split()[1])
    return total / 1e9


def proc_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def socket_inodes(pids: list[int]) -> set[str]:
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    return inodes


def udp_drops(pids: list[int]) -> dict[str, int]:
    """Datagrams the kernel dropped (receive buffer full), per UDP socket of these processes."""
    inodes = socket_inodes(pids)
    drops: dict[str, int] = {}
    for name in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError), open(name) as f:
            for line in list(f)[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    drops[fields[9]] = int(fields[-1])
    return drops


def drops_since(before: dict[str, int], pids: list[int]) -> int:
    return sum(n - before.get(inode, 0) for inode, n in udp_drops(pids).items())


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    total = sum(values[:8])
    idle = values[3] + values[4]
    return total - idle, total


# --- statistics -------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, int(-(-len(ordered) * p // 100)) - 1)]


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def start_profile(pid: int, duration: float, path: Path | None) -> subprocess.Popen[bytes] | None:
    """``perf record`` of ``pid`` (call graphs, 499 Hz) over the window, written to ``path``
    (``BENCH_PROFILE=/tmp/p`` gives /tmp/p-<size>.data; ``perf report -i`` reads it). The
    sampling costs the profiled process a little CPU of its own."""
    perf = shutil.which("perf")
    if path is None or perf is None:
        return None
    sleep = ("sleep", str(duration))
    return subprocess.Popen(  # noqa: S603 - a fixed command line
        [perf, "record", "-q", "-g", "-F", "499", "-p", str(pid), "-o", str(path), "--", *sleep],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def measure_window(
    pool: BotPool,
    duration: float,
    sfu_pid: int,
    server_pids: list[int],
    people: int,
    *,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One measurement window: CPU from /proc around it, the bots' counts inside it."""
    sfu0 = proc_cpu_s(sfu_pid)
    sfu_wait0 = proc_runq_wait_s(sfu_pid)
    servers0 = sum(proc_cpu_s(p) for p in server_pids)
    bots0 = sum(proc_cpu_s(p) for p in pool.pids)
    busy0, total0 = machine_ticks()
    sfu_drops0, bot_drops0 = udp_drops([sfu_pid]), udp_drops(pool.pids)
    t0 = time.monotonic()
    perf = start_profile(sfu_pid, duration, profile)
    pool.broadcast("window_start")
    time.sleep(duration)
    results = pool.broadcast("window_end")
    if perf is not None:
        perf.wait()
    seconds = time.monotonic() - t0
    sfu_cpu = proc_cpu_s(sfu_pid) - sfu0
    sfu_wait = proc_runq_wait_s(sfu_pid) - sfu_wait0
    servers = sum(proc_cpu_s(p) for p in server_pids) - servers0
    bots = sum(proc_cpu_s(p) for p in pool.pids) - bots0
    busy1, total1 = machine_ticks()
    sfu_drops = drops_since(sfu_drops0, [sfu_pid])
    bot_drops = drops_since(bot_drops0, pool.pids)
    hist = new_histogram()
    delivery_hist = new_histogram()
    receivers: list[dict[str, Any]] = []
    sent_packets = sent_bytes = keyframe_requests = resent = 0
    for result in results:
        hist_merge(hist, result["hist"])
        hist_merge(delivery_hist, result["delivery_hist"])
        receivers += result["receivers"]
        sent_packets += result["sent_packets"]
        sent_bytes += result["sent_bytes"]
        keyframe_requests += result["keyframe_requests"]
        resent += result["resent"]
    forwarded = sum(r["received_packets"] for r in receivers)
    video_sizes: dict[str, int] = {}
    for r in receivers:
        for size, count in r["video_sizes"].items():
            video_sizes[size] = video_sizes.get(size, 0) + count
    losses = [r["loss_pct"] for r in receivers]
    # Loss is counted from sequence gaps, so a stream that received nothing shows none: count
    # the subscribers that got fewer streams than they should have.
    want_audio, want_video = min(AUDIO_SLOTS, people - 1), min(LAST_N, people - 1)
    short = sum(
        1 for r in receivers if r["audio_streams"] < want_audio or r["video_streams"] < want_video
    )
    publishers = max(1, len(receivers))
    if os.environ.get("BENCH_DUMP"):  # one JSON line per window: ours, then Janus, by size
        with Path(os.environ["BENCH_DUMP"]).open("a") as dump:
            dump.write(json.dumps({"people": people, "receivers": receivers}, default=str) + "\n")
    return {
        "window_s": round(seconds, 2),
        "sfu_cpu_s": round(sfu_cpu, 2),
        "sfu_cpu_pct": round(100 * sfu_cpu / seconds, 1),
        "sfu_rss_mb": proc_rss_mb(sfu_pid),
        "sfu_runq_wait_pct": round(100 * sfu_wait / seconds, 1),
        "forwarded_pkts": forwarded,
        "forwarded_pkts_per_s": round(forwarded / seconds),
        "sfu_pkts_per_cpu_s": round(forwarded / sfu_cpu) if sfu_cpu > 0 else None,
        "inbound_pkts_per_s": round(sent_packets / seconds),
        "keyframe_requests": keyframe_requests,
        "resent_pkts": resent,
        "sent_kbps_per_bot": round(sent_bytes * 8 / seconds / 1000 / publishers, 1),
        "audio_streams_per_sub": statistics.median(r["audio_streams"] for r in receivers)
        if receivers
        else 0,
        "video_streams_per_sub": statistics.median(r["video_streams"] for r in receivers)
        if receivers
        else 0,
        "loss_pct_median": rounded(statistics.median(losses) if losses else None, 3),
        "loss_pct_worst": rounded(max(losses) if losses else None, 3),
        "latency_ms_p50": hist_percentile(hist, 50),
        "latency_ms_p99": hist_percentile(hist, 99),
        "bots_cpu_pct": round(100 * bots / seconds, 1),
        "server_cpu_pct": round(100 * servers / seconds, 1),
        "machine_busy_pct": round(100 * (busy1 - busy0) / max(1, total1 - total0), 1),
        "unstamped_pkts": sum(r["unstamped"] for r in receivers),
        "subs_missing_streams": short,
        "video_sizes": dict(sorted(video_sizes.items())),
        "sfu_udp_drops": sfu_drops,
        "bots_udp_drops": bot_drops,
        "generator_bound": bool(bot_drops),
        "latency_ms_p90": hist_percentile(hist, 90),
        "latency_samples": sum(hist),
        "delivery_ms_p50": hist_percentile(delivery_hist, 50),
        "delivery_ms_p99": hist_percentile(delivery_hist, 99),
    }


def join_stats(pool: BotPool, skip: set[str]) -> dict[str, Any]:
    times: list[float] = []
    missing = 0
    for result in pool.broadcast("join_times"):
        for name, ms in result.items():
            if name in skip:
                continue
            if ms is None:
                missing += 1
            else:
                times.append(ms)
    return {
        "join_ms_p50": rounded(percentile(times, 50), 1),
        "join_ms_p95": rounded(percentile(times, 95), 1),
        "join_no_frame": missing,
    }


def level(i: int) -> int:
    """Distinct audio levels (dBov, smaller is louder): bot 0 loudest."""
    return min(127, 10 + 2 * i)


# --- our stack --------------------------------------------------------------------------------


class OurStack:
    def __init__(self, bot_processes: int, *, smoke: bool = False) -> None:
        from bench import signaling as sig
        from tests.rooms.live_harness import Daphne, redis_available, redis_url

        self.sig = sig
        self.admin_url = sig.admin_database_url()
        # The smoke run (part of the test suite) may overlap a full run or another checkout's
        # tests: its own database (per process) and Redis database.
        # BENCH_MEDIA_DB: another checkout's run at the same time needs a database of its own.
        scratch = os.environ.get("BENCH_MEDIA_DB", SCRATCH_DB)
        self.db_name = f"{scratch}_smoke_{os.getpid()}" if smoke else scratch
        self.db_url = sig.with_database(self.admin_url, self.db_name)
        self.layer_url = redis_url(REDIS_DB_SMOKE if smoke else REDIS_DB)
        if not redis_available(self.layer_url):
            raise RuntimeError(f"Redis does not answer at {self.layer_url}")
        # A private redis-server when there is one: other checkouts' tests on the shared Redis
        # (pauses, flushes, their own workers in the placement store) must not reach this run.
        self.redis: subprocess.Popen[bytes] | None = None
        server = shutil.which("redis-server")
        if server is not None:
            from tests.rooms.live_harness import free_port

            port = free_port()
            self.redis = subprocess.Popen(  # noqa: S603 - a fixed command line
                [
                    server,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--protected-mode",
                    "yes",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.layer_url = f"redis://127.0.0.1:{port}/0"
            deadline = time.monotonic() + 10
            while not redis_available(self.layer_url):
                if self.redis.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the private redis-server did not start")
                time.sleep(0.1)
        self.bot_processes = bot_processes
        self.worker_id = f"bench-{os.getpid()}"
        self.daphne: Any = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.worker_log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="bench-sfu-", suffix=".log", delete=False
        )
        self.pool: BotPool | None = None
        self._daphne_cls = Daphne

    def send_counters(self) -> tuple[float, float, float]:
        """(sendmmsg calls, datagrams sent, datagrams as long as the one before them in their
        batch) so far, from the worker's /metrics."""
        url = f"http://127.0.0.1:{self.health_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as page:
            text = page.read().decode()
        values = {}
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name.startswith("rooms_sfu_send_"):
                values[name] = float(value)
        return (
            values["rooms_sfu_send_calls_total"],
            values["rooms_sfu_send_datagrams_total"],
            values["rooms_sfu_send_same_size_total"],
        )

    def start(self) -> None:
        from tests.rooms.live_harness import flush_redis

        self.sig.recreate_database(self.admin_url, self.db_name, create=True)
        flush_redis(self.layer_url)
        self.sig.setup_django(self.db_url, self.layer_url)
        env = {
            "SFU_EMBEDDED": "false",
            "SFU_ICE_ADDRESSES": ",".join(ICE),
            "SFU_LAST_N": str(LAST_N),
            "SFU_AUDIO_SLOTS": str(AUDIO_SLOTS),
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        }
        self.daphne = self._daphne_cls(
            "media", database_url=self.db_url, redis_url=self.layer_url, **env
        )
        self.daphne.start()
        self.daphne.wait_ready()
        from tests.rooms.live_harness import free_port

        self.health_port = free_port()
        self.worker = subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                sys.executable,
                str(REPO_ROOT / "manage.py"),
                "sfu",
                "--worker-id",
                self.worker_id,
                "--health-port",
                str(self.health_port),
            ],
            cwd=REPO_ROOT,
            env=self.daphne.env,
            stdin=subprocess.DEVNULL,
            stdout=self.worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while b"starting" not in Path(self.worker_log.name).read_bytes():
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"SFU worker did not start:\n{self.worker_tail()}")
            time.sleep(0.1)
        time.sleep(1.5)  # first heartbeat into the placement store
        self.pool = BotPool(self.bot_processes, ICE)

    def worker_tail(self) -> str:
        return Path(self.worker_log.name).read_bytes()[-3000:].decode("utf-8", "replace")

    def create_room(self, n: int) -> tuple[str, list[str]]:
        from django.contrib.auth.hashers import make_password
        from rest_framework.authtoken.models import Token

        from accounts.models import User
        from rooms import services

        unusable = make_password(None)
        users = User.objects.bulk_create(
            User(username=f"m{n}_{i:02d}", display_name=f"Bot {i}", password=unusable)
            for i in range(n)
        )
        tokens = Token.objects.bulk_create(Token(user=u, key=Token.generate_key()) for u in users)
        room = services.room_create(
            host=users[0], title=f"Media bench {n}", capacity=50, waiting_room=False
        )
        return room.token, [t.key for t in tokens]

    def run_size(
        self, n: int, duration: float, settle: float, toggles: int, *, simulcast: bool = False
    ) -> dict[str, Any]:
        if self.pool is None or self.worker is None:
            raise RuntimeError("the stack is not started")
        pool = self.pool
        procs = len(pool.conns)
        token, keys = self.create_room(n)
        row: dict[str, Any] = {"system": "rooms", "participants": n}
        failures: list[str] = []
        joined = 0
        try:
            for i in range(n):
                if len(failures) >= MAX_JOIN_FAILURES:
                    break
                spec = {
                    "name": f"b{i}",
                    "url": self.daphne.url,
                    "token": token,
                    "api_token": keys[i],
                    "variant": i % 4,
                    "level": level(i),
                    "audio_slots": min(AUDIO_SLOTS, n - 1),
                    "video_slots": min(LAST_N, n - 1),
                    "simulcast": simulcast,
                }
                try:
                    pool.call(i % procs, "room_join", spec)
                    joined += 1
                except (RuntimeError, TimeoutError) as exc:
                    failures.append(str(exc))
            if joined < 2:
                raise RuntimeError("; ".join(failures))
            row |= {"joined": joined, "join_failures": "; ".join(failures)}
            if failures:
                row["errors"] = f"{joined} of {n} joined, then: {failures[0]}"
            time.sleep(settle)
            profile = os.environ.get("BENCH_PROFILE")
            sends0 = self.send_counters()
            row |= measure_window(
                pool,
                duration,
                self.worker.pid,
                [self.daphne.process.pid],
                joined,
                profile=Path(f"{profile}-{n}.data") if profile else None,
            )
            sends = [b - a for a, b in zip(sends0, self.send_counters(), strict=True)]
            row["sfu_datagrams_per_send"] = round(sends[1] / sends[0], 2) if sends[0] else None
            row["sfu_same_size_pct"] = round(100 * sends[2] / sends[1], 2) if sends[1] else None
            row |= join_stats(pool, skip={"b0"})
            row |= self.fan_out(pool, toggles)
        finally:
            pool.broadcast("leave", timeout=120)
            time.sleep(2.0)  # let the worker tear the peers down before the next size
        return row

    def fan_out(self, pool: BotPool, toggles: int) -> dict[str, Any]:
        sent = pool.call(0, "lock_toggles", "b0", toggles, 0.15, timeout=toggles * 6 + 10)
        arrivals: dict[str, dict[int, float]] = {}
        for result in pool.broadcast("arrivals"):
            arrivals |= result
        delays: list[float] = []
        missing = 0
        for at, version in sent:
            for seen in arrivals.values():
                if version in seen:
                    delays.append((seen[version] - at) * 1000)
                else:
                    missing += 1
        return {
            "signaling_fanout_ms_p50": rounded(percentile(delays, 50)),
            "signaling_fanout_ms_p99": rounded(percentile(delays, 99)),
            "signaling_events": len(sent),
            "signaling_missing": missing,
        }

    def stop(self) -> None:
        if self.pool is not None:
            with contextlib.suppress(Exception):
                self.pool.close()
        if self.worker is not None and self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(10)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait(5)
        if self.daphne is not None:
            with contextlib.suppress(Exception):
                self.daphne.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        with contextlib.suppress(Exception):
            self.sig.recreate_database(self.admin_url, self.db_name, create=False)
        with contextlib.suppress(Exception):
            from tests.rooms.live_harness import flush_redis

            flush_redis(self.layer_url)
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(10)
        self.worker_log.close()
        if not os.environ.get("BENCH_KEEP_LOGS"):
            Path(self.worker_log.name).unlink(missing_ok=True)


def run_ours(args: argparse.Namespace, log: Callable[[str], None]) -> list[dict[str, Any]]:
    stack = OurStack(args.bot_processes, smoke=args.smoke)
    rows: list[dict[str, Any]] = []
    try:
        stack.start()
        for n in args.sizes:
            log(f"rooms: {n} participants ...")
            try:
                row = stack.run_size(
                    n, args.duration, args.settle, args.toggles, simulcast=args.simulcast
                )
                row.setdefault("errors", "")
            except Exception as exc:
                row = {"system": "rooms", "participants": n, "errors": f"{exc}"}
                log(f"  failed: {exc}\nworker: {stack.worker_tail()[-1500:]}")
                log(f"daphne: {stack.daphne.log_tail()[-1500:]}")
            log(f"  {summary_line(row)}")
            rows.append(row)
    finally:
        stack.stop()
    return rows


def summary_line(row: dict[str, Any]) -> str:
    keys = (
        "joined",
        "sfu_pkts_per_cpu_s",
        "sfu_cpu_pct",
        "forwarded_pkts_per_s",
        "loss_pct_worst",
        "latency_ms_p99",
        "join_ms_p95",
        "bots_cpu_pct",
        "bots_udp_drops",
        "subs_missing_streams",
        "video_sizes",
        "keyframe_requests",
        "errors",
    )
    return " ".join(f"{k}={row.get(k)}" for k in keys if k in row)


# --- Janus (in a network namespace, as a child process) ---------------------------------------


def run_janus(args: argparse.Namespace, log: Callable[[str], None]) -> list[dict[str, Any]]:
    if shutil.which("janus") is None:
        log("janus is not installed: skipped (make bench installs it)")
        return []
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        log("Janus needs a private network namespace (unshare -n, as root): skipped")
        return []
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = Path(out.name)
    command = [
        unshare,
        "-n",
        sys.executable,
        "-m",
        "bench.janus",
        "--sizes",
        ",".join(map(str, args.sizes)),
        "--duration",
        str(args.duration),
        "--settle",
        str(args.settle),
        "--bot-processes",
        str(args.bot_processes),
        "--out",
        str(out_path),
        *(["--simulcast"] if args.simulcast else []),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    budget = 120 + len(args.sizes) * (args.duration + args.settle + 90)
    try:
        subprocess.run(command, cwd=REPO_ROOT, env=env, timeout=budget, check=False)  # noqa: S603
        text = out_path.read_text()
        rows: list[dict[str, Any]] = json.loads(text) if text.strip() else []
    except (subprocess.TimeoutExpired, OSError, ValueError) as exc:
        log(f"janus run failed: {exc}")
        rows = []
    finally:
        out_path.unlink(missing_ok=True)
    return rows


# --- report -----------------------------------------------------------------------------------


def merge(ours: list[dict[str, Any]], janus: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_size = {r["participants"]: r for r in janus}
    merged = []
    for row in ours:
        out = dict(row)
        other = by_size.get(row["participants"])
        if other is not None:
            for key, value in other.items():
                if key not in ("participants", "system"):
                    out[f"janus_{key}"] = value
            a, b = row.get("sfu_pkts_per_cpu_s"), other.get("sfu_pkts_per_cpu_s")
            valid = not (row.get("generator_bound") or other.get("generator_bound"))
            out["pkts_per_cpu_ratio"] = round(a / b, 2) if a and b and valid else None
        merged.append(out)
    return merged


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def markdown(rows: list[dict[str, Any]], setup: dict[str, Any]) -> str:
    head = (
        "| people | ours pkt/CPU-s | Janus pkt/CPU-s | ratio | ours CPU % | Janus CPU % | "
        "ours RSS MiB | Janus RSS MiB | fwd pkt/s | loss % med / worst (ours) | "
        "loss % worst (Janus) | SFU-added latency ms p50 / p99 (ours) | "
        "SFU-added latency ms p50 / p99 (Janus) | delivery ms p99 (ours / Janus) | "
        "join ms p50 / p95 (ours) | signaling fan-out ms p50 / p99 | bots CPU % | machine busy % | "
        "SFU waiting for a CPU % | "
        "drops at bots | subs missing streams |"
    )
    lines = [head, "|" + "---:|" * head.count(" | ") + "---:|"]
    for r in rows:
        g = r.get
        lines.append(
            "| "
            + " | ".join(
                [
                    fmt(g("participants"))
                    + (
                        f" ({g('joined')} joined)"
                        if g("joined", g("participants")) != g("participants")
                        else ""
                    ),
                    fmt(g("sfu_pkts_per_cpu_s")),
                    fmt(g("janus_sfu_pkts_per_cpu_s")),
                    fmt(g("pkts_per_cpu_ratio")),
                    fmt(g("sfu_cpu_pct")),
                    fmt(g("janus_sfu_cpu_pct")),
                    fmt(g("sfu_rss_mb")),
                    fmt(g("janus_sfu_rss_mb")),
                    fmt(g("forwarded_pkts_per_s")),
                    f"{fmt(g('loss_pct_median'))} / {fmt(g('loss_pct_worst'))}",
                    fmt(g("janus_loss_pct_worst")),
                    f"{fmt(g('latency_ms_p50'))} / {fmt(g('latency_ms_p99'))}",
                    f"{fmt(g('janus_latency_ms_p50'))} / {fmt(g('janus_latency_ms_p99'))}",
                    f"{fmt(g('delivery_ms_p99'))} / {fmt(g('janus_delivery_ms_p99'))}",
                    f"{fmt(g('join_ms_p50'))} / {fmt(g('join_ms_p95'))}",
                    f"{fmt(g('signaling_fanout_ms_p50'))} / {fmt(g('signaling_fanout_ms_p99'))}",
                    f"{fmt(g('bots_cpu_pct'))} / {fmt(g('janus_bots_cpu_pct'))}",
                    f"{fmt(g('machine_busy_pct'))} / {fmt(g('janus_machine_busy_pct'))}",
                    f"{fmt(g('sfu_runq_wait_pct'))} / {fmt(g('janus_sfu_runq_wait_pct'))}",
                    f"{fmt(g('bots_udp_drops'))} / {fmt(g('janus_bots_udp_drops'))}",
                    f"{fmt(g('subs_missing_streams'))} / {fmt(g('janus_subs_missing_streams'))}",
                ]
            )
            + " |"
        )
    errors = [
        f"- {r['participants']}: {r.get('errors') or ''} {r.get('janus_errors') or ''}"
        for r in rows
        if r.get("errors") or r.get("janus_errors")
    ]
    notes = [
        "",
        f"{setup['duration_s']} s window per size after joins + {setup['settle_s']} s settle; "
        f"{setup['cpus']} CPUs; bots in {setup['bot_processes']} processes; each bot sends "
        f"{setup['sent_kbps_per_bot']} kbit/s (Opus 50 pkt/s + VP8 15 fps paced at 2.5 x, RTP "
        f"incl. headers) and receives up to {AUDIO_SLOTS} audio + {LAST_N} video; bots under "
        "SCHED_IDLE. "
        "Bots, machine, drops and missing-streams columns: ours / Janus; drops at bots = "
        "datagrams the kernel dropped at the bots' full sockets (the generator's loss).",
    ]
    if errors:
        notes += ["", "Errors:", *errors]
    return "\n".join(lines + notes) + "\n"


def chart(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["participants"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), dpi=80)
    for key, label, style in (
        ("sfu_pkts_per_cpu_s", "Rooms SFU", "o-"),
        ("janus_sfu_pkts_per_cpu_s", "Janus 1.1.2", "s--"),
    ):
        points = [(s, r.get(key)) for s, r in zip(sizes, rows, strict=True) if r.get(key)]
        if points:
            ax1.plot(*zip(*points, strict=True), style, label=label)
    ax1.set_xlabel("participants")
    ax1.set_ylabel("forwarded packets per CPU-second")
    ax1.set_title("Cost (higher is cheaper)")
    ax1.grid(alpha=0.3)
    ax1.legend()
    for key, label, style in (
        ("loss_pct_worst", "Rooms worst", "o-"),
        ("loss_pct_median", "Rooms median", "o:"),
        ("janus_loss_pct_worst", "Janus worst", "s--"),
    ):
        points = [
            (s, r.get(key)) for s, r in zip(sizes, rows, strict=True) if r.get(key) is not None
        ]
        if points:
            ax2.plot(*zip(*points, strict=True), style, label=label)
    ax2.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax2.set_xlabel("participants")
    ax2.set_ylabel("loss per subscriber (%)")
    ax2.set_title("Loss (target ≤ 0.5 %)")
    ax2.grid(alpha=0.3)
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def parse_sizes(text: str) -> list[int]:
    sizes = [int(s) for s in text.split(",") if s.strip()]
    if not sizes or any(not 2 <= s <= 50 for s in sizes):
        raise argparse.ArgumentTypeError("room sizes must be between 2 and 50")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=list(SIZES))
    parser.add_argument("--duration", type=float, default=20.0, help="window per size (s)")
    parser.add_argument("--settle", type=float, default=4.0, help="after the joins (s)")
    parser.add_argument("--toggles", type=int, default=10, help="room.lock events per size")
    parser.add_argument("--bot-processes", type=int, default=2)
    parser.add_argument("--no-janus", action="store_true")
    parser.add_argument(
        "--simulcast",
        action="store_true",
        help="every bot publishes its camera in three simulcast layers, to our SFU and to "
        "Janus alike; Janus's subscribers ask for the layer our SFU gives the same slot",
    )
    parser.add_argument("--smoke", action="store_true", help="2 bots, 3 s, no Janus")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.duration, args.settle, args.toggles = [2], 3.0, 1.5, 3
        args.no_janus, args.bot_processes = True, 1
    args.duration = max(1.0, min(args.duration, 600.0))

    def log(text: str) -> None:
        print(text, flush=True)

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(f"signal {signum}")  # run the clean-ups in the finally blocks

    signal.signal(signal.SIGTERM, terminated)

    started = dt.datetime.now(dt.UTC)
    try:
        ours = run_ours(args, log)
    except Exception as exc:
        log(f"cannot run our stack: {exc}")
        return 2
    janus = [] if args.no_janus else run_janus(args, log)
    rows = merge(ours, janus)
    sent = [r["sent_kbps_per_bot"] for r in rows if r.get("sent_kbps_per_bot")]
    setup = {
        "sizes": args.sizes,
        "duration_s": args.duration,
        "settle_s": args.settle,
        "bot_processes": args.bot_processes,
        "cpus": os.cpu_count(),
        "audio_slots": AUDIO_SLOTS,
        "last_n": LAST_N,
        "sent_kbps_per_bot": round(statistics.median(sent)) if sent else None,
        "janus": bool(janus),
        "simulcast": args.simulcast,
    }
    report = {
        "benchmark": "media",
        "started_at": started.isoformat(),
        "commit": git_commit(),
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "setup": setup,
        "keys": KEYS,
        "rows": rows,
        "janus_rows": janus,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "media-smoke" if args.smoke else f"media-{started.strftime('%Y%m%dT%H%M%SZ')}"
    base = args.out / stem
    base.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(rows, setup)
    base.with_suffix(".md").write_text(f"# Media benchmark {started:%Y-%m-%d %H:%M} UTC\n\n{table}")
    if not args.smoke:
        chart(rows, base.with_suffix(".png"))
    log(table)
    log(f"written: {base}.json / .md" + ("" if args.smoke else " / .png"))
    failed = any(r.get("errors") for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Faults in a 10-person call, in the real topology (issue 17, items 1 and 2, their "Measure:").

    PYTHONPATH=. .venv/bin/python -m bench.faults

Not a test: figures for the README ("When things fail"). One run, about a minute and a half,
four scenarios. Each gets a topology of its own: two daphne processes and two
`manage.py sfu` workers (SFU_ICE_ADDRESSES=127.0.0.1, lease settings at their defaults) on a
private redis-server and a scratch PostgreSQL database (`rooms_faultbench`, created, migrated
and dropped here; the server is BENCH_ADMIN_DATABASE_URL's, else DATABASE_URL's, else
postgres://postgres@127.0.0.1:5432). Ten bots (`rooms.mediabot.client.RoomClient`: the join API,
the room socket, one peer connection publishing Opus and VP8, each bot its own clip so a
receiver knows whose media it got) join one room, host first, alternately through the two
daphnes: the host and bots 2, 4, 6, 8 on A, bots 1, 3, 5, 7, 9 on B; bots 2, 3, 6, 7 are
guests (a cookie), the others accounts (an API token). Then:

1. Redis is killed (SIGKILL), comes back a second later, empty, and right away the host
   removes bot 1. Measured from Redis answering again: when each worker answers an offer
   (probe offers sent straight to its channel, as the signaling side sends them); when each
   socket is back (its catch-up snapshot; sockets closed and re-joins through the API are
   counted, and should be 0); when a host event (the host toggles the lock) first reaches all
   nine; when bot 1's media stopped reaching the others, and how many of its packets anyone
   got between 1 and 6 s after the removal; when each of the nine has media again (video from
   all eight others).
2. Daphne B, with half the room, is killed (SIGKILL). Measured from the kill: when the host's
   roster shows its five people disconnected (`room.participant_updated` connected=false);
   then each of the five resumes through A with its resume token and its cookie or token,
   and is timed until its socket is back and it receives video from all nine others again.
   After the grace period (from the kill, lease + ROOMS_RESUME_GRACE_SECONDS): which seats
   count as connected, against the sockets that really are.
   2b. The same kill, the five resuming as the web client does, a quarter of a second after
   their socket dropped: when each is back, whether the roster ever showed them gone, and
   whether their media was interrupted.
3. The worker holding the room is drained (SIGTERM). Measured: per bot the audio gap (first
   packet on the new connection minus the last on the old one; negative is an overlap),
   when every bot had moved, when the worker exited and with which status.

Every wait is bounded; processes, the Redis and the database go away at the end, on failure
too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench import signaling as sig  # noqa: E402
from rooms.mediabot.bot import Bot  # noqa: E402
from rooms.mediabot.client import RoomClient  # noqa: E402
from rooms.mediabot.clip import clip  # noqa: E402
from rooms.sfu.ice import use_host_addresses  # noqa: E402
from tests.rooms.live_harness import Daphne, RedisServer, flush_redis  # noqa: E402

T = TypeVar("T")

DB_NAME = "rooms_faultbench"
ICE = ("127.0.0.1",)
PEOPLE = 10
AUDIO_SLOTS, VIDEO_SLOTS = 3, 9
GUESTS = frozenset({2, 3, 6, 7})
REDIS_DOWN_SECONDS = 1.0
MID_CALL_SECONDS = 3.0  # the call goes on this long before the fault
REMOVAL_WATCH_SECONDS = 6.0  # the issue counted the removed person's packets 3-6 s after
STEP_TIMEOUT = 20.0  # any single wait
SCENARIO_TIMEOUT = 75.0
PROBE_ROOM = 999_999_999  # a room id no real room has: the probes' peers never meet anyone
PROBE_PARTICIPANT = 900_000_000


# --- processes --------------------------------------------------------------------------------


@dataclass
class Stack:
    """One scenario's processes: two daphnes (A, B) and two SFU workers on one Redis."""

    redis: RedisServer
    db_url: str
    tag: str
    web: list[Daphne] = field(default_factory=list)
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    worker_logs: dict[str, Path] = field(default_factory=dict)

    def start(self) -> None:
        env = {
            "SFU_EMBEDDED": "false",
            "SFU_ICE_ADDRESSES": ",".join(ICE),
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        }
        self.web = [
            Daphne(name, database_url=self.db_url, redis_url=self.redis.url(), **env)
            for name in ("A", "B")
        ]
        for server in self.web:
            server.start()
        for n in (1, 2):
            worker_id = f"{self.tag}-w{n}"
            fd, log_name = tempfile.mkstemp(prefix=f"faultbench-{worker_id}-", suffix=".log")
            self.worker_logs[worker_id] = Path(log_name)
            worker_env = dict(self.web[0].env)
            worker_env.pop("DATABASE_URL", None)  # a worker never touches the database
            with os.fdopen(fd, "ab") as log:
                self.workers[worker_id] = subprocess.Popen(  # noqa: S603 - a fixed command line
                    [sys.executable, str(REPO_ROOT / "manage.py"), "sfu", "--worker-id", worker_id],
                    cwd=REPO_ROOT,
                    env=worker_env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        for server in self.web:
            server.wait_ready()
        from rooms.sfu import placement as places

        store = places.RedisPlacement(self.redis.url())
        deadline = time.monotonic() + 30
        while len(places.live_workers(store)) < len(self.workers):
            for worker_id, proc in self.workers.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"worker {worker_id} exited:\n{self.worker_tail(worker_id)}")
            if time.monotonic() > deadline:
                raise RuntimeError("the SFU workers did not register within 30 s")
            time.sleep(0.1)

    def worker_tail(self, worker_id: str, limit: int = 3000) -> str:
        path = self.worker_logs.get(worker_id)
        if path is None or not path.exists():
            return ""
        return path.read_bytes()[-limit:].decode("utf-8", "replace")

    def stop(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # stop at once (SIGTERM would drain)
        for proc in self.workers.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for server in self.web:
            with contextlib.suppress(Exception):
                server.stop()
        if os.environ.get("BENCH_KEEP_LOGS"):
            for server in self.web:
                print(f"--- daphne {server.name} (end of its log) ---\n{server.last_log}")
            print(f"worker logs kept: {[str(p) for p in self.worker_logs.values()]}")
        else:
            for path in self.worker_logs.values():
                path.unlink(missing_ok=True)


# --- the room and its bots --------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    room_id: int
    token: str
    keys: dict[int, str]  # bot index -> API token (accounts only)


def create_cast(tag: str) -> Cast:
    """The host and the accounts among the bots (with API tokens), and an open room without
    a waiting room: everyone holding the link gets in once the host is there."""
    from django.contrib.auth.hashers import make_password
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from rooms import services

    unusable = make_password(None)
    keys: dict[int, str] = {}
    users: dict[int, User] = {}
    for i in range(PEOPLE):
        if i in GUESTS:
            continue
        users[i] = User.objects.create(
            username=f"{tag}_{i}", display_name=f"Bot {i}", password=unusable
        )
        keys[i] = Token.objects.create(user=users[i]).key
    room = services.room_create(host=users[0], title=f"Fault bench {tag}", waiting_room=False)
    return Cast(room_id=room.pk, token=room.token, keys=keys)


class FaultClient(RoomClient):
    """A `RoomClient` that keeps every message with its arrival time."""

    def __init__(self, index: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.index = index
        self.log: list[tuple[float, dict[str, Any]]] = []

    def _on_message(self, message: dict[str, Any]) -> None:
        self.log.append((time.monotonic(), message))
        super()._on_message(message)

    def arrivals(self, kind: str, since: float) -> list[tuple[float, dict[str, Any]]]:
        return [(at, m) for at, m in self.log if at >= since and m.get("type") == kind]

    def bots(self) -> list[Bot]:
        return [*self.retired, *([self.bot] if self.bot is not None else [])]


def video_since(bot: Bot | None, origin: int, since: float) -> bool:
    return bot is not None and any(
        s.last_seen.get(origin, 0.0) > since for s in bot.streams("video")
    )


def has_media(client: FaultClient, others: list[int], since: float) -> bool:
    """Its current connection got video from every one of `others` after `since`."""
    return all(video_since(client.bot, origin, since) for origin in others)


def is_admitted(client: FaultClient) -> bool:
    return client.admitted


def caught_up(client: FaultClient, since: float) -> bool:
    return bool(client.arrivals("snapshot", since))


def others_of(client: FaultClient, clients: list[FaultClient]) -> list[int]:
    return [c.index for c in clients if c is not client]


async def fill_room(stack: Stack, cast: Cast) -> list[FaultClient]:
    clients: list[FaultClient] = []
    for i in range(PEOPLE):
        server = stack.web[i % 2]
        client = FaultClient(i, server.url, cast.token, name=f"Bot {i}", api_token=cast.keys.get(i))
        clients.append(client)
        await client.join()
        if not await client.wait_until(functools.partial(is_admitted, client), STEP_TIMEOUT):
            raise RuntimeError(f"bot {i} was not admitted: {client.messages[-3:]}")
    gate = asyncio.Semaphore(4)

    async def media(client: FaultClient) -> None:
        async with gate:
            await client.start_media(
                variant=client.index,
                audio_level=10 + 2 * client.index,  # bot 0 loudest
                audio_slots=AUDIO_SLOTS,
                video_slots=VIDEO_SLOTS,
                decode=False,
            )

    await asyncio.gather(*(media(c) for c in clients))
    everyone = await first_time(
        lambda: all(has_media(c, others_of(c, clients), 0.0) for c in clients), STEP_TIMEOUT
    )
    if everyone is None:
        raise RuntimeError("not everyone saw everyone after joining")
    return clients


async def first_time(predicate: Callable[[], bool], timeout: float) -> float | None:
    """When `predicate` first held (polled every 20 ms), or None after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return time.monotonic()
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.02)


async def resume_until_back(client: FaultClient, url: str, timeout: float) -> int:
    """Resume (as the web client does) until admitted again; returns the attempts made."""
    deadline = time.monotonic() + timeout
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        with contextlib.suppress(Exception):  # refused: try again, as a browser does
            await client.resume(url)
            if await client.wait_until(functools.partial(is_admitted, client), 5.0):
                return attempts
        await asyncio.sleep(0.25)
    raise RuntimeError(f"{client.name} could not resume within {timeout:.0f} s")


# --- scenario 1: Redis killed and restarted ---------------------------------------------------


async def probe_sdp() -> str:
    from aiortc import RTCPeerConnection

    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("audio", direction="sendrecv")
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)
    finally:
        await pc.close()


def probe_layer() -> Any:
    from channels_redis.core import RedisChannelLayer
    from django.conf import settings

    return RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])


async def worker_answers(layer: Any, worker_id: str, sdp: str, pid: int) -> bool:
    """One offer to the worker's channel, as the signaling side sends it; True if answered
    within a second. The probe room is closed again at once."""
    from rooms.sfu.protocol import participant_group

    channel = f"sfu.{worker_id}"
    inbox = await layer.new_channel()
    await layer.group_add(participant_group(pid), inbox)
    await layer.send(
        channel, {"type": "sfu.offer", "room_id": PROBE_ROOM, "participant_id": pid, "sdp": sdp}
    )
    deadline = time.monotonic() + 1.0
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            message = await asyncio.wait_for(layer.receive(inbox), left)
            if message.get("type") == "media.answer":
                return True
    except TimeoutError:
        return False
    finally:
        with contextlib.suppress(Exception):
            await layer.group_discard(participant_group(pid), inbox)
            await layer.send(channel, {"type": "sfu.close_room", "room_id": PROBE_ROOM})


async def until_worker_answers(layer: Any, worker_id: str, sdp: str, base: int) -> float | None:
    deadline = time.monotonic() + STEP_TIMEOUT
    attempt = 0
    while time.monotonic() < deadline:
        attempt += 1
        try:
            if await worker_answers(layer, worker_id, sdp, base + attempt):
                return time.monotonic()
        except Exception:  # noqa: S110 - Redis on its way back: the next probe tells
            pass
        await asyncio.sleep(0.05)
    return None


def victim_packets(clients: list[FaultClient], origin: int) -> dict[int, int]:
    """Packets (audio + video) of `origin` each bot of the others received so far."""
    counts: dict[int, int] = {}
    for client in clients:
        if client.index == origin:
            continue
        for bot in client.bots():
            counts[id(bot)] = bot.origin_packets("audio", origin) + bot.origin_packets(
                "video", origin
            )
    return counts


def last_seen_anywhere(clients: list[FaultClient], origin: int) -> float | None:
    times = [
        seen
        for client in clients
        if client.index != origin
        for bot in client.bots()
        if (seen := bot.last_seen(origin)) is not None
    ]
    return max(times) if times else None


async def host_event_everywhere(
    host: FaultClient, audience: list[FaultClient], since: float
) -> tuple[float | None, int]:
    """The host toggles the lock every 0.25 s until one of those events reached everyone in
    `audience`; returns when it reached the last of them, and the toggles sent."""
    sent = 0
    deadline = since + STEP_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            await host.send({"type": "room.lock", "locked": sent % 2 == 0})
        sent += 1
        await asyncio.sleep(0.25)
        per_client = [
            {m.get("version"): at for at, m in c.arrivals("room.locked", since)} for c in audience
        ]
        common = set.intersection(*(set(v) for v in per_client))
        if common:
            version = min(common, key=lambda v: max(seen[v] for seen in per_client))
            return max(seen[version] for seen in per_client), sent
    return None, sent


async def keep_open(clients: list[FaultClient], until: float) -> tuple[int, int]:
    """Resume any socket that closes, as the web client would; returns (sockets closed,
    those whose resume was refused so that the person would have to join again)."""
    closed, refused = 0, 0
    while time.monotonic() < until:
        for client in clients:
            if client.closed_with is None:
                continue
            closed += 1
            try:
                await resume_until_back(client, client.base_url, 10.0)
            except RuntimeError:
                refused += 1
                await client.close()
        await asyncio.sleep(0.05)
    return closed, refused


async def redis_restart(stack: Stack, clients: list[FaultClient]) -> dict[str, Any]:
    host, victim = clients[0], clients[1]
    rest = [c for c in clients if c is not victim]
    layer = probe_layer()
    sdp = await probe_sdp()
    packets_before = sum(victim_packets(clients, victim.index).values())

    killed = time.monotonic()
    stack.redis.kill()
    await asyncio.sleep(REDIS_DOWN_SECONDS)
    await asyncio.to_thread(stack.redis.start)
    back = time.monotonic()
    with contextlib.suppress(Exception):
        await host.send({"type": "participant.remove", "participant_id": victim.participant_id})
    removed = time.monotonic()

    async def removal_watch() -> tuple[int, float | None]:
        await asyncio.sleep(max(0.0, removed + 1.0 - time.monotonic()))
        at_one = victim_packets(clients, victim.index)
        await asyncio.sleep(max(0.0, removed + REMOVAL_WATCH_SECONDS - time.monotonic()))
        at_end = victim_packets(clients, victim.index)
        late = sum(n - at_one.get(bot, 0) for bot, n in at_end.items())
        return late, last_seen_anywhere(clients, victim.index)

    probes = [
        until_worker_answers(layer, worker_id, sdp, PROBE_PARTICIPANT + 1000 * n)
        for n, worker_id in enumerate(stack.workers)
    ]
    sockets = [first_time(functools.partial(caught_up, c, back), STEP_TIMEOUT) for c in rest]
    media = [
        first_time(functools.partial(has_media, c, others_of(c, rest), back), 2 * STEP_TIMEOUT)
        for c in rest
    ]
    answered, socket_times, media_times, event, watch, sockets_closed = await asyncio.gather(
        asyncio.gather(*probes),
        asyncio.gather(*sockets),
        asyncio.gather(*media),
        host_event_everywhere(host, rest, back),
        removal_watch(),
        keep_open(rest, removed + REMOVAL_WATCH_SECONDS),
    )
    late_packets, last_victim = watch
    with contextlib.suppress(Exception):
        await layer.flush()
    victim_closed = victim.arrivals("removed", removed)
    refused = Counter(
        str(m.get("code"))
        for c in rest
        for _, m in c.arrivals("error", killed)
        if str(m.get("regarding", "")).startswith("media")
    )
    # And once media is back: a removal of someone whose video everyone receives again.
    second = clients[PEOPLE - 1]
    left = [c for c in rest if c is not second]
    before_second = time.monotonic()
    await host.send({"type": "participant.remove", "participant_id": second.participant_id})
    await asyncio.sleep(1.0)
    at_one = victim_packets(left, second.index)
    await asyncio.sleep(2.0)
    late_second = sum(
        n - at_one.get(bot, 0) for bot, n in victim_packets(left, second.index).items()
    )
    last_second = last_seen_anywhere(left, second.index)
    return {
        "redis down (s)": back - killed,
        "workers answering offers (s)": _rel(answered, back),
        "sockets back, catch-up snapshot (s)": _rel(socket_times, back),
        "sockets closed / re-joins through the API": "{} / {}".format(*sockets_closed),
        "host event (room.lock) reached all 9 (s)": _rel([event[0]], back),
        "removed bot told 'removed' (s after the removal)": _rel(
            [victim_closed[0][0]] if victim_closed else [None], removed
        ),
        "removed bot's last packet at anyone (s after the removal)": (
            None if last_victim is None else last_victim - removed
        ),
        "removed bot's packets received 1-6 s after the removal": late_packets,
        "removed bot's packets received before the outage": packets_before,
        "every remaining bot has video from all 8 others (s)": _rel(media_times, back),
        "media connections built per bot (attempts, 2 s apart)": _counts(
            c.media_restarts for c in rest
        ),
        "offers refused, by code": ", ".join(f"{k} {n}" for k, n in sorted(refused.items()))
        or "none",
        "then a removal with media back: its last packet at anyone (s after)": (
            None if last_second is None else last_second - before_second
        ),
        "its packets received 1-3 s after that removal": late_second,
    }


# --- scenario 2: a web process killed ---------------------------------------------------------


def seats(room_id: int) -> dict[str, Any]:
    from django.db import connections

    from rooms.models import Participant, SocketServer

    try:
        admitted = Participant.objects.filter(room_id=room_id, state="admitted")
        return {
            "admitted": set(admitted.values_list("pk", flat=True)),
            "connected": set(
                admitted.filter(disconnected_at__isnull=True).values_list("pk", flat=True)
            ),
            "servers": set(admitted.values_list("server", flat=True)),
            "live servers": set(SocketServer.objects.values_list("pk", flat=True)),
        }
    finally:
        connections.close_all()


async def web_process_killed(
    stack: Stack, clients: list[FaultClient], room_id: int
) -> dict[str, Any]:
    from django.conf import settings

    host = clients[0]
    a, b = stack.web
    gone = [c for c in clients if c.index % 2 == 1]  # on B
    gone_ids = {c.participant_id for c in gone}
    if b.process is None:
        raise RuntimeError("daphne B is not running")
    killed = time.monotonic()
    b.process.kill()  # SIGKILL: no disconnect handling runs on B

    def roster_shows_them_gone() -> bool:
        seen = {
            m["participant"]["id"]
            for _, m in host.arrivals("room.participant_updated", killed)
            if m.get("participant", {}).get("connected") is False
        }
        return gone_ids <= seen

    roster = await first_time(roster_shows_them_gone, STEP_TIMEOUT)
    if roster is None:
        raise RuntimeError("the host's roster never showed B's people disconnected")
    sockets_dropped = sum(1 for c in gone if c.closed_with is not None)

    resumed_at = time.monotonic()
    attempts = await asyncio.gather(*(resume_until_back(c, a.url, STEP_TIMEOUT) for c in gone))
    socket_times = [next((at for at, _ in c.arrivals("snapshot", resumed_at)), None) for c in gone]
    media_times = await asyncio.gather(
        *(
            first_time(
                functools.partial(has_media, c, others_of(c, clients), resumed_at), STEP_TIMEOUT
            )
            for c in gone
        )
    )
    whole = await first_time(
        lambda: all(has_media(c, others_of(c, clients), resumed_at) for c in clients),
        STEP_TIMEOUT,
    )
    # No ghosts once the grace period that started at the kill is over: the seats counted as
    # connected are exactly the people with a live socket.
    grace = float(settings.ROOMS_LEASE_SECONDS + settings.ROOMS_RESUME_GRACE_SECONDS)
    await asyncio.sleep(max(0.0, killed + grace + 2.0 - time.monotonic()))
    after = await asyncio.to_thread(seats, room_id)
    live = {c.participant_id for c in clients if c.admitted}
    return {
        "roster shows all 5 disconnected (s)": roster - killed,
        "sockets that saw the drop": f"{sockets_dropped} of {len(gone)}",
        "resume attempts per bot": _counts(attempts),
        "each back on A, snapshot (s after the kill)": _rel(socket_times, killed),
        "each back with video from all 9 others (s after the kill)": _rel(media_times, killed),
        "the same, from the start of the resume (s)": _rel(media_times, resumed_at),
        "whole room sees everyone again (s after the kill)": _rel([whole], killed),
        "media connections built per resumed bot (attempts)": _counts(
            c.media_restarts for c in gone
        ),
        f"after the grace ({grace:.0f} s + 2): seats connected / live sockets": (
            f"{len(after['connected'])} / {len(live)}"
            + ("" if after["connected"] == live == after["admitted"] else " (MISMATCH)")
        ),
        "seats held for the dead process": sum(
            1 for s in after["servers"] if s and s not in after["live servers"]
        ),
    }


async def web_process_killed_browser_like(
    stack: Stack, clients: list[FaultClient]
) -> dict[str, Any]:
    """The same kill, but B's people resume as the web client does: a quarter of a second
    after their socket dropped (static/js/room/socket.js), before the lease runs out."""
    host = clients[0]
    a, b = stack.web
    gone = [c for c in clients if c.index % 2 == 1]
    if b.process is None:
        raise RuntimeError("daphne B is not running")
    killed = time.monotonic()
    b.process.kill()

    async def come_back(client: FaultClient) -> int:
        await client.wait_until(functools.partial(has_dropped, client), STEP_TIMEOUT)
        await asyncio.sleep(0.25)
        return await resume_until_back(client, a.url, STEP_TIMEOUT)

    attempts = await asyncio.gather(*(come_back(c) for c in gone))
    socket_times = [next((at for at, _ in c.arrivals("snapshot", killed)), None) for c in gone]
    # Past the lease: had the seats been marked dropped, it would have happened by now.
    await asyncio.sleep(max(0.0, killed + 8.0 - time.monotonic()))
    flips = [
        m
        for _, m in host.arrivals("room.participant_updated", killed)
        if m.get("participant", {}).get("connected") is False
    ]
    now = time.monotonic()
    return {
        "resume attempts per bot": _counts(attempts),
        "each back on A, snapshot (s after the kill)": _rel(socket_times, killed),
        "roster showed any of them disconnected": len(flips),
        "media connections built per resumed bot": _counts(c.media_restarts for c in gone),
        "bots with video from all 9 others, 8 s after the kill": sum(
            has_media(c, others_of(c, clients), now - 1.0) for c in clients
        ),
    }


def has_dropped(client: FaultClient) -> bool:
    return client.closed_with is not None


# --- scenario 3: drain ------------------------------------------------------------------------


def audio_times(bot: Bot, first: bool) -> float | None:
    pick = min if first else max
    times = [
        pick(source.values())
        for s in bot.streams("audio")
        if (source := (s.first_seen if first else s.last_seen))
    ]
    return pick(times) if times else None


async def drain(stack: Stack, clients: list[FaultClient], room_id: int) -> dict[str, Any]:
    from rooms.sfu import placement as places

    store = places.RedisPlacement(stack.redis.url())
    holder = store.pins()[room_id]
    before = {c.index: c.bot for c in clients}
    proc = stack.workers[holder]
    drained = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    exit_task = asyncio.ensure_future(asyncio.to_thread(proc.wait, 40))

    def moved(c: FaultClient) -> bool:
        new = c.bot
        return new is not None and new is not before[c.index] and audio_times(new, True) is not None

    all_moved = await first_time(lambda: all(moved(c) for c in clients), 40)
    try:
        code: int | str = await exit_task
    except subprocess.TimeoutExpired:
        code = "still running after 40 s"
    exited = time.monotonic()
    await asyncio.sleep(1.0)  # the old connections' last packets are in by now
    gaps: list[float] = []
    for c in clients:
        old, new = before[c.index], c.bot
        if old is None or new is None or new is old:
            continue
        last_old, first_new = audio_times(old, first=False), audio_times(new, first=True)
        if last_old is not None and first_new is not None:
            gaps.append(first_new - last_old)
    return {
        "worker drained": holder,
        "bots moved": f"{sum(c.bot is not before[c.index] for c in clients)} of {len(clients)}",
        "audio gap per bot, max / median (s)": (
            f"{max(gaps):+.3f} / {statistics.median(gaps):+.3f}" if gaps else "n/a"
        ),
        "audio gaps, every bot (s)": " ".join(f"{g:+.2f}" for g in sorted(gaps)),
        "every bot hears audio on the new worker (s)": _rel([all_moved], drained),
        "drained worker exited (s), status": f"{exited - drained:.2f}, {code}",
        "room pinned to": store.pins().get(room_id),
        "media connections built per bot (attempts)": _counts(c.media_restarts for c in clients),
    }


# --- running ----------------------------------------------------------------------------------


def _rel(times: list[float | None], since: float) -> str:
    """max (and the spread) of times relative to `since`; missing ones said as such."""
    values = [t - since for t in times if t is not None]
    missing = len(times) - len(values)
    if not values:
        return "never"
    text = f"{max(values):.2f}" if len(values) == 1 else f"{min(values):.2f}-{max(values):.2f}"
    return text + (f" ({missing} never)" if missing else "")


def _counts(values: Any) -> str:
    items = sorted(values)
    return f"{min(items)}-{max(items)}" if items and min(items) != max(items) else str(items[0])


async def with_room(
    stack: Stack, cast: Cast, scenario: Callable[[list[FaultClient]], Awaitable[T]]
) -> T:
    clients: list[FaultClient] = []
    try:
        started = time.monotonic()
        clients = await asyncio.wait_for(fill_room(stack, cast), 60)
        print(f"{PEOPLE} bots in, everyone sees everyone: {time.monotonic() - started:.1f} s")
        await asyncio.sleep(MID_CALL_SECONDS)
        return await asyncio.wait_for(scenario(clients), SCENARIO_TIMEOUT)
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 5)


@contextlib.contextmanager
def topology(redis: RedisServer, db_url: str, tag: str) -> Iterator[Stack]:
    stack = Stack(redis=redis, db_url=db_url, tag=tag)
    try:
        started = time.monotonic()
        stack.start()
        print(f"\n[{tag}] processes up: {time.monotonic() - started:.1f} s")
        yield stack
    except BaseException:
        for server in stack.web:
            print(f"--- daphne {server.name} ---\n{server.log_tail(1500)}", file=sys.stderr)
        for worker_id in stack.workers:
            print(f"--- {worker_id} ---\n{stack.worker_tail(worker_id, 1500)}", file=sys.stderr)
        raise
    finally:
        stack.stop()
        if redis.process is None:
            redis.start()  # a scenario that failed with Redis down
        flush_redis(redis.url())


def print_table(title: str, figures: dict[str, Any], targets: dict[str, str]) -> None:
    print(f"\n### {title}\n")
    print("| figure | measured | issue's target |")
    print("|---|---:|---|")
    for name, value in figures.items():
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"| {name} | {shown} | {targets.get(name, '')} |")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", choices=("redis", "web", "drain"), action="append", help="run only these"
    )
    args = parser.parse_args(argv)
    chosen = set(args.only or ("redis", "web", "drain"))
    logging.basicConfig(level=logging.WARNING)

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, terminated)
    use_host_addresses(ICE)
    for variant in range(PEOPLE):
        clip(variant)  # each bot's clip, encoded once, before anything is timed
    # This process's Django logging (the bots, aioice) and the servers': warnings only.
    os.environ["LOG_LEVEL"] = os.environ.get("BENCH_LOG_LEVEL", "WARNING")
    admin_url = sig.admin_database_url()
    db_url = sig.with_database(admin_url, DB_NAME)
    redis = RedisServer()
    started = time.monotonic()
    try:
        redis.start()
        sig.recreate_database(admin_url, DB_NAME, create=True)
        sig.setup_django(db_url, redis.url())
        print(f"{PEOPLE} people; 2 daphnes, 2 SFU workers, Redis, PostgreSQL ({DB_NAME})")
        if "redis" in chosen:
            cast = create_cast("r")
            with topology(redis, db_url, "r") as stack:
                figures = asyncio.run(with_room(stack, cast, lambda c: redis_restart(stack, c)))
            print_table(
                "1. Redis killed (SIGKILL), back empty 1 s later; then the host removes a bot",
                figures,
                {
                    "workers answering offers (s)": "5",
                    "sockets back, catch-up snapshot (s)": "10",
                    "sockets closed / re-joins through the API": "0 re-joins",
                    "host event (room.lock) reached all 9 (s)": "10",
                    "removed bot's last packet at anyone (s after the removal)": "1",
                },
            )
        if "web" in chosen:
            cast = create_cast("w")
            with topology(redis, db_url, "w") as stack:
                figures = asyncio.run(
                    with_room(stack, cast, lambda c: web_process_killed(stack, c, cast.room_id))
                )
            print_table(
                "2. Daphne B (5 of the 10) killed (SIGKILL); its people resume through A",
                figures,
                {
                    "roster shows all 5 disconnected (s)": "5",
                    "each back with video from all 9 others (s after the kill)": "15",
                    "seats held for the dead process": "0",
                },
            )
        if "web" in chosen:
            cast = create_cast("b")
            with topology(redis, db_url, "b") as stack:
                figures = asyncio.run(
                    with_room(stack, cast, lambda c: web_process_killed_browser_like(stack, c))
                )
            print_table(
                "2b. The same, the five resuming as browsers do (0.25 s after the drop)",
                figures,
                {},
            )
        if "drain" in chosen:
            cast = create_cast("d")
            with topology(redis, db_url, "d") as stack:
                figures = asyncio.run(
                    with_room(stack, cast, lambda c: drain(stack, c, cast.room_id))
                )
            print_table("3. The worker holding the room drained (SIGTERM)", figures, {})
        print(f"\ntotal {time.monotonic() - started:.0f} s")
        return 0
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        with contextlib.suppress(Exception):
            sig.recreate_database(admin_url, DB_NAME, create=False)
        redis.kill()


if __name__ == "__main__":
    sys.exit(main())

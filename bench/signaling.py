"""Signaling latency with two daphne processes on Redis and PostgreSQL.

    .venv/bin/python bench/signaling.py [--toggles 30] [--removals 20]

Creates a scratch database (`rooms_bench_signaling`, dropped at the end), migrates it, starts
two daphne processes (A and B) on 127.0.0.1 sharing it and one Redis database (6, flushed), and
fills one room: the host plus 49 of the host's friends (`--strangers`: people who are not),
25 sockets on each process. Then it measures

1. fan-out: the host toggles the lock `--toggles` times; for each event, the time from the
   host's send to its arrival on every one of the 50 sockets (the host's own included);
2. removal: the host (on A) removes participants one at a time, `--removals` on B (across
   processes) and then as many on A (same process); the time from the host's send to the
   removed socket seeing its close frame (and to its "removed" message).

Prints a Markdown table and writes everything (raw samples too) to
bench/results/signaling-<timestamp>.json. See bench/README.md.

Environment: BENCH_ADMIN_DATABASE_URL (a PostgreSQL URL allowed to CREATE DATABASE; default:
DATABASE_URL's server, else postgres://postgres@127.0.0.1:5432/postgres) and REDIS_URL's server
(default redis://127.0.0.1:6379).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from tests.rooms.live_harness import (  # noqa: E402
    Daphne,
    LiveSocket,
    Message,
    flush_redis,
    join,
    redis_available,
    redis_url,
    start_servers,
    stop_servers,
)

SCRATCH_DB = "rooms_bench_signaling"
REDIS_DB = 6
SEATS = 50  # the room's capacity, the host included
STEP_TIMEOUT = 10.0  # seconds any single wait may take
JOIN_CONCURRENCY = 8


# --- setup ------------------------------------------------------------------------------------


def admin_database_url() -> str:
    explicit = os.environ.get("BENCH_ADMIN_DATABASE_URL")
    if explicit:
        return explicit
    current = os.environ.get("DATABASE_URL", "")
    if current.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(current)
        return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    return "postgres://postgres@127.0.0.1:5432/postgres"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def recreate_database(admin_url: str, name: str, *, create: bool) -> None:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(db_url: str, layer_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ["REDIS_URL"] = layer_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    call_command("migrate", verbosity=0, interactive=False)


@dataclass(frozen=True)
class Cast:
    token: str
    host_key: str
    guest_keys: list[str]  # API tokens of the other participants, in order


def create_room(participants: int, *, friends_of_host: bool = True) -> Cast:
    """The host, `participants` people (friends of the host unless told otherwise), their API
    tokens, and a room without a waiting room: everyone is admitted once the host is there."""
    from django.contrib.auth.hashers import make_password
    from rest_framework.authtoken.models import Token

    from accounts.models import Friendship, User
    from rooms import services

    unusable = make_password(None)
    host = User.objects.create(username="bench_host", display_name="Host", password=unusable)
    friends = User.objects.bulk_create(
        User(username=f"bench_{n:02d}", display_name=f"Friend {n}", password=unusable)
        for n in range(participants)
    )
    if friends_of_host:
        Friendship.objects.bulk_create(
            [Friendship(user=host, friend=f) for f in friends]
            + [Friendship(user=f, friend=host) for f in friends]
        )
    tokens = Token.objects.bulk_create(
        Token(user=user, key=Token.generate_key()) for user in [host, *friends]
    )
    room = services.room_create(
        host=host, title="Signaling bench", capacity=SEATS, waiting_room=False
    )
    return Cast(token=room.token, host_key=tokens[0].key, guest_keys=[t.key for t in tokens[1:]])


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Seat:
    ws: LiveSocket
    server: Daphne
    participant_id: int
    # version -> arrival (perf_counter) of every versioned event this socket received
    arrivals: dict[int, float] = field(default_factory=dict)


class FanOutWatch:
    """Counts, for one target version, how many sockets have received it."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.target = -1
        self.count = 0
        self.done = asyncio.Event()

    def arm(self, version: int) -> None:
        self.target, self.count = version, 0
        self.done.clear()

    def seen(self, version: int) -> None:
        if version == self.target:
            self.count += 1
            if self.count >= self.total:
                self.done.set()


def _recorder(seat: Seat, watch: FanOutWatch) -> Any:
    def record(arrived: float, message: Message) -> None:
        version = message.get("version")
        if isinstance(version, int) and message.get("type") != "snapshot":
            seat.arrivals.setdefault(version, arrived)
            watch.seen(version)
        # Only snapshots are awaited with `expect` during the bench; drop the rest from the
        # queue (it was just appended) so it does not grow. `received` keeps everything.
        if message.get("type") != "snapshot" and seat.ws.pending:
            seat.ws.pending.pop()

    return record


async def open_seat(
    server: Daphne, http: httpx.AsyncClient, token: str, name: str, watch: FanOutWatch
) -> Seat:
    joined = await join(http, token)
    outcome = joined["decision"]["outcome"]
    if outcome != "admit":
        raise RuntimeError(f"{name} was not admitted: {joined['decision']}")
    ws = await LiveSocket.open(server, token, joined["ticket"], name=name)
    await ws.expect_type("hello", timeout=STEP_TIMEOUT)
    await ws.expect_type("snapshot", timeout=STEP_TIMEOUT)
    seat = Seat(ws=ws, server=server, participant_id=joined["participant"]["id"])
    ws.on_message = _recorder(seat, watch)
    return seat


async def fan_out(host: Seat, seats: list[Seat], watch: FanOutWatch, toggles: int) -> Any:
    await host.ws.send({"type": "snapshot.request"})
    version: int = (await host.ws.expect_type("snapshot", timeout=STEP_TIMEOUT))["version"]
    per_socket: list[float] = []
    last_socket: list[float] = []
    spread: list[float] = []
    per_process: dict[str, list[float]] = {}
    missing = 0
    for n in range(toggles):
        version += 1
        watch.arm(version)
        sent = time.perf_counter()
        await host.ws.send({"type": "room.lock", "locked": n % 2 == 0})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watch.done.wait(), STEP_TIMEOUT)
        delays = []
        for seat in seats:
            arrived = seat.arrivals.get(version)
            if arrived is None:
                missing += 1
                continue
            delay = (arrived - sent) * 1000
            delays.append(delay)
            per_process.setdefault(seat.server.name, []).append(delay)
        per_socket.extend(delays)
        if len(delays) == len(seats):
            last_socket.append(max(delays))
            spread.append(max(delays) - min(delays))
        await asyncio.sleep(0.15)  # stay well under the socket's flood limit (10 msg/s)
    return {
        "events": toggles,
        "sockets": len(seats),
        "missing_deliveries": missing,
        "per_socket_ms": summary(per_socket),
        "last_socket_ms": summary(last_socket),
        "first_to_last_ms": summary(spread),
        "per_process_ms": {name: summary(values) for name, values in per_process.items()},
        "samples": {
            "per_socket_ms": per_socket,
            "last_socket_ms": last_socket,
            "first_to_last_ms": spread,
        },
    }


async def first_arrival(
    ws: LiveSocket, start: int, predicate: Callable[[Message], bool], timeout: float = 2.0
) -> float | None:
    """Arrival time of the first message after index `start` that matches (bounded poll)."""
    deadline = time.monotonic() + timeout
    while True:
        for arrived, message in ws.received[start:]:
            if predicate(message):
                return arrived
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.005)


async def ping_round_trips(host: Seat, count: int = 20) -> Any:
    """Baseline: ping -> pong on the host's socket (no database, no channel layer)."""
    samples: list[float] = []
    for _ in range(count):
        already = len(host.ws.received)
        sent = time.perf_counter()
        await host.ws.send({"type": "ping"})
        arrived = await first_arrival(host.ws, already, lambda m: m.get("type") == "pong")
        if arrived is not None:
            samples.append((arrived - sent) * 1000)
        await asyncio.sleep(0.05)
    return {"round_trip_ms": summary(samples), "samples": samples}


def _removal_of(participant_id: int) -> Callable[[Message], bool]:
    def matches(message: Message) -> bool:
        return (
            message.get("type") == "room.participant_removed"
            and message.get("participant", {}).get("id") == participant_id
        )

    return matches


async def removals(host: Seat, victims: list[Seat]) -> Any:
    to_close: list[float] = []
    to_message: list[float] = []
    event_at_host: list[float] = []
    problems: list[str] = []
    for seat in victims:
        already = len(host.ws.received)
        sent = time.perf_counter()
        await host.ws.send({"type": "participant.remove", "participant_id": seat.participant_id})
        try:
            code = await seat.ws.wait_closed(timeout=STEP_TIMEOUT)
        except TimeoutError:
            problems.append(f"{seat.ws.name}: not closed within {STEP_TIMEOUT}s")
            continue
        if code != 4004 or seat.ws.closed_at is None:
            problems.append(f"{seat.ws.name}: closed with {code}")
            continue
        to_close.append((seat.ws.closed_at - sent) * 1000)
        told = next((t for t, m in seat.ws.received if m.get("type") == "removed"), None)
        if told is not None:
            to_message.append((told - sent) * 1000)
        # The room's event about it, as the host's own socket received it (maybe after the close).
        heard = await first_arrival(host.ws, already, _removal_of(seat.participant_id))
        if heard is not None:
            event_at_host.append((heard - sent) * 1000)
        await asyncio.sleep(0.15)
    return {
        "removals": len(victims),
        "to_close_ms": summary(to_close),
        "to_removed_message_ms": summary(to_message),
        "room_event_at_host_ms": summary(event_at_host),
        "problems": problems,
        "samples": {
            "to_close_ms": to_close,
            "to_removed_message_ms": to_message,
            "room_event_at_host_ms": event_at_host,
        },
    }


async def measure(a: Daphne, b: Daphne, cast: Cast, toggles: int, removal_count: int) -> Any:
    watch = FanOutWatch(total=SEATS)
    seats: list[Seat] = []
    clients: list[httpx.AsyncClient] = []

    def client(server: Daphne, key: str) -> httpx.AsyncClient:
        http = httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Token {key}"}, timeout=STEP_TIMEOUT
        )
        clients.append(http)
        return http

    try:
        # The host first: until the host's socket is up, nobody else gets in.
        host = await open_seat(a, client(a, cast.host_key), cast.token, "host@A", watch)
        seats.append(host)
        half = SEATS // 2 - 1  # A holds the host and 24 others, B the other 25
        gate = asyncio.Semaphore(JOIN_CONCURRENCY)

        async def admit(n: int, key: str) -> Seat:
            server = a if n < half else b
            async with gate:
                return await open_seat(
                    server, client(server, key), cast.token, f"p{n}@{server.name}", watch
                )

        seats.extend(
            await asyncio.gather(*(admit(n, key) for n, key in enumerate(cast.guest_keys)))
        )
        await asyncio.sleep(1.0)  # let the join and connect events of the last ones settle
        on_a = [s for s in seats if s.server is a and s is not host]
        on_b = [s for s in seats if s.server is b]
        layout = {"A": 1 + len(on_a), "B": len(on_b)}

        ping = await ping_round_trips(host)
        fan = await fan_out(host, seats, watch, toggles)
        cross = await removals(host, on_b[:removal_count])
        same = await removals(host, on_a[:removal_count])
        return {
            "layout": layout,
            "ping": ping,
            "fan_out": fan,
            "removal_cross": cross,
            "removal_same": same,
        }
    finally:
        for seat in seats:
            await seat.ws.close()
        for http in clients:
            await http.aclose()
        # Let the servers finish their disconnect handlers: a daphne stopped in the middle of
        # one may not exit on SIGTERM (see tests/rooms/test_multiprocess.py).
        await asyncio.sleep(1.5)


# --- reporting --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p99 of fewer than 100 samples is the maximum)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 2),
        "p99": round(percentile(values, 99), 2),
        "max": round(max(values), 2),
        "min": round(min(values), 2),
    }


def markdown(results: dict[str, Any]) -> str:
    def row(label: str, stats: dict[str, Any]) -> str:
        if not stats.get("n"):
            return f"| {label} | 0 | - | - | - |"
        return f"| {label} | {stats['n']} | {stats['p50']} | {stats['p99']} | {stats['max']} |"

    fan, cross, same = results["fan_out"], results["removal_cross"], results["removal_same"]
    lines = [
        f"Room of {fan['sockets']} sockets (A: {results['layout']['A']} incl. host, "
        f"B: {results['layout']['B']}); participants: {results['participants']}; "
        "two daphne processes, Redis channel layer, PostgreSQL.",
        "",
        "| measurement | n | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        row("baseline: ping → pong on the host's socket", results["ping"]["round_trip_ms"]),
        row("removal → close, host on A, removed on B", cross["to_close_ms"]),
        row("removal → close, both on A", same["to_close_ms"]),
        row("removal → 'removed' message, on B", cross["to_removed_message_ms"]),
        row("removal → room.participant_removed at the host", cross["room_event_at_host_ms"]),
        row(
            f"fan-out, per socket ({fan['events']} events x {fan['sockets']})", fan["per_socket_ms"]
        ),
        row("fan-out, last of the 50 sockets (per event)", fan["last_socket_ms"]),
        row("fan-out, first to last socket (per event)", fan["first_to_last_ms"]),
    ]
    for name, stats in sorted(fan["per_process_ms"].items()):
        lines.append(row(f"fan-out, per socket on process {name}", stats))
    problems = cross["problems"] + same["problems"]
    if fan["missing_deliveries"] or problems:
        lines += ["", f"missing deliveries: {fan['missing_deliveries']}; problems: {problems}"]
    return "\n".join(lines)


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


# --- main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--toggles", type=int, default=30, help="lock toggles (fan-out events)")
    parser.add_argument("--removals", type=int, default=20, help="removals per path (max 24)")
    parser.add_argument(
        "--strangers",
        action="store_true",
        help="participants are not the host's friends (admitted since the waiting room is "
        "off): room changes then publish no feed cards to them",
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    args = parser.parse_args()
    toggles = max(1, min(args.toggles, 500))
    removal_count = max(1, min(args.removals, SEATS // 2 - 1))

    admin_url = admin_database_url()
    db_url = with_database(admin_url, SCRATCH_DB)
    layer_url = redis_url(REDIS_DB)
    if not redis_available(layer_url):
        print(f"Redis does not answer at {layer_url}", file=sys.stderr)
        return 2
    try:
        recreate_database(admin_url, SCRATCH_DB, create=True)
    except psycopg.Error as error:
        print(f"cannot create {SCRATCH_DB} via {admin_url}: {error}", file=sys.stderr)
        return 2
    servers: list[Daphne] = []
    try:
        flush_redis(layer_url)
        setup_django(db_url, layer_url)
        cast = create_room(SEATS - 1, friends_of_host=not args.strangers)
        servers = start_servers(2, database_url=db_url, redis_url=layer_url, LOG_LEVEL="WARNING")
        started = dt.datetime.now(dt.UTC)
        results = asyncio.run(measure(servers[0], servers[1], cast, toggles, removal_count))
        results["participants"] = "strangers" if args.strangers else "friends of the host"
    finally:
        stop_servers(servers)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        recreate_database(admin_url, SCRATCH_DB, create=False)
        with contextlib.suppress(Exception):
            flush_redis(layer_url)

    report = {
        "benchmark": "signaling",
        "started_at": started.isoformat(),
        "commit": git_commit(),
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "setup": {
            "processes": 2,
            "channel_layer": "channels_redis.core.RedisChannelLayer",
            "database": "postgresql",
            "seats": SEATS,
            "toggles": toggles,
            "removals_per_path": removal_count,
            "participants_are_friends_of_host": not args.strangers,
        },
        **results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"signaling-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(results))
    print(f"\nwritten: {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

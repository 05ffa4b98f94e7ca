"""Abuse and load against one real daphne on PostgreSQL: what holds and what breaks.

    PYTHONPATH=. .venv/bin/python -m bench.abuse                     # every section
    PYTHONPATH=. .venv/bin/python -m bench.abuse --sections reads-120,capacity-race

Creates a scratch database (`rooms_bench_abuse`, dropped at the end) through
BENCH_ADMIN_DATABASE_URL (default: DATABASE_URL's server, else the local `postgres`), migrates
it, uses Redis database 7 of REDIS_URL's server (flushed), and starts ONE daphne with the
default server settings (every DB_POOL_* variable of the calling environment is removed). Its
database connections carry their own `application_name`, so a sampler counts exactly the
connections that server holds (pg_stat_activity, every 10 ms, from a connection opened before
the server starts).

Each section is a function that takes the `Stage` and returns one `Row` of the table; add a
section by writing such a function and naming it in SECTIONS. Prints a Markdown table and
writes it with every figure to bench/results/abuse-<UTC timestamp>.json.

Before the change that bounds the server's connections, a run fills the PostgreSQL server's
max_connections: run it against a server of its own (see bench/README.md), never a shared one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from bench.signaling import (  # noqa: E402
    admin_database_url,
    git_commit,
    recreate_database,
    setup_django,
    with_database,
)
from tests.rooms.live_harness import (  # noqa: E402
    Daphne,
    flush_redis,
    redis_available,
    redis_url,
    start_servers,
    stop_servers,
)

SCRATCH_DB = "rooms_bench_abuse"
REDIS_DB = 7
SERVER_APP_NAME = "rooms-bench-abuse-server"
REQUEST_TIMEOUT = 120.0  # seconds one request may take before it counts as failed
SAMPLE_EVERY = 0.01
SETTLE = 2.0  # seconds after a burst before "held when idle" is read
RACE_JOINERS = 60
RACE_SEATS = 50


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the table: what was done, what came back, and the target."""

    section: str
    load: str
    outcome: str
    connections: str  # held by the server: peak during the section / a moment after
    target: str
    met: bool
    figures: dict[str, Any] = field(default_factory=dict)


def markdown(rows: list[Row]) -> str:
    lines = [
        "| section | load | outcome | server's DB connections, peak / idle after | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        met = "yes" if row.met else "**no**"
        lines.append(
            f"| {row.section} | {row.load} | {row.outcome} | {row.connections} | "
            f"{row.target} | {met} |"
        )
    return "\n".join(lines)


# --- the stage --------------------------------------------------------------------------------


@dataclass
class Stage:
    server: Daphne
    db_url: str  # the bench's own connections (not counted)
    room_token: str  # an open room anyone holding the link may look at


class ConnectionWatch:
    """Samples how many connections the server holds while the block runs; `idle()` reads
    the count once more after a pause."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.peak = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def count(self) -> int:
        with self._lock:
            row = self.conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                [SERVER_APP_NAME],
            ).fetchone()
        return int(row[0]) if row else 0

    @contextlib.contextmanager
    def watching(self) -> Iterator[ConnectionWatch]:
        self.peak = 0
        self._stop.clear()

        def sample() -> None:
            while not self._stop.is_set():
                self.peak = max(self.peak, self.count())
                self._stop.wait(SAMPLE_EVERY)

        thread = threading.Thread(target=sample, name="connection-watch", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(timeout=10)
            self.peak = max(self.peak, self.count())

    def idle(self) -> int:
        time.sleep(SETTLE)
        return self.count()


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no HTTP answer (refused, reset, timed out)
    error: str  # the error shape's code, or the transport error's name
    retry_after: bool
    json_body: bool


async def _answer(request: Any) -> Answer:
    try:
        response: httpx.Response = await request
    except httpx.HTTPError as error:
        return Answer(0, type(error).__name__, False, False)
    code = ""
    is_json = response.headers.get("content-type", "").startswith("application/json")
    if is_json:
        with contextlib.suppress(ValueError, AttributeError, TypeError):
            code = str(response.json().get("error", {}).get("code", ""))
    return Answer(response.status_code, code, "retry-after" in response.headers, is_json)


def tally(answers: list[Answer]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for a in answers:
        if a.status == 0:
            counts["no answer"] += 1
        elif a.status == 503 and a.json_body and a.retry_after:
            counts["503 json + Retry-After"] += 1
        elif a.status >= 500:
            counts["other 5xx"] += 1
        elif a.status >= 400:
            counts[f"{a.status} {a.error}".strip()] += 1
        else:
            counts[str(a.status)] += 1
    return dict(counts)


def _outcome(counts: dict[str, int]) -> str:
    order = sorted(counts, key=lambda k: (not k.startswith("2"), k))
    return ", ".join(f"{counts[k]} x {k}" for k in order)


# --- sections ---------------------------------------------------------------------------------


def parallel_reads(count: int) -> Callable[[Stage, ConnectionWatch], Row]:
    """`count` anonymous GET /api/rooms/<token>/ at once (the link holder's room preview)."""

    def section(stage: Stage, watch: ConnectionWatch) -> Row:
        async def fire() -> list[Answer]:
            limits = httpx.Limits(max_connections=count, max_keepalive_connections=0)
            async with httpx.AsyncClient(
                base_url=stage.server.url, timeout=REQUEST_TIMEOUT, limits=limits
            ) as http:
                url = f"/api/rooms/{stage.room_token}/"
                return await asyncio.gather(*(_answer(http.get(url)) for _ in range(count)))

        started = time.perf_counter()
        with watch.watching():
            answers = asyncio.run(fire())
        elapsed = time.perf_counter() - started
        idle = watch.idle()
        counts = tally(answers)
        failures = counts.get("other 5xx", 0) + counts.get("no answer", 0)
        return Row(
            section=f"reads-{count}",
            load=f"{count} parallel anonymous GET /api/rooms/<t>/",
            outcome=_outcome(counts) + f" in {elapsed:.1f} s",
            connections=f"{watch.peak} / {idle}",
            target="no 5xx but JSON 503 + Retry-After; connections ≤ the pool's max",
            met=failures == 0,
            figures={
                "answers": counts,
                "seconds": round(elapsed, 2),
                "peak_connections": watch.peak,
                "idle_connections": idle,
            },
        )

    return section


def capacity_race(stage: Stage, watch: ConnectionWatch) -> Row:
    """60 cookie-less guests join a 50-seat room (the host holds one seat) at the same moment,
    through the join API. Exactly 50 seats may be taken."""
    from rooms import services
    from rooms.models import Participant, ParticipantState
    from rooms.services import Identity

    host = _user("race_host")
    room = services.room_create(host=host, title="Race", capacity=RACE_SEATS, waiting_room=False)
    seat = services.room_join(token=room.token, identity=Identity(user=host)).participant
    services.participant_connected(participant_id=seat.pk)

    async def fire() -> list[Answer]:
        clients = [
            httpx.AsyncClient(base_url=stage.server.url, timeout=REQUEST_TIMEOUT)
            for _ in range(RACE_JOINERS)
        ]
        try:
            url = f"/api/rooms/{room.token}/join/"
            return await asyncio.gather(
                *(
                    _answer(c.post(url, json={"display_name": f"Guest {n}"}))
                    for n, c in enumerate(clients)
                )
            )
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))

    with watch.watching():
        answers = asyncio.run(fire())
    idle = watch.idle()
    seated = Participant.objects.filter(room=room, state=ParticipantState.ADMITTED).count()
    counts = tally(answers)
    failures = counts.get("other 5xx", 0) + counts.get("no answer", 0)
    return Row(
        section="capacity-race",
        load=f"{RACE_JOINERS} simultaneous guest joins, {RACE_SEATS}-seat room (host inside)",
        outcome=f"{seated} seated; " + _outcome(counts),
        connections=f"{watch.peak} / {idle}",
        target=f"exactly {RACE_SEATS} seated, no 5xx",
        met=seated == RACE_SEATS and failures == 0,
        figures={"seated": seated, "answers": counts, "peak_connections": watch.peak},
    )


SECTIONS: dict[str, Callable[[Stage, ConnectionWatch], Row]] = {
    "reads-120": parallel_reads(120),
    "reads-500": parallel_reads(500),
    "capacity-race": capacity_race,
}


# --- running ----------------------------------------------------------------------------------


def _server_database_url(db_url: str) -> str:
    separator = "&" if "?" in db_url else "?"
    return f"{db_url}{separator}application_name={SERVER_APP_NAME}"


def _user(username: str) -> Any:
    from django.contrib.auth.hashers import make_password

    from accounts.models import User

    return User.objects.create(
        username=username, display_name=username, password=make_password(None)
    )


def _open_room() -> str:
    from rooms import services
    from rooms.services import Identity

    host = _user("reads_host")
    room = services.room_create(host=host, title="Reads", waiting_room=False)
    seat = services.room_join(token=room.token, identity=Identity(user=host)).participant
    services.participant_connected(participant_id=seat.pk)
    return room.token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated, from: {', '.join(SECTIONS)}",
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)}")

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
    # The server runs with the default settings, whatever this shell has set.
    for key in [k for k in os.environ if k.startswith("DB_POOL_")]:
        del os.environ[key]
    servers: list[Daphne] = []
    rows: list[Row] = []
    started = dt.datetime.now(dt.UTC)
    try:
        flush_redis(layer_url)
        setup_django(db_url, layer_url)
        logging.getLogger("httpx").setLevel(logging.WARNING)
        token = _open_room()
        with psycopg.connect(db_url, autocommit=True, connect_timeout=5) as watcher:
            row = watcher.execute("SHOW max_connections").fetchone()
            max_connections = int(row[0]) if row else 0
            servers = start_servers(
                1,
                database_url=_server_database_url(db_url),
                redis_url=layer_url,
                LOG_LEVEL="WARNING",
            )
            stage = Stage(servers[0], db_url, token)
            watch = ConnectionWatch(watcher)
            for name in chosen:
                print(f"running {name} ...", file=sys.stderr, flush=True)
                rows.append(SECTIONS[name](stage, watch))
    finally:
        stop_servers(servers)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        recreate_database(admin_url, SCRATCH_DB, create=False)
        with contextlib.suppress(Exception):
            flush_redis(layer_url)

    report = {
        "benchmark": "abuse",
        "started_at": started.isoformat(),
        "commit": git_commit(),
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "setup": {"processes": 1, "database": "postgresql", "max_connections": max_connections},
        "rows": [asdict(row) for row in rows],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"abuse-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"PostgreSQL max_connections: {max_connections}; one daphne, default settings")
    print(markdown(rows))
    print(f"\nwritten: {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Abuse and load against real daphnes on PostgreSQL: what holds and what breaks.

    PYTHONPATH=. .venv/bin/python -m bench.abuse                     # every section, ~4 min
    PYTHONPATH=. .venv/bin/python -m bench.abuse --sections reads-120,capacity-race

Creates a scratch database (`rooms_bench_abuse`, dropped at the end) through
BENCH_ADMIN_DATABASE_URL (default: DATABASE_URL's server, else the local `postgres`), migrates
it, uses Redis database 7 of REDIS_URL's server (flushed), and starts ONE daphne with the
default server settings (every DB_POOL_* variable of the calling environment is removed), except
that it trusts one proxy (ROOMS_TRUSTED_PROXY_COUNT=1): on loopback an X-Forwarded-For header
then stands for the client's address, so attackers can bring many. The flood sections start a
second daphne like it. The servers' database connections carry their own `application_name`,
so a sampler counts exactly the connections they hold (pg_stat_activity, every 10 ms, from a
connection opened before the servers start).

Sections (issue 15's items): reads and the capacity race (1), log-in guessing through the form
and the token endpoint (2, 3), room password guessing live and over a simulated hour (4), a
hand-raising flooder that joins again whenever closed, keeping its cookies or not (5), and a
socket written to without pause. Attackers run in processes of their own (bench/attackers.py),
so the honest clients this process times are not slowed by the attackers' own work.

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
import itertools
import json
import logging
import math
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

from bench import attackers, passwords  # noqa: E402
from bench.signaling import (  # noqa: E402
    admin_database_url,
    git_commit,
    percentile,
    recreate_database,
    setup_django,
    with_database,
)
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

SCRATCH_DB = "rooms_bench_abuse"
REDIS_DB = 7
SERVER_APP_NAME = "rooms-bench-abuse-server"
REQUEST_TIMEOUT = 120.0  # seconds one request may take before it counts as failed
SAMPLE_EVERY = 0.01
SETTLE = 2.0  # seconds after a burst before "held when idle" is read
RACE_JOINERS = 60
RACE_SEATS = 50
# The servers trust one proxy, so an X-Forwarded-For header stands for a client's address on
# loopback (bench/attackers.py). Without the header the peer is the address, as before.
SERVER_ENV = {"LOG_LEVEL": "WARNING", "ROOMS_TRUSTED_PROXY_COUNT": "1"}
SPAWN_MARGIN = 4.0  # seconds an attacker's process is given to start before its attack begins
LOGIN_GUESSERS = 8
LOGIN_BASELINE_SECONDS = 6.0
LOGIN_ATTACK_SECONDS = 15.0
HONEST_LOGIN_EVERY = 1.0  # seconds between one honest log-in and the next
HONEST_GET_EVERY = 0.1
VICTIM_PASSWORD = "the victim's own passphrase"  # noqa: S105 (a scratch account's)
HONEST_PASSWORD = "an honest person's passphrase"  # noqa: S105
PASSWORD_ADDRESSES = 50
PASSWORD_GUESSERS = 8
PASSWORD_LIVE_SECONDS = 20.0
# Seconds into the live attack that honest newcomers arrive, each from an address of its own.
NEWCOMERS_AFTER = (5.0, 15.0)
FLOOD_SECONDS = 15.0
HONEST_HAND_EVERY = 1.0
FRAMES_SECONDS = 5.0
PROMPT = 0.2  # a ping answered within this is "prompt"
RECOVERY_CAP = 60.0


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
    # Every server running (the caller stops them); `second()` starts one more when asked.
    servers: list[Daphne] = field(default_factory=list)
    server_options: dict[str, Any] = field(default_factory=dict)

    def second(self) -> Daphne:
        """A second daphne on the same database and Redis (started once, on first use)."""
        if len(self.servers) < 2:
            self.servers.extend(start_servers(1, **self.server_options))
            self.servers[-1].name = "B"
        return self.servers[1]


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


def _ms(values: list[float]) -> str:
    """ "p50 / p99" in milliseconds (nearest rank), or "-" without samples."""
    if not values:
        return "-"
    return f"{percentile(values, 50) * 1000:.0f} / {percentile(values, 99) * 1000:.0f}"


def _summary_ms(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


# Log-in guessing (issue 15, items 2 and 3) ---------------------------------------------------


@dataclass
class Timed:
    sent: float  # time.time(), to split samples at the attack's start and end
    seconds: float  # how long the answer took (perf_counter)
    ok: bool


async def _login_page(http: httpx.AsyncClient) -> str:
    page = await http.get("/accounts/login/")
    found = attackers.CSRF_FIELD.search(page.text)
    if found is None:
        raise RuntimeError(f"no CSRF field on the log-in page ({page.status_code})")
    return found.group(1)


async def _honest_traffic(
    stage: Stage, usernames: list[str], until: float
) -> tuple[list[Timed], list[Timed]]:
    """People on other accounts log in (one at a time, every HONEST_LOGIN_EVERY seconds, in
    turn through the form and the token endpoint, each from an address of their own), and a
    visitor reads the room preview every HONEST_GET_EVERY seconds, until `until`."""
    logins: list[Timed] = []
    reads: list[Timed] = []

    async def log_in() -> None:
        for n in itertools.count():
            if time.time() >= until:
                return
            name = usernames[n % len(usernames)]
            headers = {"X-Forwarded-For": f"198.51.100.{n % len(usernames) + 1}"}
            async with httpx.AsyncClient(
                base_url=stage.server.url, timeout=REQUEST_TIMEOUT
            ) as http:
                form = n % 2 == 0
                csrf = await _login_page(http) if form else ""
                sent, started = time.time(), time.perf_counter()
                try:
                    if form:
                        body = {"username": name, "password": HONEST_PASSWORD}
                        response = await http.post(
                            "/accounts/login/",
                            data={**body, "csrfmiddlewaretoken": csrf},
                            headers=headers,
                        )
                        ok = response.status_code == 302
                    else:
                        response = await http.post(
                            "/api/auth/token/",
                            json={"username": name, "password": HONEST_PASSWORD},
                            headers=headers,
                        )
                        ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                logins.append(Timed(sent, time.perf_counter() - started, ok))
            await asyncio.sleep(HONEST_LOGIN_EVERY)

    async def read() -> None:
        async with httpx.AsyncClient(base_url=stage.server.url, timeout=REQUEST_TIMEOUT) as http:
            while time.time() < until:
                sent, started = time.time(), time.perf_counter()
                try:
                    ok = (await http.get(f"/api/rooms/{stage.room_token}/")).status_code == 200
                except httpx.HTTPError:
                    ok = False
                reads.append(Timed(sent, time.perf_counter() - started, ok))
                await asyncio.sleep(HONEST_GET_EVERY)

    await asyncio.gather(log_in(), read())
    return logins, reads


def _split(samples: list[Timed], started: float, stopped: float) -> tuple[list[Timed], ...]:
    before = [s for s in samples if s.sent < started]
    during = [s for s in samples if started <= s.sent < stopped]
    return before, during


def login_guessing(stage: Stage, watch: ConnectionWatch) -> Row:
    """LOGIN_GUESSERS clients guess one account's password for LOGIN_ATTACK_SECONDS through the
    log-in form and the token endpoint, every guess from another address, while people on other
    accounts log in and a visitor reads a room; then the right password is tried."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from accounts.models import User

    honest = [f"honest{n}" for n in range(1, 5)]
    honest_hash = make_password(HONEST_PASSWORD)  # hashed once: it takes most of a second
    User.objects.bulk_create(
        User(username=name, display_name=name, password=honest_hash) for name in honest
    )
    User.objects.create(
        username="victim", display_name="victim", password=make_password(VICTIM_PASSWORD)
    )
    attack_at = time.time() + LOGIN_BASELINE_SECONDS
    stop_at = attack_at + LOGIN_ATTACK_SECONDS
    with (
        attackers.run_attacker(
            attackers.guess_logins,
            stage.server.url,
            "victim",
            attack_at,
            stop_at,
            LOGIN_GUESSERS,
            timeout=stop_at - time.time() + 60,
        ) as guesses,
        watch.watching(),
    ):
        logins, reads = asyncio.run(_honest_traffic(stage, honest, stop_at))
        attack = guesses()

    async def right_password() -> httpx.Response:
        async with httpx.AsyncClient(base_url=stage.server.url, timeout=REQUEST_TIMEOUT) as http:
            return await http.post(
                "/api/auth/token/",
                json={"username": "victim", "password": VICTIM_PASSWORD},
                headers={"X-Forwarded-For": "203.0.113.77"},
            )

    then = asyncio.run(right_password())
    idle = watch.idle()
    form, token = Counter(attack["form"]), Counter(attack["token"])
    checked = form["checked"] + token["checked"]
    refused = form["refused"] + token["refused"]
    seconds = attack["stopped"] - attack["started"]
    others = {
        k: v for k, v in (form + token).items() if k not in ("checked", "refused")
    }  # "in", other statuses, no answer
    login_before, login_during = _split(logins, attack["started"], attack["stopped"])
    read_before, read_during = _split(reads, attack["started"], attack["stopped"])
    honest_failed = sum(not s.ok for s in logins + reads)
    then_text = f"{then.status_code}" + (
        f" (Retry-After {then.headers['Retry-After']} s)" if "Retry-After" in then.headers else ""
    )
    per_account = settings.LOGIN_ATTEMPTS_PER_ACCOUNT
    window_minutes = settings.LOGIN_WINDOW_SECONDS // 60
    return Row(
        section="login-guesses",
        load=(
            f"{LOGIN_GUESSERS} clients guess one account's password for {seconds:.0f} s, half "
            "through the log-in form, half through POST /api/auth/token/, a new X-Forwarded-For "
            "address every guess; meanwhile other accounts log in and a visitor reads a room"
        ),
        outcome=(
            f"{checked} guesses checked (form {form['checked']}, token {token['checked']}), "
            f"{refused} refused unchecked (429), {checked / seconds:.2f} checked/s"
            + (f", also {_outcome(others)}" if others else "")
            + f"; the right password then: {then_text}; honest log-ins p50 / p99 "
            f"{_ms([s.seconds for s in login_before])} ms before, "
            f"{_ms([s.seconds for s in login_during])} ms during; honest GETs "
            f"{_ms([s.seconds for s in read_before])} ms before, "
            f"{_ms([s.seconds for s in read_during])} ms during; "
            f"{len(logins) + len(reads) - honest_failed} of {len(logins) + len(reads)} honest "
            "requests answered as they should"
        ),
        connections=f"{watch.peak} / {idle}",
        target=(
            f"≤ {per_account} guesses checked per account per {window_minutes} min from any "
            "number of addresses; other accounts still log in"
        ),
        met=checked <= per_account and honest_failed == 0 and not others,
        figures={
            "attack_seconds": round(seconds, 2),
            "form": dict(form),
            "token": dict(token),
            "checked_per_second": round(checked / seconds, 3),
            "right_password_then": {
                "status": then.status_code,
                "retry_after": then.headers.get("Retry-After"),
            },
            "honest_logins_before": _summary_ms([s.seconds for s in login_before]),
            "honest_logins_during": _summary_ms([s.seconds for s in login_during]),
            "honest_gets_before": _summary_ms([s.seconds for s in read_before]),
            "honest_gets_during": _summary_ms([s.seconds for s in read_during]),
            "honest_failed": honest_failed,
            "peak_connections": watch.peak,
        },
    )


# Room password guessing (issue 15, item 4) ---------------------------------------------------


def _password_room(title: str) -> Any:
    from rooms import services
    from rooms.services import Identity

    host = _user(f"{title}_host")
    room = services.room_create(host=host, title=title, password=passwords.ROOM_PASSWORD)
    seat = services.room_join(token=room.token, identity=Identity(user=host)).participant
    services.participant_connected(participant_id=seat.pk)
    return room


async def _newcomer(
    stage: Stage, token: str, address: str, arrive_at: float, until: float
) -> dict[str, Any]:
    """Someone with the right password, from `address`, who arrives at `arrive_at` and tries
    again at every Retry-After while that comes before `until`."""
    await asyncio.sleep(max(0.0, arrive_at - time.time()))
    answers: list[str] = []
    async with httpx.AsyncClient(base_url=stage.server.url, timeout=REQUEST_TIMEOUT) as http:
        arrived = time.time()
        while True:
            response = await http.post(
                f"/api/rooms/{token}/join/",
                json={"display_name": "Newcomer", "password": passwords.ROOM_PASSWORD},
                headers={"X-Forwarded-For": address},
            )
            code = _answer_code(response)
            answers.append(f"{response.status_code} {code}".strip())
            if response.status_code == 200:
                return {"waited": round(time.time() - arrived, 2), "answers": answers}
            retry_after = int(response.headers.get("Retry-After") or 0)
            if response.status_code != 429 or time.time() + retry_after >= until:
                return {"waited": None, "answers": answers, "retry_after": retry_after}
            await asyncio.sleep(retry_after)


async def _newcomers(
    stage: Stage, token: str, attack_at: float, stop_at: float
) -> list[dict[str, Any]]:
    """A newcomer at each of NEWCOMERS_AFTER, from addresses of their own."""
    arrivals = [
        _newcomer(stage, token, f"192.0.2.{n + 1}", attack_at + after, stop_at)
        for n, after in enumerate(NEWCOMERS_AFTER)
    ]
    return list(await asyncio.gather(*arrivals))


def _answer_code(response: httpx.Response) -> str:
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        return str(response.json().get("error", {}).get("code", ""))
    return ""


def password_guessing_live(stage: Stage, watch: ConnectionWatch) -> Row:
    """PASSWORD_GUESSERS clients send wrong room passwords as fast as the server answers, from
    PASSWORD_ADDRESSES addresses in turn and without cookies, for PASSWORD_LIVE_SECONDS of real
    time; honest newcomers with the right password arrive NEWCOMERS_AFTER seconds in."""
    from django.conf import settings

    room = _password_room("live_guessing")
    attack_at = time.time() + SPAWN_MARGIN
    stop_at = attack_at + PASSWORD_LIVE_SECONDS
    with (
        attackers.run_attacker(
            attackers.guess_room_password,
            stage.server.url,
            room.token,
            PASSWORD_ADDRESSES,
            attack_at,
            stop_at,
            PASSWORD_GUESSERS,
            timeout=stop_at - time.time() + 60,
        ) as guesses,
        watch.watching(),
    ):
        arrivals = asyncio.run(_newcomers(stage, room.token, attack_at, stop_at))
        attack = guesses()
    idle = watch.idle()
    answers = Counter(attack["answers"])
    checked = answers["403 wrong_password"]
    seconds = attack["stopped"] - attack["started"]
    requests = sum(answers.values())
    window = settings.ROOMS_PASSWORD_ROOM_WINDOW_SECONDS
    # The room budget's windows are aligned to the clock: a run may span two of them.
    windows = int(attack["stopped"] // window) - int(attack["started"] // window) + 1
    bound = 2 * settings.ROOMS_PASSWORD_ROOM_GUESSES * windows
    five_xx = sum(n for answer, n in answers.items() if answer.startswith("5"))
    newcomer_text = "; ".join(
        f"arriving {after:.0f} s in, "
        + (
            f"got in after {n['waited']:.1f} s"
            if n["waited"] is not None
            else f"still waiting when the attack ended (Retry-After {n['retry_after']} s)"
        )
        + f" ({', '.join(n['answers'])})"
        for after, n in zip(NEWCOMERS_AFTER, arrivals, strict=True)
    )
    return Row(
        section="password-guesses-live",
        load=(
            f"{PASSWORD_GUESSERS} clients send wrong room passwords for {seconds:.0f} s of real "
            f"time as fast as answered, from {PASSWORD_ADDRESSES} addresses in turn, no cookies; "
            "newcomers with the right password arrive "
            + " and ".join(f"{after:.0f}" for after in NEWCOMERS_AFTER)
            + " s in, each from an address of its own"
        ),
        outcome=(
            f"{checked} passwords checked, {requests - checked} refused unchecked "
            f"({_outcome({k: v for k, v in answers.items() if k != '403 wrong_password'})}), "
            f"{requests / seconds:.0f} requests/s; newcomers: {newcomer_text}"
        ),
        connections=f"{watch.peak} / {idle}",
        target=f"≤ {bound} checked ({windows} room window(s) of {window // 60} min), no 5xx",
        met=checked <= bound and five_xx == 0,
        figures={
            "attack_seconds": round(seconds, 2),
            "answers": dict(answers),
            "checked": checked,
            "room_windows": windows,
            "newcomers": dict(zip([str(a) for a in NEWCOMERS_AFTER], arrivals, strict=True)),
            "peak_connections": watch.peak,
        },
    )


def password_guessing_hour(stage: Stage, watch: ConnectionWatch) -> Row:
    """bench/passwords.py's hour of guessing, PASSWORD_ADDRESSES addresses, in this process:
    the join API through Django's test client on this database and Redis, the real limiter on
    a simulated clock (the join limits lifted: they count on the real clock)."""
    from django.conf import settings
    from django.test import override_settings

    with (
        override_settings(
            PASSWORD_HASHERS=passwords.FAST_HASHERS,
            ALLOWED_HOSTS=["testserver"],  # the test client's host name
            **passwords.PASSWORDS_ALONE,
        ),
        _quiet("django.request"),  # a line per 403/429 otherwise
    ):
        result = passwords.attack_room(
            host=_user("hour_host"), addresses=PASSWORD_ADDRESSES, seconds=3600
        )
    arrivals = ", ".join(f"{a / 60:.0f}" for a in passwords.ARRIVALS)
    waits = "; ".join(
        f"{kind}: {passwords.wait_cell(result.waits[kind])}" for kind in passwords.NEWCOMERS
    )
    windows = 3600 // settings.ROOMS_PASSWORD_ROOM_WINDOW_SECONDS
    bound = 2 * settings.ROOMS_PASSWORD_ROOM_GUESSES * windows  # the budget and its reserve
    own = result.waits[passwords.NEWCOMERS[0]]
    return Row(
        section="password-guesses-hour",
        load=(
            f"bench/passwords.py: {PASSWORD_ADDRESSES} addresses guess for a simulated hour "
            "(the next guess at once, or at Retry-After), no cookies; newcomers with the right "
            f"password arrive at minutes {arrivals}"
        ),
        outcome=(
            f"{result.checked} passwords checked in the hour, {result.refused} refused, "
            f"{result.requests} requests; newcomer waits in s ({waits})"
        ),
        connections="in the bench's process, not the server",
        target=f"≤ {bound} checked an hour; a newcomer from its own address gets in",
        met=result.checked <= bound and all(w is not None for w in own),
        figures={
            "checked": result.checked,
            "refused": result.refused,
            "requests": result.requests,
            "waits": result.waits,
        },
    )


@contextlib.contextmanager
def _quiet(logger: str) -> Iterator[None]:
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


# A socket flood (issue 15, item 5) -----------------------------------------------------------


def hand_changes(
    received: list[tuple[float, Message]], participant_ids: set[int]
) -> list[tuple[float, int, bool]]:
    """(arrival, participant id, raised) for every change of those people's hands that a socket
    heard, starting from its snapshot."""
    hands: dict[int, bool] = {}
    changes = []
    for arrived, message in received:
        people = message.get("roster") if message.get("type") == "snapshot" else None
        if isinstance(people, list):
            for person in people:
                hands[person["id"]] = bool(person.get("hand_raised"))
            continue
        person = message.get("participant")
        if not isinstance(person, dict) or person.get("id") not in participant_ids:
            continue
        raised = bool(person.get("hand_raised"))
        if "hand_raised" in person and hands.get(person["id"], False) != raised:
            changes.append((arrived, person["id"], raised))
        hands[person["id"]] = raised
    return changes


@dataclass
class Heard:
    """What the room's other members saw of a flood."""

    witness: LiveSocket  # a member on B who only listens
    honest_id: int
    honest_sent: list[tuple[float, bool]]  # (perf_counter, raised) of each honest change
    # With `recovery`: seconds after the flood until server A answered the honest guest's ping
    # within PROMPT (None: not within RECOVERY_CAP), every ping's round trip after the flood,
    # and server A's resident memory before, at the end of and after the flood.
    recovered_after: float | None = None
    pings: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)


def _rss_mib(server: Daphne) -> float:
    if server.process is None:
        return 0.0
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def _recovery(honest: LiveSocket, since: float, heard: Heard) -> None:
    """Ping from the honest guest until an answer comes back within PROMPT."""
    deadline = since + RECOVERY_CAP
    while time.time() < deadline:
        started = time.perf_counter()
        await honest.send({"type": "ping"})
        try:
            await honest.expect_type("pong", timeout=max(0.1, deadline - time.time()))
        except AssertionError:
            return
        heard.pings.append(time.perf_counter() - started)
        if heard.pings[-1] <= PROMPT:
            heard.recovered_after = round(time.time() - since, 2)
            return
        await asyncio.sleep(0.5)


async def _flood_room(
    stage: Stage,
    room_token: str,
    host_key: str,
    flood_at: float,
    stop_at: float,
    *,
    recovery: bool = False,
) -> Heard:
    """The host (on A), a witness (a guest on B, who only listens) and an honest guest (on A)
    who raises and lowers their hand every HONEST_HAND_EVERY seconds from `flood_at` to
    `stop_at`; with `recovery`, then until server A answers promptly again (`_recovery`)."""
    a, b = stage.server, stage.second()
    clients = {
        "host": httpx.AsyncClient(
            base_url=a.url, timeout=REQUEST_TIMEOUT, headers={"Authorization": f"Token {host_key}"}
        ),
        "witness": httpx.AsyncClient(base_url=b.url, timeout=REQUEST_TIMEOUT),
        "honest": httpx.AsyncClient(base_url=a.url, timeout=REQUEST_TIMEOUT),
    }
    sockets: list[LiveSocket] = []
    try:
        joined = await join(clients["host"], room_token)
        host = await LiveSocket.open(a, room_token, joined["ticket"], name="host")
        sockets.append(host)
        await host.expect_type("snapshot", timeout=20)
        joined = await join(clients["witness"], room_token, display_name="Witness")
        witness = await LiveSocket.open(b, room_token, joined["ticket"], name="witness")
        sockets.append(witness)
        await witness.expect_type("snapshot", timeout=20)
        joined = await join(clients["honest"], room_token, display_name="Honest")
        honest = await LiveSocket.open(a, room_token, joined["ticket"], name="honest")
        sockets.append(honest)
        await honest.expect_type("snapshot", timeout=20)
        heard = Heard(witness, joined["participant"]["id"], [])
        await asyncio.sleep(max(0.0, flood_at - time.time()))
        heard.rss_mib.append(_rss_mib(a))
        raised = True
        while time.time() < stop_at:
            heard.honest_sent.append((time.perf_counter(), raised))
            await honest.send({"type": "hand.set", "raised": raised})
            raised = not raised
            await asyncio.sleep(HONEST_HAND_EVERY)
        if recovery:
            heard.rss_mib.append(_rss_mib(a))
            await _recovery(honest, stop_at, heard)
            heard.rss_mib.append(_rss_mib(a))
        await asyncio.sleep(SETTLE)  # what is on its way arrives
        return heard
    finally:
        for socket in sockets:
            await socket.close()
        for client in clients.values():
            await client.aclose()


def _honest_figures(heard: Heard) -> tuple[int, list[float]]:
    """How many of the honest guest's changes reached the witness, and how long each took."""
    seen = [(t, r) for t, _, r in hand_changes(heard.witness.received, {heard.honest_id})]
    latencies = [
        arrived - sent
        for (sent, raised), (arrived, seen_raised) in zip(heard.honest_sent, seen, strict=False)
        if raised == seen_raised
    ]
    return len(seen), latencies


def _flood_stage(stage: Stage, name: str) -> tuple[Any, str]:
    """A room without a waiting room for a flood section, and its host's API token."""
    from rest_framework.authtoken.models import Token

    from rooms import services

    host = _user(f"{name}_host")
    room = services.room_create(host=host, title=name, waiting_room=False)
    return room, Token.objects.create(user=host).key


def _ws_base(server: Daphne) -> str:
    return f"ws://{server.url.removeprefix('http://')}"


def socket_flood(cookies: bool) -> Callable[[Stage, ConnectionWatch], Row]:
    """A guest floods `hand.set` for FLOOD_SECONDS and joins again (join API, new socket, the
    other daphne) whenever its socket is closed; a second member on the other daphne counts
    the hand changes that reach the room, and an honest guest's changes are timed."""

    def section(stage: Stage, watch: ConnectionWatch) -> Row:
        from django.conf import settings

        name = "flood-keeps-cookies" if cookies else "flood-new-guest-each-time"
        room, host_key = _flood_stage(stage, name)
        servers = [(s.url, _ws_base(s)) for s in (stage.server, stage.second())]
        flood_at = time.time() + SPAWN_MARGIN
        stop_at = flood_at + FLOOD_SECONDS
        with (
            attackers.run_attacker(
                attackers.flood_hands,
                servers,
                room.token,
                flood_at,
                stop_at,
                cookies,
                timeout=stop_at - time.time() + 60,
            ) as flood,
            watch.watching(),
        ):
            heard = asyncio.run(_flood_room(stage, room.token, host_key, flood_at, stop_at))
            flooded = flood()
        idle = watch.idle()
        flooders = set(flooded["participants"])
        counts = Counter(flooded["counts"])
        seconds = flooded["stopped"] - flooded["started"]
        changes = hand_changes(heard.witness.received, flooders)
        about_flooder = sum(
            1
            for _, m in heard.witness.received
            if isinstance(m.get("participant"), dict) and m["participant"].get("id") in flooders
        )
        honest_arrived, latencies = _honest_figures(heard)
        window = settings.ROOMS_SOCKET_CHANGES_WINDOW_SECONDS
        per_window = settings.ROOMS_SOCKET_CHANGES
        windows = math.ceil(seconds / window)
        bound = windows * (per_window + 1)  # +1: lowering a raised hand is always allowed
        refusals = {k: v for k, v in counts.items() if k.startswith(("error", "join", "socket r"))}
        outcome = (
            f"{len(changes)} hand changes reached the room in {seconds:.0f} s "
            f"({len(changes) / seconds:.1f}/s) from {len(flooders)} participant(s) over "
            f"{counts['sockets']} sockets ({max(0, counts['sockets'] - 1)} re-joins), "
            f"{counts['hand.set sent']} hand.set sent; {about_flooder} room events about "
            f"the flooder in all; {_outcome(refusals)}; the honest guest's changes: "
            f"{honest_arrived} of {len(heard.honest_sent)} arrived, {_ms(latencies)} ms p50 / p99"
        )
        if cookies:
            target = (
                f"≤ {per_window} changes per person per {window} s window (+1 lowered hand), "
                f"however often it re-joins: ≤ {bound} here"
            )
            met = len(changes) <= bound
        else:
            target = (
                "a new guest each time gets a budget of its own: bounded by the joins per "
                f"address ({settings.ROOMS_JOINS_PER_ADDRESS} per "
                f"{settings.ROOMS_JOIN_WINDOW_SECONDS} s) x {per_window}"
            )
            joins_bound = settings.ROOMS_JOINS_PER_ADDRESS * math.ceil(
                seconds / settings.ROOMS_JOIN_WINDOW_SECONDS
            )
            met = len(flooders) <= joins_bound and len(changes) <= joins_bound * (per_window + 1)
        met = met and honest_arrived == len(heard.honest_sent)
        return Row(
            section=name,
            load=(
                "a guest floods hand.set (raise, lower, ...) as fast as the server handles it for "
                f"{seconds:.0f} s and joins again whenever closed, alternating two daphnes, "
                + ("keeping its cookies" if cookies else "without cookies (a new guest each time)")
                + f"; an honest guest changes its hand every {HONEST_HAND_EVERY:.0f} s"
            ),
            outcome=outcome,
            connections=f"{watch.peak} / {idle} (2 servers)",
            target=target,
            met=met,
            figures={
                "flood_seconds": round(seconds, 2),
                "hand_changes_reaching_the_room": len(changes),
                "room_events_about_the_flooder": about_flooder,
                "flooder_participants": len(flooders),
                "flooder": dict(counts),
                "honest_sent": len(heard.honest_sent),
                "honest_arrived": honest_arrived,
                "honest_latency": _summary_ms(latencies),
                "peak_connections": watch.peak,
            },
        )

    return section


def frames_unanswered(stage: Stage, watch: ConnectionWatch) -> Row:
    """A guest writes hand.set frames on one socket (on A) for FRAMES_SECONDS without waiting
    for any answer; the honest guest on A changes its hand meanwhile, and then pings until A
    answers within PROMPT again."""
    room, host_key = _flood_stage(stage, "frames-unanswered")
    flood_at = time.time() + SPAWN_MARGIN
    stop_at = flood_at + FRAMES_SECONDS
    with (
        attackers.run_attacker(
            attackers.write_frames,
            stage.server.url,
            _ws_base(stage.server),
            room.token,
            flood_at,
            stop_at,
            timeout=stop_at - time.time() + RECOVERY_CAP + 60,
        ) as writing,
        watch.watching(),
    ):
        heard = asyncio.run(
            _flood_room(stage, room.token, host_key, flood_at, stop_at, recovery=True)
        )
        written = writing()
    idle = watch.idle()
    counts = Counter(written["counts"])
    seconds = written["stopped"] - written["started"]
    honest_arrived, latencies = _honest_figures(heard)
    recovered = (
        f"{heard.recovered_after:.1f} s after the writing stopped"
        if heard.recovered_after is not None
        else f"not within {RECOVERY_CAP:.0f} s"
    )
    return Row(
        section="frames-unanswered",
        load=(
            f"a guest writes hand.set frames on one socket for {seconds:.0f} s as fast as its "
            "connection takes them, reading nothing it must wait for; an honest guest on the "
            f"same daphne changes its hand every {HONEST_HAND_EVERY:.0f} s"
        ),
        outcome=(
            f"{counts['frames written']} frames written; the writer heard: "
            + (_outcome({k: v for k, v in counts.items() if k != "frames written"}) or "nothing")
            + f"; the honest guest's changes: {honest_arrived} of {len(heard.honest_sent)} "
            f"arrived, {_ms(latencies)} ms p50 / p99; its ping answered within "
            f"{PROMPT * 1000:.0f} ms {recovered}; the server's memory "
            + " → ".join(f"{m:.0f}" for m in heard.rss_mib)
            + " MiB (before, at the end, after)"
        ),
        connections=f"{watch.peak} / {idle} (2 servers)",
        target="the honest guest's changes keep arriving; the server answers promptly again",
        met=honest_arrived == len(heard.honest_sent) and heard.recovered_after is not None,
        figures={
            "writing_seconds": round(seconds, 2),
            "writer": dict(counts),
            "honest_sent": len(heard.honest_sent),
            "honest_arrived": honest_arrived,
            "honest_latency": _summary_ms(latencies),
            "recovered_after_s": heard.recovered_after,
            "pings_after_ms": [round(p * 1000, 1) for p in heard.pings],
            "server_rss_mib": heard.rss_mib,
            "peak_connections": watch.peak,
        },
    )


SECTIONS: dict[str, Callable[[Stage, ConnectionWatch], Row]] = {
    "reads-120": parallel_reads(120),
    "reads-500": parallel_reads(500),
    "capacity-race": capacity_race,
    "login-guesses": login_guessing,
    "password-guesses-live": password_guessing_live,
    "password-guesses-hour": password_guessing_hour,
    "flood-keeps-cookies": socket_flood(cookies=True),
    "flood-new-guest-each-time": socket_flood(cookies=False),
    "frames-unanswered": frames_unanswered,
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
            options: dict[str, Any] = {
                "database_url": _server_database_url(db_url),
                "redis_url": layer_url,
                **SERVER_ENV,
            }
            servers = start_servers(1, **options)
            stage = Stage(servers[0], db_url, token, servers=servers, server_options=options)
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
        "setup": {
            "processes": len(servers) or 1,
            "database": "postgresql",
            "max_connections": max_connections,
            "server_env": SERVER_ENV,
        },
        "rows": [asdict(row) for row in rows],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"abuse-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"PostgreSQL max_connections: {max_connections}; one daphne (two for the floods), "
        "default settings but one trusted proxy"
    )
    print(markdown(rows))
    print(f"\nwritten: {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

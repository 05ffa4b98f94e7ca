"""Room password guessing: how many guesses a room checks in an hour of attack, and how long an
honest newcomer with the right password waits meanwhile.

    .venv/bin/python bench/passwords.py [--addresses 1,5,50,500] [--hours 1] [--redis URL]

Everything goes through the real join API (`POST /api/rooms/<token>/join/`, Django's test
client) and the real limiter (rooms/ratelimit.py) on a simulated clock, so an hour takes
seconds. Each attacking address sends a wrong guess with no cookies (a fresh guest identity
every time, the strongest rotation there is), again at once after a `wrong_password` and after
`Retry-After` seconds after a 429: an attacker who wastes no request. When an attacker and
a newcomer are due at the same instant, the attacker goes first. Newcomers arrive at minutes
1, 15, 30 and 45 and retry after each `Retry-After` until they are past the password:

- "own address": a guest from an address of their own;
- "guest on the attacker's address": a guest behind the same address as the first attacker
  (a shared office address, or a proxy Rooms was not told to look past);
- "signed in on the attacker's address": the same, signed in.

"checked" counts `wrong_password` answers: passwords the room actually compared. Counters live
in a private in-process cache unless `--redis` names a Redis database (flushed before and after).
A scratch SQLite database is used and thrown away. The password hasher is MD5 here: the counts
and waits do not depend on the hasher's cost, only the run's wall time does.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
ROOM_PASSWORD = "correct horse battery"  # noqa: S105 (the bench room's, not a secret)
ARRIVALS = (60.0, 900.0, 1800.0, 2700.0)
START = 1_800_000_000.0  # a simulated instant at the start of a limiter window


@dataclass
class Clock:
    """The limiter's clock (rooms.ratelimit.clock), moved by the simulation."""

    now: float = START

    def __call__(self) -> float:
        return self.now


@dataclass
class Result:
    addresses: int
    seconds: float
    requests: int = 0
    checked: int = 0  # wrong passwords the room compared
    refused: int = 0  # 429 answers (nothing compared)
    # Newcomer kind -> for each arrival, in order, the seconds it waited (None: still waiting
    # when the time ran out).
    waits: dict[str, list[float | None]] = field(default_factory=dict)


NEWCOMERS = (
    "own address",
    "guest on the attacker's address",
    "signed in on the attacker's address",
)


def attacker_address(n: int) -> str:
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


def simulate(
    *,
    token: str,
    addresses: int,
    seconds: float,
    clock: Clock,
    signed_in_client: Callable[[], Any],
    arrivals: Sequence[float] = ARRIVALS,
    password: str = ROOM_PASSWORD,
) -> Result:
    """Run the attack for `seconds` of simulated time from `clock.now`; see the module doc.

    `signed_in_client()` returns an APIClient signed in as a new account each call (the
    "signed in" newcomers). Newcomers' waits are measured from their first try to the answer
    that let them past the password (None: still waiting when the time ran out).
    """
    from rest_framework.test import APIClient

    url = f"/api/rooms/{token}/join/"
    start = clock.now
    arrivals = [a for a in arrivals if a < seconds]
    result = Result(
        addresses=addresses, seconds=seconds, waits={k: [None] * len(arrivals) for k in NEWCOMERS}
    )
    # (time, 0 for attackers / 1 for newcomers, sequence, what)
    due: list[tuple[float, int, int, tuple[Any, ...]]] = []
    sequence = 0

    def at(when: float, rank: int, what: tuple[Any, ...]) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(due, (when, rank, sequence, what))

    for n in range(addresses):
        at(start, 0, ("attacker", n))
    for arrival in arrivals:
        shared = attacker_address(0)
        for kind, client, address in (
            (NEWCOMERS[0], APIClient(), "192.0.2.1"),
            (NEWCOMERS[1], APIClient(), shared),
            (NEWCOMERS[2], signed_in_client(), shared),
        ):
            at(start + arrival, 1, ("newcomer", kind, client, address, arrival))
    guess = 0
    while due:
        when, _rank, _, what = heapq.heappop(due)
        if when >= start + seconds:
            break
        clock.now = max(clock.now, when)
        result.requests += 1
        if what[0] == "attacker":
            guess += 1
            r = APIClient().post(
                url,
                {"display_name": "Guesser", "password": f"guess-{guess:08d}"},
                format="json",
                REMOTE_ADDR=attacker_address(what[1]),
            )
            code = r.json()["error"]["code"]
            if code == "wrong_password":
                result.checked += 1
                at(clock.now, 0, what)
            elif r.status_code == 429:
                result.refused += 1
                at(clock.now + int(r["Retry-After"]), 0, what)
            else:
                raise RuntimeError(f"unexpected answer to a guess: {r.status_code} {r.json()}")
            continue
        _, kind, client, address, arrival = what
        r = client.post(
            url,
            {"display_name": "Newcomer", "password": password},
            format="json",
            REMOTE_ADDR=address,
        )
        if r.status_code == 200:
            result.waits[kind][arrivals.index(arrival)] = clock.now - (start + arrival)
        elif r.status_code == 429:
            result.refused += 1
            at(clock.now + int(r["Retry-After"]), 1, what)
        else:
            raise RuntimeError(f"unexpected answer to a newcomer: {r.status_code} {r.json()}")
    clock.now = start + seconds
    return result


def wait_cell(waits: list[float | None]) -> str:
    return " / ".join("still waiting" if w is None else f"{w:.0f}" for w in waits)


def table(results: Sequence[Result]) -> str:
    arrivals = ", ".join(f"{a / 60:.0f}" for a in ARRIVALS)
    lines = [
        "| attacking addresses | passwords checked per hour | refused (429) | requests | "
        + " | ".join(f"newcomer wait s, {k} (arriving at minute {arrivals})" for k in NEWCOMERS)
        + " |",
        "|---:|---:|---:|---:|" + "---|" * len(NEWCOMERS),
    ]
    for r in results:
        hours = r.seconds / 3600
        lines.append(
            f"| {r.addresses} | {r.checked / hours:.0f} | {r.refused} | {r.requests} | "
            + " | ".join(wait_cell(r.waits[k]) for k in NEWCOMERS)
            + " |"
        )
    return "\n".join(lines)


# The join limits per address and per room (ROOMS_JOINS_*) count on the real clock, which an
# hour simulated in seconds would overrun at once: they are lifted, so what is measured is the
# password limiter. (They only ever refuse more, never check more passwords.)
PASSWORDS_ALONE = {
    "ROOMS_JOINS_PER_ADDRESS": 10**9,
    "ROOMS_JOINS_PER_ROOM": 10**9,
    "ROOMS_LOBBY_MAX": 10**6,
}
# The counts and waits do not depend on the hasher's cost, only the run's wall time does.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def measure_passwords_alone(settings: Any) -> None:
    """Lift the join limits (PASSWORDS_ALONE) on `settings`."""
    for name, value in PASSWORDS_ALONE.items():
        setattr(settings, name, value)


def _setup(redis_url: str | None, scratch: Path) -> None:
    sys.path.insert(0, str(REPO_ROOT))
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.PASSWORD_HASHERS = FAST_HASHERS
    measure_passwords_alone(settings)
    if redis_url:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url,
            }
        }
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host name
    logging.getLogger("django.request").setLevel(logging.ERROR)  # a line per 403/429 otherwise
    call_command("migrate", verbosity=0, interactive=False)


_accounts = itertools.count(1)


def signed_in_client() -> Any:
    """An APIClient signed in as a new account (a "signed in" newcomer)."""
    from rest_framework.test import APIClient

    from accounts.models import User

    user = User.objects.create_user(
        username=f"newcomer{next(_accounts)}", password=None, display_name="Newcomer"
    )
    client = APIClient()
    client.force_authenticate(user)
    return client


def attack_room(*, host: Any, addresses: int, seconds: float) -> Result:
    """A new room of `host`'s with ROOM_PASSWORD, the host inside, attacked by `addresses`
    addresses for `seconds` of simulated time from START (`simulate`); the room is ended after.
    The limiter's own clock is put back afterwards. Settings: see PASSWORDS_ALONE."""
    from rooms import ratelimit, services

    room = services.room_create(host=host, title=f"{addresses} addresses", password=ROOM_PASSWORD)
    seat = services.room_join(token=room.token, identity=services.Identity(user=host))
    services.participant_connected(participant_id=seat.participant.pk)
    clock = Clock()
    real_clock, ratelimit.clock = ratelimit.clock, clock
    try:
        return simulate(
            token=room.token,
            addresses=addresses,
            seconds=seconds,
            clock=clock,
            signed_in_client=signed_in_client,
        )
    finally:
        ratelimit.clock = real_clock
        services.room_end(room=room, actor=host)


def run(addresses: Sequence[int], hours: float) -> list[Result]:
    from django.core.cache import cache

    from accounts.models import User

    host = User.objects.create_user(username="host", password=None, display_name="Host")
    results = []
    for count in addresses:
        cache.clear()
        result = attack_room(host=host, addresses=count, seconds=hours * 3600)
        results.append(result)
        print(
            f"{count} addresses: {result.checked} checked, {result.requests} requests",
            file=sys.stderr,
        )
    cache.clear()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addresses", default="1,5,50,500", help="attacking addresses per run")
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--redis", default=None, help="redis://host:port/db to count in (flushed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        _setup(args.redis, Path(scratch))
        results = run([int(n) for n in args.addresses.split(",")], args.hours)
    from django.conf import settings

    print(
        f"Limiter: {settings.ROOMS_PASSWORD_ATTEMPTS} wrong per person "
        f"(x4 per address) before back-off, back-off up to "
        f"{settings.ROOMS_PASSWORD_BACKOFF_MAX_SECONDS} s, room budget "
        f"{settings.ROOMS_PASSWORD_ROOM_GUESSES} + {settings.ROOMS_PASSWORD_ROOM_GUESSES} per "
        f"{settings.ROOMS_PASSWORD_ROOM_WINDOW_SECONDS} s; {args.hours:g} h simulated.\n"
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

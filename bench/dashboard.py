"""The usage dashboard's cost against the number of visits, on PostgreSQL.

    .venv/bin/python bench/dashboard.py [--sizes 200000,1000000] [--runs 7] [--budget 90]

Creates a scratch database (`rooms_bench_dashboard`, dropped at the end, also after an error
or Ctrl-C), migrates it and fills it with visits server-side (`INSERT ... SELECT` over
`generate_series`, seeded, so every run gets the same data): for each size in turn the table is
topped up to that many visits, `VACUUM ANALYZE`d (what autovacuum does in production), and then
timed, each figure as the median of `--runs` runs:

- `summary`: `rooms.usage.usage_summary(now=...)`, everything the dashboard reads;
- `page`: `GET /admin/rooms/room/usage/` through Django's test client, logged in as staff (the
  summary plus the chart and the admin template).

One warm-up call of each comes first and is not counted. A measurement stops early once it has
spent `--budget` seconds (after at least one run), so a slow version still ends; the table says
how many runs each median has. Prints a Markdown table and writes it with the machine and
commit to bench/results/dashboard-<UTC timestamp>.json.

The visits: 10 per room; joined over the last 31 days (so some start before the dashboard's
30-day window and reach into it); mostly 1-120 minutes, 2 % of them 1-3 days long (they
span several midnights); 2 % of rooms are live, and in them 1 visit in 10 is still open
(admitted, no leave time); 3 % of rows are lobby visits that were never admitted.

Environment: BENCH_ADMIN_DATABASE_URL (a PostgreSQL URL allowed to CREATE DATABASE; default:
DATABASE_URL's server, else postgres://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

SCRATCH_DB = "rooms_bench_dashboard"
VISITS_PER_ROOM = 10
SEED = 0.17


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


def drop_database(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(SCRATCH_DB))
        )


def create_database(admin_url: str) -> None:
    drop_database(admin_url)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SCRATCH_DB)))


def setup_django(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.pop("REDIS_URL", None)  # the dashboard needs no channel layer
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


# --- data -------------------------------------------------------------------------------------

# Rooms first (their ids are then contiguous), then the visits that go with them. `now` is a
# parameter so the data and the measured `now` agree. Columns not named here get their field's
# default (see `insert_sql`).
ROOM_COLUMNS = {
    "host_id": "%(host)s",
    "title": "'Bench room ' || g",
    "token": "'bench-' || g",
    "state": "CASE WHEN g %% 50 = 0 THEN 'open' ELSE 'ended' END",
    "created_at": "%(now)s - (%(spread)s + interval '1 day') * random()",
    "updated_at": "%(now)s",
}
ROOMS_FROM = "FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g"

# g is the visit's number; its room is the (g / 10)-th new room. Lobby rows never admitted have
# no join time (and a leave time, as the services write them); in live rooms one visit in ten
# is still open; 2 % of the rest last days.
VISITS_WITH = """
WITH v AS (
    SELECT g, r.id AS room_id,
        (g / %(per_room)s) %% 50 = 0 AND g %% 10 = 0 AS open_visit,
        g %% 33 = 0 AS never_admitted,
        %(now)s - %(spread)s * random() AS arrived_at,
        CASE WHEN random() < 0.02 THEN interval '1 day' + interval '2 days' * random()
             ELSE interval '1 minute' + interval '119 minutes' * random() END AS length
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
    JOIN rooms_room AS r ON r.token = 'bench-' || (g / %(per_room)s)
)
"""
VISIT_COLUMNS = {
    "room_id": "room_id",
    "guest_id": "'bench-' || g",
    "display_name": "'Guest ' || g",
    "state": "CASE WHEN never_admitted THEN 'denied' WHEN open_visit THEN 'admitted' "
    "ELSE 'left' END",
    "created_at": "arrived_at",
    "joined_at": "CASE WHEN never_admitted THEN NULL "
    "WHEN open_visit THEN %(now)s - interval '3 hours' * random() ELSE arrived_at END",
    "left_at": "CASE WHEN never_admitted THEN least(arrived_at + interval '5 minutes', %(now)s) "
    "WHEN open_visit THEN NULL ELSE least(arrived_at + length, %(now)s) END",
}
VISITS_FROM = "FROM v"


def insert_sql(model: Any, columns: dict[str, str], source: str) -> tuple[str, dict[str, Any]]:
    """INSERT ... SELECT into every column of `model` but its primary key: the SQL in `columns`
    where given, elsewhere the field's default as a parameter, so a field added to the model
    later needs no change here."""
    from django.db import connection

    names, values, params = [], [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(connection.ops.quote_name(field.column))
        if field.column in columns:
            values.append(columns[field.column])
            continue
        key = f"default_{field.column}"
        values.append(f"%({key})s::{field.db_type(connection)}")
        params[key] = field.get_db_prep_save(field.get_default(), connection)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} {source}"
    return sql, params


def top_up(
    conn: psycopg.Connection[Any], *, visits: int, now: dt.datetime, host: int, spread: int
) -> None:
    from rooms.models import Participant, Room

    have = conn.execute("SELECT count(*) FROM rooms_participant").fetchone()
    first = (have[0] if have else 0) + 1
    if visits < first:
        return
    # Room numbers g / 10 for visit numbers first..visits.
    first_room = first // VISITS_PER_ROOM
    last_room = visits // VISITS_PER_ROOM
    existing = conn.execute(
        "SELECT count(*) FROM rooms_room WHERE token = %s", [f"bench-{first_room}"]
    ).fetchone()
    if existing and existing[0]:
        first_room += 1
    conn.execute("SELECT setseed(%s)", [SEED])
    days = dt.timedelta(days=spread)
    sql, defaults = insert_sql(Room, ROOM_COLUMNS, ROOMS_FROM)
    conn.execute(
        sql,
        {"host": host, "now": now, "first": first_room, "last": last_room, "spread": days}
        | defaults,
    )
    sql, defaults = insert_sql(Participant, VISIT_COLUMNS, VISITS_FROM)
    conn.execute(
        VISITS_WITH + sql,
        {"per_room": VISITS_PER_ROOM, "now": now, "first": first, "last": visits, "spread": days}
        | defaults,
    )
    conn.commit()


# --- measurement ------------------------------------------------------------------------------


def timed(call: Callable[[], object], *, runs: int, budget: float) -> tuple[float, int]:
    """Median milliseconds of `call` over `runs` runs (fewer when `budget` seconds run out),
    after one warm-up call."""
    call()
    samples: list[float] = []
    spent = 0.0
    while len(samples) < runs and (not samples or spent < budget):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
        spent += samples[-1] / 1000
    return statistics.median(samples), len(samples)


def commit_id() -> str:
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


def measure(
    sizes: list[int], *, runs: int, budget: float, spread: int, db_url: str
) -> list[dict[str, Any]]:
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import User
    from rooms.usage import usage_summary

    now = timezone.now()
    staff = User.objects.create(username="bench_staff", display_name="Staff", is_staff=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)

    usage_url = reverse("admin:rooms_usage")

    def page() -> None:
        response = client.get(usage_url)
        if response.status_code != 200:
            raise SystemExit(f"{usage_url} answered {response.status_code}")

    rows = []
    with psycopg.connect(db_url) as conn:
        for size in sizes:
            started = time.perf_counter()
            top_up(conn, visits=size, now=now, host=staff.pk, spread=spread)
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE rooms_participant")
            conn.execute("VACUUM ANALYZE rooms_room")
            conn.autocommit = False
            loaded = time.perf_counter() - started
            print(f"{size:,} visits loaded in {loaded:.1f} s", file=sys.stderr, flush=True)
            summary = usage_summary(now=timezone.now())

            def cold_summary() -> None:
                cache.clear()  # every day added up again, as on the first view of a day
                usage_summary(now=timezone.now())

            def cold_page() -> None:
                cache.clear()
                page()

            summary_ms, summary_runs = timed(cold_summary, runs=runs, budget=budget)
            page_ms, page_runs = timed(cold_page, runs=runs, budget=budget)
            # With the finished days kept (rooms.usage): what every later view costs.
            warm_ms, warm_runs = timed(
                lambda: usage_summary(now=timezone.now()), runs=runs, budget=budget
            )
            warm_page_ms, warm_page_runs = timed(page, runs=runs, budget=budget)
            rows.append(
                {
                    "visits": size,
                    "spread_days": spread,
                    "summary_ms": round(summary_ms, 1),
                    "summary_runs": summary_runs,
                    "page_ms": round(page_ms, 1),
                    "page_runs": page_runs,
                    "warm_summary_ms": round(warm_ms, 1),
                    "warm_summary_runs": warm_runs,
                    "warm_page_ms": round(warm_page_ms, 1),
                    "warm_page_runs": warm_page_runs,
                    # Other work on the machine: the figures scale with it.
                    "load_average_1min": round(os.getloadavg()[0], 2),
                    "minutes_30_days": round(sum(summary.minutes_by_day.values())),
                    "rooms_live": summary.rooms_live,
                    "participants_now": summary.participants_now,
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200000,1000000", help="visit counts, ascending")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure")
    parser.add_argument(
        "--budget", type=float, default=90.0, help="seconds a figure may take (at least 1 run)"
    )
    parser.add_argument(
        "--spread-days",
        type=int,
        default=31,
        help="visits start within this many days before now (31: all of them in the window)",
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    admin_url = admin_database_url()
    create_database(admin_url)
    try:
        db_url = with_database(admin_url, SCRATCH_DB)
        setup_django(db_url)
        rows = measure(
            sizes, runs=args.runs, budget=args.budget, spread=args.spread_days, db_url=db_url
        )
        from django.db import connections

        connections.close_all()
    finally:
        drop_database(admin_url)

    with psycopg.connect(admin_url, connect_timeout=5) as conn:
        server = conn.execute("SHOW server_version").fetchone()
        jit = conn.execute("SHOW jit").fetchone()
    lines = [
        f"visits starting within the last {args.spread_days} days; "
        "ms are medians (runs in brackets)",
        "",
        "| visits | usage_summary ms, cold / warm | GET /admin/rooms/room/usage/ ms, cold / warm "
        "| load average |",
        "|---:|---:|---:|---:|",
        *(
            f"| {r['visits']:,} | {r['summary_ms']} ({r['summary_runs']}) / "
            f"{r['warm_summary_ms']} ({r['warm_summary_runs']}) "
            f"| {r['page_ms']} ({r['page_runs']}) / {r['warm_page_ms']} ({r['warm_page_runs']}) "
            f"| {r['load_average_1min']} |"
            for r in rows
        ),
    ]
    table = "\n".join(lines)
    print(table)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO_ROOT / "bench" / "results" / f"dashboard-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "commit": commit_id(),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "postgresql": server[0] if server else None,
                    "jit": jit[0] if jit else None,
                },
                "runs": args.runs,
                "spread_days": args.spread_days,
                "rows": rows,
                "table": table,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()

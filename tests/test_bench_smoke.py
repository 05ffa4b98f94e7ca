"""`make bench-smoke` runs as part of the suite so the media benchmark never rots.

It needs PostgreSQL and Redis: skipped without them, a failure when ROOMS_REQUIRE_SERVICES
is set. The full benchmark (`make bench`) is not a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bench.signaling import admin_database_url
from tests.rooms.live_harness import REPO_ROOT, redis_url, require_redis

REQUIRED_KEYS = {
    "participants",
    "sfu_pkts_per_cpu_s",
    "sfu_cpu_pct",
    "sfu_rss_mb",
    "forwarded_pkts",
    "loss_pct_median",
    "loss_pct_worst",
    "latency_ms_p50",
    "latency_ms_p99",
    "latency_samples",
    "delivery_ms_p99",
    "join_ms_p50",
    "join_ms_p95",
    "signaling_fanout_ms_p50",
    "signaling_fanout_ms_p99",
    "errors",
}


def require_postgres_server(url: str) -> None:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return
    except psycopg.Error as error:
        if os.environ.get("ROOMS_REQUIRE_SERVICES"):
            pytest.fail(f"ROOMS_REQUIRE_SERVICES is set but PostgreSQL does not answer: {error}")
        pytest.skip(f"needs PostgreSQL (BENCH_ADMIN_DATABASE_URL or DATABASE_URL): {error}")


def test_bench_smoke(tmp_path: Path) -> None:
    if not str(os.environ.get("DATABASE_URL", "")).startswith("postgres"):
        if os.environ.get("ROOMS_REQUIRE_SERVICES"):
            pytest.fail("ROOMS_REQUIRE_SERVICES is set but DATABASE_URL is not PostgreSQL")
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")
    require_postgres_server(admin_database_url())
    require_redis(redis_url(13))
    out = tmp_path / "results"
    run = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "-m", "bench.media", "--smoke", "--out", str(out)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    report = json.loads((out / "media-smoke.json").read_text())
    assert set(report["keys"]) >= REQUIRED_KEYS - {"participants"}
    (row,) = report["rows"]
    assert set(row) >= REQUIRED_KEYS, REQUIRED_KEYS - set(row)
    assert row["errors"] == ""
    assert row["participants"] == 2
    assert row["forwarded_pkts"] > 0
    assert row["sfu_pkts_per_cpu_s"] > 0
    assert row["loss_pct_worst"] is not None and row["loss_pct_worst"] < 50
    assert row["latency_ms_p99"] is not None
    # Most stamped packets got a kernel arrival time (SFU-added latency), on the same clock as
    # the send stamps: arrival at the socket comes before the bot's handler sees the packet.
    assert row["latency_samples"] > row["forwarded_pkts"] // 2
    assert row["latency_ms_p50"] <= row["delivery_ms_p99"]
    assert row["unstamped_pkts"] == 0
    assert row["join_ms_p50"] is not None
    assert row["signaling_missing"] == 0

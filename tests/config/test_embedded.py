"""Embedded mode's sweeper: owned, periodic, stopped cleanly; and `python -m config.embedded`
really serves and sweeps (a no-show room expires) in one process, then exits on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from config.embedded import Sweeper
from tests.rooms.live_harness import REPO_ROOT, free_port


# database_sync_to_async tidies the thread's database connections around each round.
@pytest.mark.django_db
async def test_the_sweeper_runs_periodically_survives_errors_and_stops() -> None:
    calls: list[int] = []
    twice = asyncio.Event()

    def sweep() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bad round")  # logged; the next round still comes
        if len(calls) >= 2:
            twice.set()

    sweeper = Sweeper(0.01, sweep)
    sweeper.start()
    await asyncio.wait_for(twice.wait(), 5)
    await sweeper.stop()
    done = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == done  # nothing runs after stop
    await sweeper.stop()  # twice is fine


def _run(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(  # noqa: S603 (fixed command line)
        [sys.executable, *args], cwd=REPO_ROOT, env=env, check=True, capture_output=True
    )


def test_make_run_serves_and_sweeps_in_one_process(tmp_path: Path) -> None:
    db = tmp_path / "embedded.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {
        "SQLITE_PATH": str(db),
        "PYTHONPATH": str(REPO_ROOT),
        "ROOMS_SWEEP_SECONDS": "1",
    }
    _run(["manage.py", "migrate", "--noinput", "-v0"], env)
    _run(
        [
            "manage.py",
            "shell",
            "-c",
            "from datetime import timedelta; from django.utils import timezone; "
            "from tests.factories import RoomFactory; "
            "RoomFactory(title='no-show', scheduled_start=timezone.now() - timedelta(hours=2))",
        ],
        env,
    )
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "config.embedded",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "config.asgi:application",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 20
        state = ""
        while time.monotonic() < deadline:
            with sqlite3.connect(db) as conn:
                state = conn.execute("SELECT state FROM rooms_room").fetchone()[0]
            if state == "ended":
                break
            time.sleep(0.2)
        assert state == "ended", log.read_text()
        assert httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=5).status_code < 500
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0, log.read_text()
        assert "embedded sweep stopped" in log.read_text()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

"""Celery in tests: running tasks eagerly whatever the environment configured, and real worker
processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from config.celery import app

REPO_ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def private_broker(redis_db: int) -> Iterator[tuple[str, dict[str, str]]]:
    """A Redis database of its own as the broker (flushed before and after), and the
    environment a worker process needs to share the test database. Needs PostgreSQL and Redis
    (skipped without them, except in CI)."""
    from django.db import connection

    from tests.conftest import require_postgres
    from tests.rooms.live_harness import database_url, flush_redis, redis_url, require_redis

    require_postgres()
    url = redis_url(redis_db)
    require_redis(url)
    flush_redis(url)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": url,
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(REPO_ROOT),
    }
    try:
        yield url, env
    finally:
        flush_redis(url)


@contextmanager
def eager_tasks() -> Iterator[None]:
    """With REDIS_URL set (CI) the app sends tasks to the broker; logic tests run them here."""
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = before


class CeleryWorker:
    """One `celery -A config worker` process; its log is read to know when it is ready."""

    def __init__(self, name: str, env: dict[str, str], *, pool: str = "solo") -> None:
        fd, path = tempfile.mkstemp(prefix=f"celery-{name}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(path)
        command = [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "config",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}@%h",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (a fixed command line)
                command,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker never logged {text!r}:\n{self.log()[-4000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log_path.unlink(missing_ok=True)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)

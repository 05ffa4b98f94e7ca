"""The host site's tests: its people, a real daphne serving hostsite.asgi, and browsers.

The tests talk to Rooms only as a browser or an API client does (browsing.py), over HTTP and
WebSockets to a real server, with the cookies, CSRF tokens, join tickets and socket messages of
the real thing. The test process and the server share one SQLite file (the test database):
people and follows are made here with the ORM, and every test commits (transactional_db) so
the server sees them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from browsing import PASSWORD, Browser
from django.conf import settings

HERE = Path(__file__).resolve().parent


# --- people -----------------------------------------------------------------------------------


def member(email: str, full_name: str = "", **extra: Any) -> Any:
    from people.models import Member

    return Member.objects.create_user(email, PASSWORD, full_name=full_name, **extra)


def follow(follower: Any, followed: Any) -> None:
    from people.models import Follow

    Follow.objects.create(follower=follower, followed=followed)


@pytest.fixture
def host(transactional_db: None) -> Any:
    return member("hana@example.org", "Hana Host")


@pytest.fixture
def friend(host: Any) -> Any:
    """Follows the host, and the host follows back: a friend for Rooms."""
    person = member("fay@example.org", "Fay Friend")
    follow(person, host)
    follow(host, person)
    return person


@pytest.fixture
def follower(host: Any) -> Any:
    """Follows the host, who does not follow back."""
    person = member("otto@example.org", "Otto Follower")
    follow(person, host)
    return person


@pytest.fixture
def blocked(host: Any) -> Any:
    """Follows the host both ways, but the host blocked them."""
    from people.models import Block

    person = member("bert@example.org", "Bert Blocked")
    follow(person, host)
    follow(host, person)
    Block.objects.create(blocker=host, blocked=person)
    return person


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """daphne serving hostsite.asgi:application on 127.0.0.1, on the test database."""

    def __init__(self, database: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix="hostsite-daphne-", suffix=".log")[1])
        # The media worker beside it, when the site runs one (HOSTSITE_REDIS_URL).
        self.media_worker: SfuWorker | None = None
        env = {
            **os.environ,
            "HOSTSITE_DB": database,
            "PYTHONPATH": str(HERE),
            "PYTHONUNBUFFERED": "1",
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (a fixed command line)
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    # The first socket of a cold process on a busy machine may take longer
                    # than daphne's default 5 s to be accepted.
                    "--websocket_connect_timeout",
                    "30",
                    "hostsite.asgi:application",
                ],
                cwd=HERE,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until it answers HTTP (any status). Generous: a busy CI machine imports slowly."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited early:\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{self.url}/login/", timeout=10.0)
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not answer within {timeout:.0f}s:\n{self.tail()}")
            time.sleep(0.1)

    def tail(self) -> str:
        return tail(self.log)

    def stop(self) -> None:
        stop(self.process, signal.SIGTERM)
        self.log.unlink(missing_ok=True)


class SfuWorker:
    """`manage.py sfu`, the site's media worker process (with HOSTSITE_REDIS_URL only)."""

    def __init__(self, database: str) -> None:
        self.health_port = free_port()
        self.log = Path(tempfile.mkstemp(prefix="hostsite-sfu-", suffix=".log")[1])
        env = {**os.environ, "HOSTSITE_DB": database, "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (a fixed command line)
                [
                    *(sys.executable, "manage.py", "sfu", "--worker-id", "hostsite-media"),
                    *("--health-port", str(self.health_port)),
                ],
                cwd=HERE,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.health_port}/metrics", timeout=10).text

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until its /readyz says it takes commands and is registered."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.health_port}/readyz"
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the SFU worker exited early:\n{tail(self.log)}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=5.0).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the SFU worker was not ready in {timeout:.0f}s:\n{tail(self.log)}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        stop(self.process, signal.SIGINT)  # SIGINT: at once (SIGTERM would drain first)
        self.log.unlink(missing_ok=True)


def tail(log: Path, limit: int = 6000) -> str:
    return log.read_bytes().decode("utf-8", "replace")[-limit:]


def stop(process: subprocess.Popen[bytes], how: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def server(django_db_setup: None, django_db_blocker: Any) -> Iterator[Server]:
    """One daphne for the session, started once the test database exists (migrated from the
    installed package's migrations by pytest-django); with Redis, a media worker beside it."""
    with django_db_blocker.unblock():
        database = str(settings.DATABASES["default"]["NAME"])
    worker = None
    if settings.ROOMS_REDIS_URL:
        redis.Redis.from_url(settings.ROOMS_REDIS_URL).flushdb()
        worker = SfuWorker(database)
    live = Server(database)
    live.media_worker = worker
    try:
        live.wait_ready()
        if worker is not None:
            worker.wait_ready()
        yield live
    finally:
        live.stop()
        if worker is not None:
            worker.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test that used the server shows what the server logged."""
    report = yield
    live = getattr(item, "funcargs", {}).get("server")
    if report.failed and isinstance(live, Server):
        report.sections.append(("daphne log", live.tail()))
    return report


# --- browsers -----------------------------------------------------------------------------------


@pytest.fixture
async def browser(server: Server) -> AsyncIterator[Callable[[], Browser]]:
    """`browser()` opens a new browser (its own cookie jar) on the server; all are closed
    after the test."""
    opened: list[Browser] = []

    def open_one() -> Browser:
        opened.append(Browser(server.url))
        return opened[-1]

    yield open_one
    for one in opened:
        await one.close()

# ruff: noqa: S603 - runs honcho from this virtualenv with fixed arguments
"""The production topology, booted exactly as written: honcho runs the repository's Procfile
(`release`, then `web sfu worker beat`) against PostgreSQL and a Redis of the test's own, and a
guest's visit with media goes through it. Only the environment differs from a server's: ports,
the test database, loopback media, a one-second sweep.

The host creates a room over the web process's API and joins; a guest holding the link waits in
the lobby until the host lets them in; then host and guest bots hear and see each other through
the SFU worker the Procfile started, on UDP ports from the configured range. The Celery worker
delivers the room-went-live notification to the host's friend, and beat's sweep ends a room
whose host never came. SIGTERM to honcho then stops every process cleanly.

Needs PostgreSQL (DATABASE_URL) and the redis-server binary; skipped without them, except in CI.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from feed.models import Notification, NotificationKind
from rooms import services
from rooms.mediabot.client import RoomClient
from rooms.models import Room, RoomState
from rooms.sfu import placement as places
from rooms.sfu.ice import host_addresses
from tests.conftest import require_postgres
from tests.factories import UserFactory, befriend
from tests.rooms.live_harness import HOST, REPO_ROOT, RedisServer, database_url, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LONG_RUNNING = ("web", "sfu", "worker", "beat")
# The SFU's media ports: a window of the range the kernel hands out least (a busy port is
# skipped, so other tests' sockets in it do no harm).
_FIRST_UDP_PORT = 20000 + secrets.randbelow(8000)
UDP_PORTS = (_FIRST_UDP_PORT, _FIRST_UDP_PORT + 199)


class Honcho:
    """`honcho start` on the repository's Procfile, its output in a file."""

    def __init__(self, env_file: Path, port: int) -> None:
        self.env_file = env_file
        self.port = port
        venv_bin = str(Path(sys.executable).parent)
        # The Procfile finds python, daphne and celery on PATH, as on a server whose
        # virtualenv is activated.
        self.env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.command = [str(Path(venv_bin) / "honcho"), "--no-colour", "-e", str(env_file)]
        self.process: subprocess.Popen[bytes] | None = None
        fd, name = tempfile.mkstemp(prefix="honcho-", suffix=".log")
        os.close(fd)
        self.log_path = Path(name)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def release(self) -> str:
        result = subprocess.run(
            [*self.command, "start", "release"],
            cwd=REPO_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.command, "start", "-p", str(self.port), *LONG_RUNNING],
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def started(self) -> dict[str, int]:
        """process name (web.1, ...) -> pid, from honcho's own lines."""
        return {
            name: int(pid) for name, pid in re.findall(r"(\S+) started \(pid=(\d+)\)", self.log())
        }

    def stopped(self) -> dict[str, int]:
        return {
            name: int(rc) for name, rc in re.findall(r"(\S+) stopped \(rc=(-?\d+)\)", self.log())
        }

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"honcho exited before {what}:\n{self.log()[-6000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout:.0f}s:\n{self.log()[-6000:]}")
            time.sleep(0.2)

    def web_answers(self) -> bool:
        try:
            httpx.get(f"{self.url}/api/rooms/-/", timeout=2.0)
        except httpx.HTTPError:
            return False
        return True

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM to honcho, as a supervisor or Ctrl-C would; its exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def cleanup(self) -> None:
        """Whatever happened, nothing of this run stays behind."""
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for pid in self.started().values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        self.log_path.unlink(missing_ok=True)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Deployment:
    honcho: Honcho
    redis: RedisServer
    release_output: str


@pytest.fixture
def deployment(
    transactional_db: None, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Deployment]:
    require_postgres()
    redis = RedisServer()
    redis.start()
    request.addfinalizer(redis.kill)
    # The env file honcho reads (-e), as a server's /etc/rooms/rooms.env: production settings
    # (DEBUG off, a real secret) with this test's services, ports and loopback media.
    settings = {
        "DATABASE_URL": database_url(connection.settings_dict),  # pytest-django's test database
        "REDIS_URL": redis.url(),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        # No TLS proxy in front of this run: plain HTTP must not be redirected.
        "SECURE_SSL_REDIRECT": "false",
        "WEB_BIND": HOST,
        "SFU_ICE_ADDRESSES": HOST,
        "SFU_UDP_PORT_MIN": str(UDP_PORTS[0]),
        "SFU_UDP_PORT_MAX": str(UDP_PORTS[1]),
        "BEAT_SCHEDULE_FILE": str(tmp_path / "celerybeat-schedule"),
        "ROOMS_SWEEP_SECONDS": "1",
        "ROOMS_NO_SHOW_MINUTES": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env_file = tmp_path / "rooms.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    honcho = Honcho(env_file, free_port())
    request.addfinalizer(honcho.cleanup)
    release_output = honcho.release()
    honcho.start()
    honcho.wait_for("web process answering", honcho.web_answers)
    store = places.RedisPlacement(redis.url())
    honcho.wait_for("SFU worker registered", lambda: len(places.live_workers(store)) == 1)
    yield Deployment(honcho=honcho, redis=redis, release_output=release_output)


def test_the_procfile_serves_a_guest_visit_with_media_and_stops_cleanly(
    deployment: Deployment,
) -> None:
    honcho = deployment.honcho
    assert "release.1 stopped (rc=0)" in deployment.release_output
    host = UserFactory(username="deploy_host", display_name="Host")
    friend = UserFactory(username="deploy_friend", display_name="Friend")
    befriend(host, friend)
    key = Token.objects.create(user=host).key
    # A room whose host never came: only beat's sweep, run by the worker, ends it.
    now = timezone.now()
    forgotten = services.room_create(
        host=host, title="Forgotten", scheduled_start=now - timedelta(minutes=2)
    )

    with host_addresses((HOST,)):  # the bots' media stays on loopback
        token = asyncio.run(_visit(honcho, key))

    room = Room.objects.get(title="Across the Procfile")
    _wait_in_db(
        "the Celery worker's room-went-live notification to the host's friend",
        lambda: Notification.objects.filter(
            recipient=friend, room=room, kind=NotificationKind.ROOM_LIVE
        ).exists(),
        honcho,
    )
    _wait_in_db(
        "beat's sweep ending the room whose host never came",
        lambda: Room.objects.get(pk=forgotten.pk).state == RoomState.ENDED,
        honcho,
    )

    # The visit is over once the SFU worker holds nobody: SIGTERM then has nothing to drain.
    store = places.RedisPlacement(deployment.redis.url())
    honcho.wait_for(
        "the SFU worker empty after the visit",
        lambda: [worker.load for worker in places.live_workers(store)] == [0],
    )
    started = honcho.started()
    assert sorted(name.split(".")[0] for name in started) == sorted(LONG_RUNNING)
    status = honcho.terminate()
    log = honcho.log()
    # No process logged the room's link token (daphne's access log is off; the proxy's has none).
    assert token not in log
    # honcho passes SIGTERM to every process and reports its own (143, as for SIGTERM) ...
    assert status == 143, log[-6000:]
    # ... each process exits by itself, successfully (the SFU worker after draining) ...
    assert honcho.stopped() == dict.fromkeys(started, 0), log[-6000:]
    assert "SIGKILL" not in log
    # ... and nothing of any of them is left (Celery's pool processes included).
    assert [name for name, pid in started.items() if group_alive(pid)] == []


async def _visit(honcho: Honcho, key: str) -> str:
    """The host's room over the API, the guest let in from the lobby, media both ways; the
    room's link token."""
    async with httpx.AsyncClient(
        base_url=honcho.url, headers={"Authorization": f"Token {key}"}, timeout=20
    ) as api:
        created = await api.post("/api/rooms/", json={"title": "Across the Procfile"})
        assert created.status_code == 201, created.text
        token = created.json()["token"]
    host = RoomClient(honcho.url, token, name="Host", api_token=key)
    guest = RoomClient(honcho.url, token, name="Guest")
    clients = [host, guest]
    try:
        await host.join()
        assert await host.wait_until(lambda: host.admitted, timeout=30), host.messages

        # The guest holds the link, has no account, and waits until the host lets them in.
        await guest.join()
        assert await guest.wait_until(lambda: guest.lobby_reason != "", timeout=30)
        assert guest.lobby_reason == "waiting_room"
        assert not guest.admitted
        await host.send({"type": "lobby.admit", "participant_ids": [guest.participant_id]})
        assert await guest.wait_until(lambda: guest.admitted, timeout=30), guest.messages

        for n, client in enumerate(clients):
            await client.start_media(variant=n, audio_level=30, audio_slots=3, video_slots=3)

        def hears_and_sees(me: int) -> bool:
            bot = clients[me].bot
            other = 1 - me
            return (
                bot is not None
                and bot.origin_packets("audio", other) >= 25
                and bot.origin_packets("video", other) >= 20
                and sum(s.frames_decoded for s in bot.streams("video")) >= 10
            )

        for me, client in enumerate(clients):
            assert await client.wait_until(lambda me=me: hears_and_sees(me), 60), (
                client.name,
                client.messages[-5:],
            )
        for client in clients:
            assert client.bot is not None
            assert all(s.decode_errors == 0 for s in client.bot.streams("video"))
            # The SFU worker offered media only on ports of the range the firewall opens.
            ports = [
                int(port)
                for message in client.messages
                if message.get("type") == "media.answer"
                for port in re.findall(r"a=candidate:\S+ \d+ udp \d+ \S+ (\d+) typ", message["sdp"])
            ]
            assert ports, "the SFU's answer offered no candidate"
            assert all(UDP_PORTS[0] <= port <= UDP_PORTS[1] for port in ports), ports
    finally:
        for client in clients:
            await client.close()
    return token


def _wait_in_db(what: str, done: Callable[[], bool], honcho: Honcho, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"no {what} within {timeout}s:\n{honcho.log()[-6000:]}"
        time.sleep(0.2)

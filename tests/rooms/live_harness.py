"""Out-of-process helpers: real daphne servers, real HTTP and WebSocket clients.

Used by the two-process test (tests/rooms/test_multiprocess.py) and the signaling benchmark
(bench/signaling.py). Everything listens and connects on 127.0.0.1 only, every wait is bounded,
and servers are always stopped by their owner (`Daphne.stop`, safe to call twice).

Nothing here imports Django models: the caller creates users and rooms in its own process and
passes the servers a DATABASE_URL and REDIS_URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"

Message = dict[str, Any]


# --- services ---------------------------------------------------------------------------------


def redis_url(db: int) -> str:
    """The Redis of this run (REDIS_URL's server, if set) with a dedicated database number."""
    base = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    parts = urlsplit(base)
    if parts.scheme not in ("redis", "rediss"):
        parts = urlsplit(DEFAULT_REDIS)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def redis_available(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def require_redis(url: str) -> None:
    """Skip without Redis, but fail when CI said the services must be there."""
    import pytest

    if redis_available(url):
        return
    if os.environ.get("ROOMS_REQUIRE_SERVICES"):
        pytest.fail(f"ROOMS_REQUIRE_SERVICES is set but Redis does not answer at {url}")
    pytest.skip(f"needs Redis at {url} (set REDIS_URL=redis://...)")


def flush_redis(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """A DATABASE_URL for another process, from a Django connection's settings_dict."""
    user = quote(str(settings_dict.get("USER") or ""), safe="")
    password = quote(str(settings_dict.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or HOST
    port = settings_dict.get("PORT") or 5432
    name = quote(str(settings_dict["NAME"]), safe="")
    return f"postgres://{credentials}{host}:{port}/{name}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- servers ----------------------------------------------------------------------------------


def _daphne_command() -> list[str]:
    script = Path(sys.executable).with_name("daphne")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "daphne"]


class Daphne:
    """One real daphne process serving config.asgi:application on 127.0.0.1."""

    def __init__(
        self, name: str, *, database_url: str | None, redis_url: str | None, **env: str
    ) -> None:
        """With database_url and redis_url both None the server runs in embedded mode (give
        it SQLITE_PATH), whatever the calling environment says."""
        self.name = name
        self.port = free_port()
        self.env = {
            **os.environ,
            "DEBUG": "true",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(REPO_ROOT),
            **env,
        }
        for key, value in (("DATABASE_URL", database_url), ("REDIS_URL", redis_url)):
            if value is None:
                self.env.pop(key, None)
            else:
                self.env[key] = value
        self.process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None
        self.last_log = ""

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def origin(self) -> str:
        return self.url

    def ws_url(self, path: str) -> str:
        return f"ws://{HOST}:{self.port}{path}"

    def start(self) -> None:
        fd, name = tempfile.mkstemp(prefix=f"daphne-{self.name}-", suffix=".log")
        os.close(fd)
        self._log_path = Path(name)
        # Appending: the server's writes go to the end whatever we read meanwhile.
        with self._log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (a fixed command line)
                [*_daphne_command(), "-b", HOST, "-p", str(self.port), "config.asgi:application"],
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Poll until the server answers HTTP (any status), or fail with its log."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"daphne {self.name} exited early:\n{self.log_tail()}")
            try:
                httpx.get(f"{self.url}/api/rooms/-/", timeout=1.0)
                return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"daphne {self.name} did not answer on port {self.port} within "
                    f"{timeout:.0f}s:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = 5.0) -> bool:
        """SIGTERM, then SIGKILL after `timeout`. True when it exited on SIGTERM alone."""
        process, self.process = self.process, None
        graceful = True
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                graceful = False
                process.kill()
                process.wait(timeout=timeout)
        if self._log_path is not None:
            self.last_log = self.log_tail()
            self._log_path.unlink(missing_ok=True)
            self._log_path = None
        return graceful

    def log_tail(self, limit: int = 4000) -> str:
        if self._log_path is None:
            return self.last_log
        try:
            text = self._log_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""
        return text[-limit:]


# The world an embedded site starts with: a host, a room and the host's API token, printed as
# one line of JSON by ``manage.py shell``.
_EMBEDDED_WORLD = """
import json
from rest_framework.authtoken.models import Token
from accounts.models import User
from rooms import services
host = User.objects.create_user(username="host", password="x", display_name="Host")
room = services.room_create(host=host, title="{title}", waiting_room={waiting_room})
print(json.dumps({{"token": room.token, "key": Token.objects.create(user=host).key}}))
"""


@contextlib.contextmanager
def embedded_site(
    name: str, directory: Path, *, title: str, waiting_room: bool, **env: str
) -> Iterator[tuple[Daphne, dict[str, str]]]:
    """A daphne in embedded mode (SQLite in ``directory``, its SFU in-process, media on
    127.0.0.1) with a host and one room: yields the server and ``{"token", "key"}`` (the room's
    token, the host's API token). The database is migrated and seeded through ``manage.py``,
    as an operator would."""
    env = {"SQLITE_PATH": str(directory / "db.sqlite3"), "SFU_ICE_ADDRESSES": HOST, **env}
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    run = {**base, **env, "PYTHONPATH": str(REPO_ROOT)}
    manage = [sys.executable, str(REPO_ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=run, check=True, timeout=120)  # noqa: S603
    setup = _EMBEDDED_WORLD.format(title=title, waiting_room=waiting_room)
    out = subprocess.run(  # noqa: S603 (a fixed command line)
        [*manage, "shell", "-v", "0", "-c", setup],
        env=run,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    world = json.loads(out.strip().splitlines()[-1])
    daphne = Daphne(name, database_url=None, redis_url=None, **env)
    daphne.start()
    try:
        daphne.wait_ready()
        yield daphne, world
    finally:
        daphne.stop()


def start_servers(count: int, **kwargs: Any) -> list[Daphne]:
    """Start `count` daphnes at once and wait for all; stop them all if any fails."""
    servers = [Daphne(chr(ord("A") + n), **kwargs) for n in range(count)]
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers: list[Daphne]) -> None:
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop()


def start_sfu_worker(worker_id: str, redis_url: str) -> subprocess.Popen[bytes]:
    """A real `manage.py sfu` worker on this Redis, media on 127.0.0.1, no database."""
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "SFU_ICE_ADDRESSES": "127.0.0.1",
        "PYTHONPATH": str(REPO_ROOT),
    }
    env.pop("DATABASE_URL", None)  # a worker never touches the database
    return subprocess.Popen(  # noqa: S603 (a fixed command line)
        [sys.executable, str(Path(REPO_ROOT) / "manage.py"), "sfu", "--worker-id", worker_id],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class RedisServer:
    """A private Redis that a test may kill and start again on the same port (fault tests;
    the run's shared Redis is never touched). Keeps nothing on disk, like the real one."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            import pytest

            if os.environ.get("ROOMS_REQUIRE_SERVICES"):
                pytest.fail("ROOMS_REQUIRE_SERVICES is set but redis-server is not installed")
            pytest.skip("needs the redis-server binary")
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    def start(self, timeout: float = 10.0) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (a fixed command line)
            [
                self.binary,
                "--bind",
                HOST,
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                tempfile.gettempdir(),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not redis_available(self.url()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: everything it held is gone, as after a crash."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)


# --- clients ----------------------------------------------------------------------------------


async def join(http: httpx.AsyncClient, token: str, *, display_name: str = "") -> Message:
    """POST the join API; returns {participant, decision, ticket}. Raises on a non-200."""
    body = {"display_name": display_name} if display_name else {}
    response = await http.post(f"/api/rooms/{token}/join/", json=body)
    if response.status_code != 200:
        raise AssertionError(f"join answered {response.status_code}: {response.text}")
    result: Message = response.json()
    return result


# Called with (socket, direction, frame) for every frame a LiveSocket exchanges: "room",
# "send" for what the server sent, "receive" for what this client sent (tests/conftest.py's
# contract check).
FRAME_OBSERVERS: list[Callable[[str, str, Any], None]] = []


def _observed(direction: str, frame: Any) -> None:
    for observer in FRAME_OBSERVERS:
        observer("room", direction, frame)


class LiveSocket:
    """A room socket whose messages are read (and timestamped) by a background task.

    `expect` takes the first not yet taken message that matches; others stay for later calls.
    `received` keeps every message with its `time.perf_counter()` arrival time.
    """

    def __init__(self, ws: ClientConnection, name: str) -> None:
        self.ws = ws
        self.name = name
        self.received: list[tuple[float, Message]] = []
        self.pending: list[Message] = []
        self.closed_at: float | None = None
        self.close_code: int | None = None
        self.on_message: Callable[[float, Message], None] | None = None
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls,
        server: Daphne,
        token: str,
        ticket: str = "",
        *,
        resume: str = "",
        cookies: httpx.Cookies | None = None,
        name: str = "",
        timeout: float = 10.0,
    ) -> LiveSocket:
        """With a join ticket, or with `resume` (a hello's resume token) and the cookies the
        join API set in this client's jar, as a browser reconnects."""
        query = f"resume={quote(resume, safe='')}" if resume else f"ticket={quote(ticket, safe='')}"
        headers = {}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        ws = await connect(
            server.ws_url(f"/ws/rooms/{token}/?{query}"),
            origin=Origin(server.origin),
            additional_headers=headers,
            open_timeout=timeout,
            close_timeout=2,
            ping_interval=None,
            max_size=2**20,
        )
        return cls(ws, name or f"socket@{server.name}")

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                arrived = time.perf_counter()
                message: Message = json.loads(raw)
                _observed("send", message)
                self.received.append((arrived, message))
                self.pending.append(message)
                if self.on_message is not None:
                    self.on_message(arrived, message)
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed_at = time.perf_counter()
            self.close_code = self.ws.close_code
            self._changed.set()

    async def send(self, message: Message) -> None:
        _observed("receive", message)
        await self.ws.send(json.dumps(message))

    async def expect(
        self, predicate: Callable[[Message], bool], *, timeout: float = 5.0, what: str = ""
    ) -> Message:
        deadline = time.monotonic() + timeout
        while True:
            for index, message in enumerate(self.pending):
                if predicate(message):
                    del self.pending[index]
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed_at is not None:
                seen = [m.get("type") for _, m in self.received]
                state = f"closed with {self.close_code}" if self.closed_at else "open"
                raise AssertionError(
                    f"{self.name}: no {what or 'matching message'} within {timeout}s "
                    f"({state}; received so far: {seen})"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def expect_type(self, kind: str, *, timeout: float = 5.0, **fields: Any) -> Message:
        def matches(message: Message) -> bool:
            return message.get("type") == kind and all(
                _field(message, key) == value for key, value in fields.items()
            )

        detail = ", ".join(f"{k}={v!r}" for k, v in fields.items())
        return await self.expect(matches, timeout=timeout, what=f"{kind} ({detail})")

    async def wait_closed(self, timeout: float = 5.0) -> int | None:
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 3)
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader


def _field(message: Message, dotted: str) -> Any:
    """`participant__id` reads message["participant"]["id"]."""
    value: Any = message
    for part in dotted.split("__"):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value

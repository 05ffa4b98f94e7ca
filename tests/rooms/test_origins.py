"""The room and feed sockets accept exactly the configured origins: scheme, host and port.

Issue 15: the check compared host names only, so http://127.0.0.1:8201, https://127.0.0.1:8200
and http://localhost:9999 opened sockets on a server at http://127.0.0.1:8200. These tests
drive the real ASGI application (config.asgi) with the headers a browser sends, and one real
daphne, where the scheme, Host and client come from the connection itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import quote

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from accounts.models import User
from config.asgi import application
from rooms import services
from rooms.models import Room
from rooms.origins import canonical_origin, origin_accepted
from tests.conftest import require_postgres
from tests.factories import UserFactory
from tests.rooms.live_harness import Daphne, database_url, flush_redis, redis_url, require_redis
from tests.rooms.socket_client import connect, join, me

SERVER = b"127.0.0.1:8200"


# --- the rule, on a handshake's scope ----------------------------------------------------------


def scope(
    origin: str | None, *, host: str | None = "127.0.0.1:8200", **extra: Any
) -> dict[str, Any]:
    pairs = []
    if host is not None:
        pairs.append((b"host", host.encode()))
    if origin is not None:
        pairs.append((b"origin", origin.encode()))
    pairs += [(k.encode(), v.encode()) for k, v in extra.pop("more_headers", [])]
    return {"type": "websocket", "scheme": "ws", "headers": pairs, **extra}


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        ("http://127.0.0.1:8200", True),
        ("HTTP://127.0.0.1:8200", True),  # schemes and hosts are case-insensitive
        ("http://127.0.0.1:8201", False),  # another port is another site
        ("https://127.0.0.1:8200", False),  # so is another scheme
        ("http://localhost:9999", False),
        ("http://localhost:8200", False),  # an allowed host, but not the one the socket is on
        ("http://127.0.0.1", False),
        ("null", False),  # sandboxed frames, file: pages
        ("http://127.0.0.1:8200/room", False),  # browsers never send a path
        ("http://user@127.0.0.1:8200", False),
        ("http://127.0.0.1:99999", False),
        ("ws://127.0.0.1:8200", False),
        (None, False),
    ],
)
def test_the_socket_accepts_its_own_origin_only(
    settings: Any, origin: str | None, accepted: bool
) -> None:
    settings.ROOMS_ALLOWED_ORIGINS = []
    assert origin_accepted(scope(origin)) is accepted


def test_its_own_origin_needs_an_allowed_host(settings: Any) -> None:
    settings.ROOMS_ALLOWED_ORIGINS = []
    assert not origin_accepted(scope("http://evil.example:8200", host="evil.example:8200"))
    assert not origin_accepted(scope("http://127.0.0.1:8200", host=None))  # no Host
    twice = scope("http://127.0.0.1:8200", more_headers=[("origin", "http://127.0.0.1:8200")])
    assert not origin_accepted(twice)


def test_tls_and_default_ports(settings: Any) -> None:
    settings.ROOMS_ALLOWED_ORIGINS = []
    on_tls = scope("https://rooms.example", host="rooms.example", scheme="wss")
    settings.ALLOWED_HOSTS = ["rooms.example"]
    assert origin_accepted(on_tls)
    assert origin_accepted(
        {
            **on_tls,
            "headers": [(b"host", b"rooms.example:443"), (b"origin", b"https://rooms.example:443")],
        }
    )
    assert not origin_accepted(scope("http://rooms.example", host="rooms.example", scheme="wss"))
    # Behind a TLS proxy (BEHIND_TLS_PROXY): the proxy says https, as Django's is_secure reads it.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = [("x-forwarded-proto", "https")]
    assert origin_accepted(
        scope("https://rooms.example", host="rooms.example", more_headers=proxied)
    )
    assert not origin_accepted(
        scope("http://rooms.example", host="rooms.example", more_headers=proxied)
    )


def test_configured_origins_are_exact(settings: Any) -> None:
    settings.ROOMS_ALLOWED_ORIGINS = ["https://social.example.com", "http://127.0.0.1:3000"]
    assert origin_accepted(scope("https://social.example.com"))
    assert origin_accepted(scope("https://social.example.com:443"))
    assert origin_accepted(scope("http://127.0.0.1:3000"))
    assert origin_accepted(scope("http://127.0.0.1:8200"))  # the socket's own, still
    assert not origin_accepted(scope("https://social.example.com:8443"))
    assert not origin_accepted(scope("http://social.example.com"))
    assert not origin_accepted(scope("https://evil.social.example.com"))
    assert not origin_accepted(scope("http://127.0.0.1:3001"))


def test_canonical_forms() -> None:
    assert canonical_origin("https://Social.Example.com:443/") == "https://social.example.com"
    assert canonical_origin("http://[::1]:8000") == "http://[::1]:8000"
    assert canonical_origin("https://*.example.com") is None
    assert canonical_origin("ftp://example.com") is None


# --- through the ASGI application --------------------------------------------------------------

transactional = pytest.mark.django_db(transaction=True)


@pytest.fixture
def room(alice: User) -> Room:
    return services.room_create(host=alice, title="Friday chat")


@transactional
@pytest.mark.usefixtures("in_memory_channel_layer")
async def test_the_room_socket_refuses_other_ports_schemes_and_hosts(
    alice: User, room: Room, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.ROOMS_ALLOWED_ORIGINS = []
    result = await join(room, me(alice))
    ticket = f"ticket={result.ticket}"
    with caplog.at_level(logging.WARNING, logger="rooms.origins"):
        for origin in ("http://127.0.0.1:8201", "https://127.0.0.1:8200", "http://localhost:9999"):
            connected, _ = await connect(
                room, ticket, origin=(b"origin", origin.encode()), host=(b"host", SERVER)
            )
            assert not connected, origin
    assert "origin 'http://localhost:9999' is not accepted" in caplog.text

    ok, socket = await connect(
        room, ticket, origin=(b"origin", b"http://127.0.0.1:8200"), host=(b"host", SERVER)
    )
    assert ok  # the refusals did not use the ticket up
    assert (await socket.expect("hello"))["resume_token"]
    await socket.close()


@transactional
@pytest.mark.usefixtures("in_memory_channel_layer")
async def test_the_feed_socket_too(alice: User, settings: Any) -> None:
    settings.ROOMS_ALLOWED_ORIGINS = []
    client = Client()
    await database_sync_to_async(client.force_login)(alice)
    cookie = (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())

    async def opens(origin: bytes) -> bool:
        communicator = WebsocketCommunicator(
            application, "/ws/feed/", headers=[(b"host", SERVER), (b"origin", origin), cookie]
        )
        connected, _ = await communicator.connect(timeout=5)
        if connected:
            await communicator.disconnect()
        return connected

    assert not await opens(b"http://127.0.0.1:8201")
    assert not await opens(b"https://127.0.0.1:8200")
    assert await opens(b"http://127.0.0.1:8200")


# --- a real daphne ------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_server_accepts_its_own_origin_only() -> None:
    require_postgres()
    layer = redis_url(8)
    require_redis(layer)
    flush_redis(layer)
    host = UserFactory(username="origin_host")
    room = services.room_create(host=host, title="Origins")
    ticket = services.room_join(token=room.token, identity=services.Identity(user=host)).ticket
    server = Daphne("origins", database_url=database_url(connection.settings_dict), redis_url=layer)
    server.start()
    try:
        server.wait_ready()
        refused, hello = asyncio.run(_handshakes(server, room.token, ticket))
        log = server.log_tail()
    finally:
        server.stop()
    assert refused == {
        f"http://127.0.0.1:{server.port + 1}": 403,
        f"https://127.0.0.1:{server.port}": 403,
        "http://localhost:9999": 403,
    }
    assert hello["type"] == "hello"
    # The refusal names the client daphne saw (the socket's peer, through rooms.addresses).
    assert "is not accepted (client 127.0.0.1)" in log


async def _handshakes(server: Daphne, token: str, ticket: str) -> tuple[dict[str, int], Any]:
    url = server.ws_url(f"/ws/rooms/{token}/?ticket={quote(ticket, safe='')}")
    refused: dict[str, int] = {}
    for origin in (
        f"http://127.0.0.1:{server.port + 1}",
        f"https://127.0.0.1:{server.port}",
        "http://localhost:9999",
    ):
        with pytest.raises(InvalidStatus) as error:
            async with ws_connect(url, origin=Origin(origin), open_timeout=10):
                pass
        refused[origin] = error.value.response.status_code
    async with ws_connect(url, origin=Origin(server.origin), open_timeout=10) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return refused, hello

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from bench.passwords import Clock
from tests.factories import UserFactory, befriend

# tests/hostsite/ is another Django project with its own settings: it runs only through its
# runner (tests/hostsite/run.sh, `make test-hostsite`), against the installed wheel.
collect_ignore = ["hostsite"]


@pytest.fixture(autouse=True)
def _fast_hasher_and_clean_cache(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    from rooms import media_control

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # In-process socket tests run no web-process lease (a background loop writing to the
    # database between a test's steps); the live daphne tests run it as production does.
    settings.ROOMS_LEASE = False
    cache.clear()
    media_control.placement.cache_clear()  # a fresh worker registry (and room pins) per test
    yield
    cache.clear()
    media_control.placement.cache_clear()


@pytest.fixture(autouse=True)
def socket_contract(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every socket frame a test exchanges is checked against the sockets' contract
    (tests/socket_contract.py): the server's frames in-process (both consumers' sends) and from
    real daphnes (the live harness's sockets and the bots'), the clients' messages against the
    server's own verdict. A test that exchanged a frame the contract does not describe fails."""
    from pydantic import ValidationError

    from rooms import messages
    from rooms.feed_socket import FeedConsumer
    from rooms.sockets import ResilientSocket
    from tests import socket_contract as contract
    from tests.rooms import live_harness

    violations: list[str] = []
    send = ResilientSocket.send
    parse = messages.parse

    async def checked_send(self, text_data=None, bytes_data=None, close=False):  # type: ignore[no-untyped-def]
        if text_data is not None:
            socket = "feed" if isinstance(self, FeedConsumer) else "room"
            violations.extend(contract.server_frame(socket, text_data))
        await send(self, text_data=text_data, bytes_data=bytes_data, close=close)

    def checked_parse(raw: object) -> messages.ClientMessage:
        try:
            message = parse(raw)
        except ValidationError:
            violations.extend(contract.client_frame(raw, accepted=False))
            raise
        violations.extend(contract.client_frame(raw, accepted=True))
        return message

    def observe(socket: str, direction: str, frame: object) -> None:
        if direction == "send":
            violations.extend(contract.problems(socket, "send", frame))
        elif socket == "room":
            violations.extend(contract.client_frame(frame))

    # The bots (rooms.mediabot) talk to real daphnes in the media tests.
    from rooms.mediabot.client import RoomClient

    bot_send, bot_receive = RoomClient.send, RoomClient._on_message

    async def checked_bot_send(self, message):  # type: ignore[no-untyped-def]
        observe("room", "receive", message)
        await bot_send(self, message)

    def checked_bot_receive(self, message):  # type: ignore[no-untyped-def]
        observe("room", "send", message)
        bot_receive(self, message)

    monkeypatch.setattr(RoomClient, "send", checked_bot_send)
    monkeypatch.setattr(RoomClient, "_on_message", checked_bot_receive)
    monkeypatch.setattr(ResilientSocket, "send", checked_send)
    monkeypatch.setattr(messages, "parse", checked_parse)
    live_harness.FRAME_OBSERVERS.append(observe)
    try:
        yield violations
    finally:
        live_harness.FRAME_OBSERVERS.remove(observe)
    assert not violations, "socket frames outside the contract:\n" + "\n".join(violations[:20])


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None) -> Iterator[None]:
    """pytest-django's, plus: sync code that async tests run (consumers'
    database_sync_to_async) runs in asgiref's one worker thread, whose connections are its own
    and persistent (CONN_MAX_AGE). Close them before the test database is dropped, or dropping
    it fails ("being accessed by other users") and the database is left behind."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)


@pytest.fixture
def in_memory_channel_layer(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """In-process socket tests run on the in-memory layer and placement store, whatever the
    environment says: they test consumer logic. Crossing processes over Redis is tested with
    real daphne processes (tests/rooms/test_multiprocess.py)."""
    from channels.layers import channel_layers

    from rooms import media_control

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.ROOMS_REDIS_URL = None
    channel_layers.backends.clear()
    media_control.placement.cache_clear()
    yield
    channel_layers.backends.clear()
    media_control.placement.cache_clear()


@pytest.fixture
def limiter_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The password limiter's clock (rooms.ratelimit.clock), moved only by the test: waits
    are asserted exactly, and an hour passes in no time. It starts a room-budget window."""
    from rooms import ratelimit

    clock = Clock()
    monkeypatch.setattr(ratelimit, "clock", clock)
    return clock


@pytest.fixture
def alice(db: None) -> User:
    return UserFactory(username="alice", display_name="Alice")


@pytest.fixture
def bob(db: None) -> User:
    return UserFactory(username="bob", display_name="Bob")


@pytest.fixture
def charlie(db: None) -> User:
    return UserFactory(username="charlie", display_name="Charlie")


@pytest.fixture
def friends(alice: User, bob: User) -> None:
    """alice and bob are friends; charlie is a stranger to both."""
    befriend(alice, bob)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def as_user(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def require_postgres() -> None:
    """PostgreSQL-only tests skip without it, but CI (ROOMS_REQUIRE_SERVICES=1) must run them."""
    if connection.vendor != "postgresql":
        if os.environ.get("ROOMS_REQUIRE_SERVICES"):
            pytest.fail("ROOMS_REQUIRE_SERVICES is set but DATABASE_URL is not PostgreSQL")
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")

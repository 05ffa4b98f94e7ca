"""Both hostings: one room served by two real daphne processes sharing Redis and PostgreSQL.

The host's socket is on process A, other participants' sockets are on process B. Room events,
lobby decisions and removals made on A reach B only through the Redis channel layer (and the
shared database), so this is the scale-out topology of DESIGN.md, run for real: two servers,
HTTP join API, WebSockets, no in-process shortcuts.

Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL's server, database 5 of it, flushed).
Skipped without them, except in CI (ROOMS_REQUIRE_SERVICES=1), where it must run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from accounts.models import User
from rooms import services
from tests.conftest import require_postgres
from tests.factories import UserFactory, befriend
from tests.rooms.live_harness import (
    Daphne,
    LiveSocket,
    database_url,
    flush_redis,
    join,
    redis_url,
    require_redis,
    start_servers,
    stop_servers,
)

REDIS_DB = 5
# The issue asks for the removed socket to close within 500 ms; on a loaded CI runner the
# assertion allows more, and the measured value is in the failure message and the bench.
REMOVAL_BUDGET_SECONDS = 2.0


@dataclass(frozen=True)
class Servers:
    a: Daphne
    b: Daphne


@pytest.fixture
def two_servers(transactional_db: None, request: pytest.FixtureRequest) -> Iterator[Servers]:
    require_postgres()
    layer_url = redis_url(REDIS_DB)
    require_redis(layer_url)
    flush_redis(layer_url)
    # The test database, as pytest-django created it: the servers see what the test commits.
    db_url = database_url(connection.settings_dict)
    servers = start_servers(2, database_url=db_url, redis_url=layer_url)
    request.addfinalizer(lambda: stop_servers(servers))
    yield Servers(a=servers[0], b=servers[1])


def _token(user: User) -> str:
    return Token.objects.create(user=user).key


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_events_lobby_decisions_and_removals_cross_between_processes(
    two_servers: Servers,
) -> None:
    host = UserFactory(username="mp_host", display_name="Host")
    bob = UserFactory(username="mp_bob", display_name="Bob")
    befriend(host, bob)
    # Friends audience with the waiting room on: bob (a friend) gets straight in, a guest
    # holding the link waits in the lobby.
    room = services.room_create(host=host, title="Across processes")
    asyncio.run(
        _scenario(two_servers, token=room.token, host_key=_token(host), bob_key=_token(bob))
    )
    # Stopped right after the sockets closed, while disconnects are still being published,
    # both servers must still exit on SIGTERM (a publisher waiting on the stopped event loop
    # once kept them alive).
    for server in (two_servers.a, two_servers.b):
        assert server.stop(), f"daphne {server.name} needed SIGKILL:\n{server.last_log}"


async def _scenario(servers: Servers, *, token: str, host_key: str, bob_key: str) -> None:
    a, b = servers.a, servers.b
    sockets: list[LiveSocket] = []
    async with (
        httpx.AsyncClient(
            base_url=a.url, headers={"Authorization": f"Token {host_key}"}, timeout=10
        ) as host_http,
        httpx.AsyncClient(
            base_url=b.url, headers={"Authorization": f"Token {bob_key}"}, timeout=10
        ) as bob_http,
        httpx.AsyncClient(base_url=b.url, timeout=10) as guest_http,  # keeps its cookie jar
    ):
        try:
            # The host joins and connects on A: that opens the room.
            joined = await join(host_http, token)
            assert joined["decision"]["outcome"] == "admit"
            host_ws = await LiveSocket.open(a, token, joined["ticket"], name="host@A")
            sockets.append(host_ws)
            await host_ws.expect_type("hello")
            snapshot = await host_ws.expect_type("snapshot")
            assert snapshot["room"]["state"] == "open"

            # Bob, a friend, joins over B's API and connects to B.
            joined = await join(bob_http, token)
            assert joined["decision"] == {"outcome": "admit", "reason": "audience"}
            bob_id = joined["participant"]["id"]
            bob_ws = await LiveSocket.open(b, token, joined["ticket"], name="bob@B")
            sockets.append(bob_ws)
            await bob_ws.expect_type("hello")
            await bob_ws.expect_type("snapshot")
            # B's join and B's socket are heard on A.
            await host_ws.expect_type("room.participant_joined", participant__id=bob_id)
            await host_ws.expect_type(
                "room.participant_updated", participant__id=bob_id, participant__connected=True
            )

            await _events_cross(host_ws, bob_ws)
            guest_ws = await _lobby_decisions_cross(a, b, guest_http, token, host_ws, bob_ws)
            sockets.append(guest_ws)
            await _removals_cross(a, bob_http, token, host_ws, bob_ws, guest_ws, bob_id)
        finally:
            for ws in sockets:
                await ws.close()


async def _events_cross(host_ws: LiveSocket, bob_ws: LiveSocket) -> None:
    """(a) The host locks and unlocks on A; bob on B sees both, each with the next version."""
    await bob_ws.send({"type": "snapshot.request"})
    version = (await bob_ws.expect_type("snapshot"))["version"]

    await host_ws.send({"type": "room.lock", "locked": True})
    locked = await bob_ws.expect_type("room.locked")
    assert locked["version"] == version + 1
    assert locked["room"]["locked"] is True
    assert (await host_ws.expect_type("room.locked"))["version"] == version + 1

    await host_ws.send({"type": "room.lock", "locked": False})
    unlocked = await bob_ws.expect_type("room.unlocked")
    assert unlocked["version"] == version + 2
    assert unlocked["room"]["locked"] is False
    assert (await host_ws.expect_type("room.unlocked"))["version"] == version + 2


async def _lobby_decisions_cross(
    a: Daphne,
    b: Daphne,
    guest_http: httpx.AsyncClient,
    token: str,
    host_ws: LiveSocket,
    bob_ws: LiveSocket,
) -> LiveSocket:
    """(b) A guest waits on B; the host admits them from A; they get their snapshot on B."""
    joined = await join(guest_http, token, display_name="Guest on B")
    assert joined["decision"] == {"outcome": "lobby", "reason": "waiting_room"}
    guest_id = joined["participant"]["id"]
    guest_ws = await LiveSocket.open(b, token, joined["ticket"], name="guest@B")
    await guest_ws.expect_type("hello")
    await guest_ws.expect_type("lobby.status", reason="waiting_room")
    # The lobby request made on B reaches the host on A (moderators only).
    await host_ws.expect_type("room.lobby_waiting", participant__id=guest_id)

    await host_ws.send({"type": "lobby.admit", "participant_ids": [guest_id]})
    snapshot = await guest_ws.expect_type("snapshot", timeout=5)
    assert snapshot["you"]["id"] == guest_id
    assert snapshot["you"]["state"] == "admitted"
    assert guest_id in {person["id"] for person in snapshot["roster"]}
    # Everyone else in the room, on either process, hears that the guest came in.
    await bob_ws.expect_type("room.participant_joined", participant__id=guest_id)
    await host_ws.expect_type("room.participant_joined", participant__id=guest_id)
    # Lobby members heard nothing of the room while waiting.
    assert not any(m.get("type", "").startswith("room.") for m in guest_ws.pending)
    return guest_ws


async def _removals_cross(
    a: Daphne,
    bob_http: httpx.AsyncClient,
    token: str,
    host_ws: LiveSocket,
    bob_ws: LiveSocket,
    guest_ws: LiveSocket,
    bob_id: int,
) -> None:
    """(c) The host removes bob from A; bob's socket on B is told and closed with 4004."""
    sent = time.perf_counter()
    await host_ws.send(
        {"type": "participant.remove", "participant_id": bob_id, "reason": "Testing removal"}
    )
    removed = await bob_ws.expect_type("removed")
    assert removed["reason"] == "Testing removal"
    assert await bob_ws.wait_closed(timeout=5) == 4004
    assert bob_ws.closed_at is not None
    elapsed = bob_ws.closed_at - sent
    assert elapsed < REMOVAL_BUDGET_SECONDS, f"removal took {elapsed * 1000:.0f} ms to close"

    # The others see the removal (without its reason: that is only for the person concerned).
    for ws in (host_ws, guest_ws):
        event = await ws.expect_type("room.participant_removed", participant__id=bob_id)
        assert "reason" not in event.get("data", {})
    # And the ban keeps bob out, on the other process too.
    response = await bob_http.post(f"{a.url}/api/rooms/{token}/join/", json={})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "banned"

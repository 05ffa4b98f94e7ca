"""An operator's bad day, for real: two daphne processes on PostgreSQL and a Redis of their own,
then Redis crashes and comes back, or one web process is killed with SIGKILL.

Needs PostgreSQL (DATABASE_URL) and the redis-server binary; skipped without them, except in CI
(ROOMS_REQUIRE_SERVICES=1). Waits are generous (a busy CI machine), never timed assertions:
the figures are in the README's operations section.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from channels.db import database_sync_to_async
from django.db import connection
from rest_framework.authtoken.models import Token

from rooms import services
from rooms.models import Participant
from tests.conftest import require_postgres
from tests.factories import UserFactory
from tests.rooms.live_harness import (
    Daphne,
    LiveSocket,
    RedisServer,
    database_url,
    join,
    start_servers,
    stop_servers,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@dataclass
class Topology:
    redis: RedisServer
    a: Daphne
    b: Daphne


@pytest.fixture
def topology(transactional_db: None, request: pytest.FixtureRequest) -> Iterator[Topology]:
    require_postgres()
    redis = RedisServer()
    redis.start()
    request.addfinalizer(redis.kill)
    servers = start_servers(
        2, database_url=database_url(connection.settings_dict), redis_url=redis.url()
    )
    request.addfinalizer(lambda: stop_servers(servers))
    yield Topology(redis=redis, a=servers[0], b=servers[1])


@dataclass
class Person:
    http: httpx.AsyncClient  # its cookie jar holds what the join API set
    socket: LiveSocket
    participant_id: int
    resume_token: str


async def enter(server: Daphne, token: str, http: httpx.AsyncClient, name: str) -> Person:
    joined = await join(http, token, display_name=name)
    assert joined["decision"]["outcome"] == "admit", joined
    socket = await LiveSocket.open(server, token, joined["ticket"], name=f"{name}@{server.name}")
    hello = await socket.expect_type("hello")
    await socket.expect_type("snapshot")
    return Person(http, socket, joined["participant"]["id"], hello["resume_token"])


def open_room_without_waiting_room() -> tuple[str, str]:
    host = UserFactory(username="f_host", display_name="Host")
    room = services.room_create(host=host, title="Bad day")
    services.room_set_waiting_room(actor=host, room=room, enabled=False)
    return room.token, Token.objects.create(user=host).key


def test_a_redis_crash_closes_no_socket_and_events_flow_again(topology: Topology) -> None:
    token, host_key = open_room_without_waiting_room()
    asyncio.run(_redis_crash(topology, token, host_key))


async def _redis_crash(t: Topology, token: str, host_key: str) -> None:
    async with (
        httpx.AsyncClient(base_url=t.a.url, headers={"Authorization": f"Token {host_key}"}) as h,
        httpx.AsyncClient(base_url=t.b.url, timeout=10) as g,
    ):
        host = await enter(t.a, token, h, "Host")
        guest = await enter(t.b, token, g, "Guest")
        people = (host, guest)
        try:
            t.redis.kill()
            await asyncio.sleep(1.0)
            await asyncio.to_thread(t.redis.start)
            back = time.monotonic()
            for person in people:
                # Still the same socket: caught up with a fresh snapshot, and told to build a
                # new media connection (commands to the SFU may have been lost).
                await person.socket.expect_type("snapshot", timeout=20)
                await person.socket.expect_type("media.state", reason="media_reset", timeout=20)
                assert person.socket.closed_at is None
            # Host controls reach everyone again, across both processes.
            await host.socket.send({"type": "room.lock", "locked": True})
            await guest.socket.expect_type("room.locked", room__locked=True, timeout=20)
            print(f"events flow again {time.monotonic() - back:.2f} s after Redis came back")
        finally:
            for person in people:
                await person.socket.close()


def test_a_killed_web_process_leaves_no_ghosts_and_its_people_resume_elsewhere(
    topology: Topology,
) -> None:
    token, host_key = open_room_without_waiting_room()
    asyncio.run(_web_process_killed(topology, token, host_key))


async def _web_process_killed(t: Topology, token: str, host_key: str) -> None:
    async with (
        httpx.AsyncClient(base_url=t.a.url, headers={"Authorization": f"Token {host_key}"}) as h,
        httpx.AsyncClient(base_url=t.b.url, timeout=10) as g1,
        httpx.AsyncClient(base_url=t.b.url, timeout=10) as g2,
    ):
        host = await enter(t.a, token, h, "Host")
        guests = [await enter(t.b, token, g1, "Ann"), await enter(t.b, token, g2, "Ben")]
        resumed: list[LiveSocket] = []
        try:
            assert t.b.process is not None
            t.b.process.kill()  # SIGKILL: no disconnect handling runs on B
            killed = time.monotonic()
            for guest in guests:
                await host.socket.expect_type(
                    "room.participant_updated",
                    participant__id=guest.participant_id,
                    participant__connected=False,
                    timeout=30,
                )
            print(f"ghosts seen as disconnected {time.monotonic() - killed:.2f} s after the kill")
            # Their seats are held: each resumes through A with its resume token and the
            # guest cookie the join API set, and keeps its seat.
            for guest in guests:
                socket = await LiveSocket.open(
                    t.a, token, resume=guest.resume_token, cookies=guest.http.cookies
                )
                resumed.append(socket)
                await socket.expect_type("hello")
                snapshot = await socket.expect_type("snapshot")
                assert snapshot["you"]["id"] == guest.participant_id
                await host.socket.expect_type(
                    "room.participant_updated",
                    participant__id=guest.participant_id,
                    participant__connected=True,
                    timeout=10,
                )
            # Every seat is held by a live socket again, none by a ghost.
            seats = await database_sync_to_async(_connected_seats)()
            assert seats == {host.participant_id, *(g.participant_id for g in guests)}
        finally:
            for socket in (host.socket, *resumed):
                await socket.close()


def _connected_seats() -> set[int]:
    connected = Participant.objects.filter(state="admitted", disconnected_at__isnull=True)
    return set(connected.values_list("pk", flat=True))

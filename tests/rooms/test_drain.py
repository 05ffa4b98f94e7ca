"""Draining an SFU worker for maintenance, for real: a daphne, two `manage.py sfu` workers on a
Redis of their own, bots in a room on the first worker. SIGTERM to that worker moves the room to
the other one; the bots connect there before they leave the old connection, so media goes on;
the drained worker exits cleanly.

Needs PostgreSQL (DATABASE_URL) and the redis-server binary; skipped without them, except in CI.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from rooms import services
from rooms.mediabot.client import RoomClient
from rooms.sfu import placement as places
from rooms.sfu.ice import use_host_addresses
from tests.conftest import require_postgres
from tests.factories import UserFactory
from tests.rooms.live_harness import (
    Daphne,
    RedisServer,
    database_url,
    start_servers,
    start_sfu_worker,
    stop_servers,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@dataclass
class Topology:
    redis: RedisServer
    web: Daphne
    workers: dict[str, subprocess.Popen[bytes]]


@pytest.fixture
def topology(transactional_db: None, request: pytest.FixtureRequest) -> Iterator[Topology]:
    require_postgres()
    redis = RedisServer()
    redis.start()
    request.addfinalizer(redis.kill)
    workers = {name: start_sfu_worker(name, redis.url()) for name in ("w1", "w2")}

    def stop_workers() -> None:
        for proc in workers.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)

    request.addfinalizer(stop_workers)
    servers = start_servers(
        1,
        database_url=database_url(connection.settings_dict),
        redis_url=redis.url(),
        SFU_ICE_ADDRESSES="127.0.0.1",
    )
    request.addfinalizer(lambda: stop_servers(servers))
    store = places.RedisPlacement(redis.url())
    deadline = time.monotonic() + 30
    while len(places.live_workers(store)) < 2:
        assert time.monotonic() < deadline, "the SFU workers did not register"
        time.sleep(0.1)
    yield Topology(redis=redis, web=servers[0], workers=workers)


def test_a_drained_workers_room_moves_and_its_media_goes_on(topology: Topology) -> None:
    host = UserFactory(username="d_host", display_name="Host")
    room = services.room_create(host=host, title="Maintenance", waiting_room=False)
    key = Token.objects.create(user=host).key
    asyncio.run(_drain(topology, room.token, key, room.pk))


async def _drain(t: Topology, token: str, key: str, room_id: int) -> None:
    use_host_addresses(("127.0.0.1",))
    clients = [
        RoomClient(t.web.url, token, name="Host", api_token=key),
        RoomClient(t.web.url, token, name="Guest"),
    ]
    try:
        for n, client in enumerate(clients):
            await client.join()
            assert await client.wait_until(lambda c=client: c.admitted, timeout=20), client.messages
            await client.start_media(variant=n, audio_level=30, audio_slots=3, video_slots=3)

        def hears_the_other(me: int) -> bool:
            bot = clients[me].bot
            return bot is not None and bot.origin_packets("audio", 1 - me) >= 25

        for me, client in enumerate(clients):
            assert await client.wait_until(lambda me=me: hears_the_other(me), 30), me
        store = places.RedisPlacement(t.redis.url())
        first = store.pins()[room_id]
        second = "w2" if first == "w1" else "w1"

        t.workers[first].send_signal(signal.SIGTERM)
        drained_at = time.monotonic()
        for me, client in enumerate(clients):
            moved = await client.wait_until(
                lambda c=client, me=me: bool(c.retired) and hears_the_other(me), 40
            )
            assert moved, client.messages[-5:]
        assert store.pins()[room_id] == second
        for client in clients:
            # The old worker said nothing about the connections people left there: a
            # "failed" would make the web client rebuild the new connection it just made.
            moved_at = next(i for i, m in enumerate(client.messages) if m.get("state") == "moving")
            later = client.messages[moved_at:]
            assert not [
                m for m in later if m.get("type") == "media.state" and m["state"] == "failed"
            ]
        # The drained worker exits by itself, cleanly, once its people have left it.
        code = await asyncio.to_thread(t.workers[first].wait, 40)
        assert code == 0
        assert [w.worker_id for w in places.live_workers(store)] == [second]
        for me, client in enumerate(clients):
            old, new = client.retired[0], client.bot
            assert new is not None
            last_old, first_new = old.last_seen(1 - me), new.first_seen(1 - me)
            if last_old is not None and first_new is not None:
                # Make before break: the new connection's first packet came before the old
                # connection's last (negative is an overlap). A figure, not an assertion.
                print(f"{client.name}: audio gap {first_new - last_old:+.3f} s")
        print(f"drain took {time.monotonic() - drained_at:.2f} s")
    finally:
        for client in clients:
            await client.close()

"""A worker on a Redis that crashes and comes back: it takes commands again, and nobody it held
before stays forwarded, a removal lost with the crashed Redis included."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from channels_redis.core import RedisChannelLayer

from rooms.sfu.ice import host_addresses
from rooms.sfu.placement import RedisPlacement, live_workers
from rooms.sfu.protocol import participant_group
from rooms.sfu.worker import Worker
from tests.rooms.live_harness import RedisServer

from .conftest import LOOPBACK, make_config

ROOM = 41


@pytest.fixture
async def redis_server() -> AsyncIterator[RedisServer]:
    server = RedisServer()
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        server.kill()


def layer_for(server: RedisServer) -> RedisChannelLayer:
    return RedisChannelLayer(hosts=[{"address": server.url(), "socket_connect_timeout": 1}])


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if await check():
                return True
        except Exception:  # noqa: S110 - Redis may still be on its way back
            pass
        await asyncio.sleep(0.1)
    return False


async def offer_sdp(pc: RTCPeerConnection) -> str:
    pc.addTransceiver("audio", direction="sendrecv")
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def offer_answered(
    layer: RedisChannelLayer, worker: Worker, participant_id: int, sdp: str
) -> dict[str, Any]:
    """Send an offer as the signaling side does and wait for the answer on the person's group."""
    inbox = await layer.new_channel()
    await layer.group_add(participant_group(participant_id), inbox)
    await layer.send(
        worker.channel,
        {"type": "sfu.offer", "room_id": ROOM, "participant_id": participant_id, "sdp": sdp},
    )
    while True:
        message = await asyncio.wait_for(layer.receive(inbox), 5)
        if message["type"] == "media.answer":
            return message


async def test_after_a_redis_crash_the_worker_takes_commands_and_drops_who_it_held(
    redis_server: RedisServer,
) -> None:
    layer = layer_for(redis_server)
    store = RedisPlacement(redis_server.url(), dead_after=2.0)
    worker = Worker(make_config(), layer, store, worker_id="w-restart", heartbeat_seconds=0.2)
    clients: list[RTCPeerConnection] = []
    await worker.start()
    try:
        with host_addresses(LOOPBACK):
            for pid in (1, 2):
                clients.append(pc := RTCPeerConnection())
                answer = await offer_answered(layer, worker, pid, await offer_sdp(pc))
                assert answer["sdp"].startswith("v=0")
            assert set(worker.sfu.rooms[str(ROOM)].peers) == {"1", "2"}

            redis_server.kill()
            # The host removes participant 2 while Redis is down: the command cannot be
            # delivered, and Redis comes back without it.
            with pytest.raises(Exception):  # noqa: B017 - whatever the client library raises
                await layer.send(
                    worker.channel,
                    {"type": "sfu.remove", "room_id": ROOM, "participant_id": 2},
                )
            await asyncio.sleep(1.0)
            await asyncio.to_thread(redis_server.start)
            back = time.monotonic()

            # Nobody it held before stays forwarded: the lost removal cannot leave 2 in.
            async def dropped() -> bool:
                room = worker.sfu.rooms.get(str(ROOM))
                return room is None or "2" not in room.peers

            assert await eventually(dropped, 10), "the removed person is still forwarded"

            async def registered() -> bool:
                workers = await asyncio.to_thread(live_workers, store)
                return [w.worker_id for w in workers] == ["w-restart"]

            assert await eventually(registered, 10)

            # It answers offers again (about 0.5 s here; the issue asks for 5).
            async def answers() -> bool:
                clients.append(pc := RTCPeerConnection())
                answer = await offer_answered(layer, worker, 3, await offer_sdp(pc))
                return bool(answer["sdp"].startswith("v=0"))

            assert await eventually(answers, 10)
            print(f"answers offers again {time.monotonic() - back:.2f} s after Redis came back")
            assert not worker.failed.is_set()
    finally:
        for pc in clients:
            await pc.close()
        await worker.close()
        await layer.flush()


async def test_a_worker_whose_loop_dies_stops_instead_of_heartbeating() -> None:
    from channels.layers import InMemoryChannelLayer

    from rooms.sfu.placement import MemoryPlacement

    class Unexpected(BaseException):
        """A fault no handler in the loop is written for."""

    class Broken(InMemoryChannelLayer):
        async def receive(self, channel: str) -> dict[str, Any]:
            raise Unexpected

    worker = Worker(make_config(), Broken(), MemoryPlacement(), worker_id="w-broken")
    stop = asyncio.Event()
    assert await asyncio.wait_for(worker.run_until(stop), 10) is False
    assert worker.placement.workers() == []  # deregistered on the way out

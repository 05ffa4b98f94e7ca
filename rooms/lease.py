"""The web process's lease: seats are connected only while the process holding them lives.

A socket's seat is marked disconnected when its socket closes (`disconnect`). A process that is
killed never runs that, so its seats would stay "connected" for ever, holding a locked or full
room closed. Instead every web process with room sockets renews a lease (a `SocketServer` row)
every `ROOMS_LEASE_RENEW_SECONDS`, and each seat names the process holding its socket. A lease
older than `ROOMS_LEASE_SECONDS` belongs to a dead process: any live process marks that
process's seats disconnected from its last renewal on, so the grace period runs from the
moment they vanished and their people resume through another process meanwhile.

The same loop notices when Redis lost its data (a restart): a key of this process that should
be there is not. Group memberships went with it, so every socket here joins its groups again
and catches its client up (`rooms.sockets`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from rooms import services
from rooms.seat_release import schedule_release
from rooms.sockets import LAYER_BACK, live_sockets

log = logging.getLogger(__name__)

SERVER_ID = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
_task: asyncio.Task[None] | None = None
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rooms-lease")


def renew_seconds() -> float:
    return float(settings.ROOMS_LEASE_RENEW_SECONDS)


def lease_seconds() -> float:
    return float(settings.ROOMS_LEASE_SECONDS)


def enabled() -> bool:
    return bool(settings.ROOMS_LEASE)


def server_id() -> str:
    """What a seat records as the process holding its socket ("" when there is no lease)."""
    return SERVER_ID if enabled() else ""


def ensure_running() -> None:
    """Start this process's lease on its serving loop (Daphne has no start-up hook)."""
    global _task
    if not enabled():
        return
    if _task is None or _task.done():
        _task = asyncio.get_running_loop().create_task(_run(), name="rooms-lease")


async def stop() -> None:
    global _task
    task, _task = _task, None
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _in_lease_thread(call: Any, **kwargs: Any) -> Any:
    """Run a database call on the lease's own thread, never on the one thread that every
    socket's database calls share (`database_sync_to_async`): while the database is down each
    call waits the pool's timeout, and the sockets must not wait behind the lease."""

    def run() -> Any:
        try:
            return call(**kwargs)
        finally:
            close_old_connections()

    return asyncio.get_running_loop().run_in_executor(_executor, run)


async def _run() -> None:
    redis_marker = _RedisMarker()
    # Expiring others is safe only after our own renewals have gone through for a whole
    # lease: after an outage every live process needs that long to renew again.
    healthy_since: float | None = None
    while True:
        started = time.monotonic()
        try:
            await _in_lease_thread(services.socket_server_renew, server=SERVER_ID)
            healthy_since = healthy_since or started
            if started - healthy_since >= lease_seconds():
                rooms = await _in_lease_thread(
                    services.socket_servers_expire, lease_seconds=lease_seconds()
                )
                for room_id in rooms:
                    await schedule_release(room_id)
        except Exception as error:
            healthy_since = None
            log.warning("socket lease not renewed: %r", error)
        if await asyncio.to_thread(redis_marker.lost):
            log.warning(
                "Redis lost its data: %d sockets join their groups again", len(live_sockets)
            )
            await _tell_sockets()
        await asyncio.sleep(max(0.0, renew_seconds() - (time.monotonic() - started)))


async def _tell_sockets() -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    for consumer in list(live_sockets):
        try:
            await layer.send(consumer.channel_name, {"type": LAYER_BACK})
        except Exception as error:
            # It will notice by itself when its own receive fails.
            log.warning("could not reach a socket after Redis came back: %r", error)


class _RedisMarker:
    """A key this process keeps in Redis; finding it gone means Redis lost its data."""

    def __init__(self) -> None:
        self._client: Any = None
        self._set = False
        url = settings.ROOMS_REDIS_URL
        if url:
            import redis

            self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._key = f"rooms:web:{SERVER_ID}"

    def lost(self) -> bool:
        if self._client is None:
            return False
        ttl = max(30, int(lease_seconds() * 5))
        try:
            previous = self._client.set(self._key, b"1", ex=ttl, get=True)
        except Exception:
            return False  # unreachable: the sockets' own receives notice that
        was_set, self._set = self._set, True
        return was_set and previous is None

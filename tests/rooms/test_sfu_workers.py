"""SFU worker processes on Redis: registration, placement, and a dead worker's rooms moving."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
from channels_redis.core import RedisChannelLayer

from rooms.sfu import placement as places
from rooms.sfu.protocol import room_group
from tests.rooms.live_harness import flush_redis, redis_url, require_redis, start_sfu_worker

URL = redis_url(7)


@pytest.fixture
def workers() -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    require_redis(URL)
    flush_redis(URL)
    procs = {name: start_sfu_worker(name, URL) for name in ("w1", "w2")}
    try:
        yield procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        flush_redis(URL)


def wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def test_workers_register_and_a_dead_workers_rooms_move(
    workers: dict[str, subprocess.Popen[bytes]],
) -> None:
    store = places.RedisPlacement(URL)
    assert wait_for(lambda: {w.worker_id for w in places.live_workers(store)} == {"w1", "w2"}, 30)
    first = places.place(store, 101)
    second = places.place(store, 102)
    assert first is not None and second is not None
    assert places.place(store, 101) == places.worker_for(store, 101)  # rooms stay put
    victim = first.worker_id
    survivor = "w2" if victim == "w1" else "w1"

    layer = RedisChannelLayer(hosts=[URL])

    async def moved_notice() -> dict[str, object]:
        channel = await layer.new_channel()
        await layer.group_add(room_group(101), channel)
        workers[victim].kill()  # no goodbye: SIGKILL
        killed = time.monotonic()
        deadline = killed + 30  # generous: CI may run this on a busy machine
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=10)
            except (TimeoutError, redis.exceptions.TimeoutError):
                # A blocking read of the client library gave up; nothing was lost.
                if time.monotonic() > deadline:
                    raise
                continue
            message["seconds"] = time.monotonic() - killed
            return message

    notice = asyncio.run(moved_notice())
    assert notice["type"] == "media.state"
    assert (notice["state"], notice["reason"]) == ("failed", "worker_moved")
    # How fast (about 2 s: heartbeat every 0.5 s, dead after 2 s) is a figure for the README,
    # not an assertion: a busy machine delays the watchdog too.
    assert store.pins()[101] == survivor
    assert {w.worker_id for w in places.live_workers(store)} == {survivor}
    new = places.place(store, 103)
    assert new is not None and new.worker_id == survivor


def test_a_stopped_worker_unregisters(workers: dict[str, subprocess.Popen[bytes]]) -> None:
    store = places.RedisPlacement(URL)
    assert wait_for(lambda: len(places.live_workers(store)) == 2, 30)
    workers["w1"].send_signal(signal.SIGTERM)
    # SIGTERM drains (no rooms here: at once) then closes; on a busy CI machine that took
    # more than 10 s once. The bound is what the systemd unit allows (TimeoutStopSec=45).
    workers["w1"].wait(timeout=45)
    assert {w.worker_id for w in store.workers()} == {"w2"}

"""Which worker holds which room: a registry of live workers and the room pins.

Workers register with a heartbeat and their load; a room is pinned to one live worker (the
least loaded) when its first peer arrives and stays there. A worker whose heartbeat is older
than `dead_after` is dead: its rooms are re-pinned (compare-and-set, so two watchdogs cannot
both move a room) and their people start new peer connections.

Two stores, one behaviour: Redis across processes and machines, memory in embedded mode.
Calls are synchronous and short; async callers run them in a thread.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from typing import Protocol

import redis

DEAD_AFTER_SECONDS = 2.0
# A worker silent this many times `dead_after` is dropped from the registry (its rooms moved
# long before). If it was only paused, its next heartbeat finds its entry gone and it drops
# every peer it still holds, as after a Redis restart.
FORGET_AFTER_DEAD = 10
WORKERS_KEY = "rooms:sfu:workers"
PINS_KEY = "rooms:sfu:pins"

# Move a room only if it is still pinned where the caller saw it.
_CAS = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
    return 1
end
return 0
"""


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    worker_id: str
    channel: str
    load: int
    seen: float  # wall-clock seconds of the last heartbeat
    # Being emptied for maintenance: takes no new rooms; its rooms are moving away.
    draining: bool = False


def least_loaded(workers: list[WorkerInfo]) -> WorkerInfo | None:
    """The worker a new room goes to: never one that is draining."""
    open_ = [w for w in workers if not w.draining]
    return min(open_, key=lambda w: (w.load, w.worker_id), default=None)


class Placement(Protocol):
    dead_after: float

    def heartbeat(self, info: WorkerInfo) -> bool:
        """Record the worker; True when its entry was new (first start, or the store lost
        it: a Redis restart or flush, or the worker was forgotten as dead)."""
        ...

    def forget(self, worker_id: str) -> None: ...
    def workers(self) -> list[WorkerInfo]: ...
    def pins(self) -> dict[int, str]: ...
    def pin_if_absent(self, room_id: int, worker_id: str) -> str: ...
    def repin(self, room_id: int, old: str, new: str) -> bool: ...
    def unpin(self, room_id: int) -> None: ...


def live_workers(placement: Placement, now: float | None = None) -> list[WorkerInfo]:
    now = time.time() if now is None else now
    return [w for w in placement.workers() if now - w.seen <= placement.dead_after]


def worker_for(placement: Placement, room_id: int, now: float | None = None) -> WorkerInfo | None:
    """The live worker holding this room, if any (does not place it)."""
    worker_id = placement.pins().get(room_id)
    if worker_id is None:
        return None
    return next((w for w in live_workers(placement, now) if w.worker_id == worker_id), None)


def pinned_worker(placement: Placement, room_id: int) -> WorkerInfo | None:
    """The worker this room is pinned to, alive or not.

    Enforcement (mute, remove, close) goes there without a liveness check: a worker whose
    heartbeat is merely late (a busy event loop) must still stop forwarding at once, and a
    message to a dead worker costs nothing; its rooms are moved by the watchdog.
    """
    worker_id = placement.pins().get(room_id)
    if worker_id is None:
        return None
    return next((w for w in placement.workers() if w.worker_id == worker_id), None)


def place(placement: Placement, room_id: int, now: float | None = None) -> WorkerInfo | None:
    """The worker for this room: where it is pinned if that worker lives (and is not being
    drained while another could take the room), else the least loaded live worker (pinned
    now). None when no worker is alive."""
    live = live_workers(placement, now)
    by_id = {w.worker_id: w for w in live}
    current = placement.pins().get(room_id)
    choice = least_loaded(live)
    if current in by_id and (not by_id[current].draining or choice is None):
        return by_id[current]
    if choice is None:
        return None
    if current is None:
        winner = placement.pin_if_absent(room_id, choice.worker_id)
    else:
        placement.repin(room_id, current, choice.worker_id)
        winner = placement.pins().get(room_id, choice.worker_id)
    return by_id.get(winner) or choice


def move_room(
    placement: Placement, room_id: int, source: str, now: float | None = None
) -> WorkerInfo | None:
    """Re-pin a room away from `source` (being drained) to the least loaded other live
    worker; None when no other worker can take it or someone else moved it first."""
    target = least_loaded([w for w in live_workers(placement, now) if w.worker_id != source])
    if target is None or not placement.repin(room_id, source, target.worker_id):
        return None
    return target


def replace_dead(placement: Placement, now: float | None = None) -> list[tuple[int, WorkerInfo]]:
    """Re-pin every room of a dead worker; returns the rooms this call moved."""
    live = live_workers(placement, now)
    alive = {w.worker_id for w in live}
    moved: list[tuple[int, WorkerInfo]] = []
    loads = {w.worker_id: w.load for w in live}
    for room_id, worker_id in sorted(placement.pins().items()):
        if worker_id in alive:
            continue
        target = min(
            (w for w in live if not w.draining),
            key=lambda w: (loads[w.worker_id], w.worker_id),
            default=None,
        )
        if target is None:
            break
        if placement.repin(room_id, worker_id, target.worker_id):
            loads[target.worker_id] += 1  # spread the moved rooms out
            moved.append((room_id, target))
    forget_before = (time.time() if now is None else now) - placement.dead_after * FORGET_AFTER_DEAD
    for worker in placement.workers():
        if worker.seen < forget_before:
            placement.forget(worker.worker_id)
    return moved


class MemoryPlacement:
    """Embedded mode: one process, one dictionary."""

    def __init__(self, dead_after: float = DEAD_AFTER_SECONDS) -> None:
        self.dead_after = dead_after
        self._lock = threading.Lock()
        self._workers: dict[str, WorkerInfo] = {}
        self._pins: dict[int, str] = {}

    def heartbeat(self, info: WorkerInfo) -> bool:
        with self._lock:
            new = info.worker_id not in self._workers
            self._workers[info.worker_id] = info
            return new

    def forget(self, worker_id: str) -> None:
        with self._lock:
            self._workers.pop(worker_id, None)

    def workers(self) -> list[WorkerInfo]:
        with self._lock:
            return list(self._workers.values())

    def pins(self) -> dict[int, str]:
        with self._lock:
            return dict(self._pins)

    def pin_if_absent(self, room_id: int, worker_id: str) -> str:
        with self._lock:
            return self._pins.setdefault(room_id, worker_id)

    def repin(self, room_id: int, old: str, new: str) -> bool:
        with self._lock:
            if self._pins.get(room_id) != old:
                return False
            self._pins[room_id] = new
            return True

    def unpin(self, room_id: int) -> None:
        with self._lock:
            self._pins.pop(room_id, None)


class RedisPlacement:
    def __init__(self, url: str, dead_after: float = DEAD_AFTER_SECONDS) -> None:
        self.dead_after = dead_after
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._cas = self._redis.register_script(_CAS)

    def heartbeat(self, info: WorkerInfo) -> bool:
        # HSET answers how many fields it created: 1 means the entry was not there.
        return bool(self._redis.hset(WORKERS_KEY, info.worker_id, json.dumps(asdict(info))))

    def forget(self, worker_id: str) -> None:
        self._redis.hdel(WORKERS_KEY, worker_id)

    def workers(self) -> list[WorkerInfo]:
        raw: dict[bytes, bytes] = self._redis.hgetall(WORKERS_KEY)  # type: ignore[assignment]
        workers = []
        for value in raw.values():
            try:
                workers.append(WorkerInfo(**json.loads(value)))
            except (TypeError, ValueError):
                continue  # a foreign or damaged entry is not a worker
        return workers

    def pins(self) -> dict[int, str]:
        raw: dict[bytes, bytes] = self._redis.hgetall(PINS_KEY)  # type: ignore[assignment]
        return {int(k): v.decode() for k, v in raw.items() if k.isdigit()}

    def pin_if_absent(self, room_id: int, worker_id: str) -> str:
        self._redis.hsetnx(PINS_KEY, str(room_id), worker_id)
        value = self._redis.hget(PINS_KEY, str(room_id))
        return value.decode() if isinstance(value, bytes) else worker_id

    def repin(self, room_id: int, old: str, new: str) -> bool:
        return bool(self._cas(keys=[PINS_KEY], args=[str(room_id), old, new]))

    def unpin(self, room_id: int) -> None:
        self._redis.hdel(PINS_KEY, str(room_id))

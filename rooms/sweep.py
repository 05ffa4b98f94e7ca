"""The periodic sweep: catch up with the clock (`rooms_sweep`, run by Celery beat or by the
embedded sweeper).

The rules it applies are services in `rooms.services` (rooms/services/schedules.py and the
release of vanished seats); each re-checks its decision under the room lock, so running the
sweep twice, or two sweeps at once, changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from rooms import selectors
from rooms.services import (
    release_vanished_seats,
    room_end_if_idle,
    room_expire_no_show,
    room_start_reached,
)

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    started: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    idle_ended: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def rooms_sweep(*, now: datetime | None = None) -> SweepResult:
    """Catch up with the clock: everything due is done, each room in its own transaction.

    One room failing (logged) does not stop the others; the next sweep tries it again.
    """
    now = now if now is not None else timezone.now()
    result = SweepResult()
    # In this order, each list read just before its job: released seats can leave a room
    # empty, and an idle room should end in the same sweep.
    jobs: list[tuple[Callable[[], list[int]], Callable[..., bool], list[int]]] = [
        (lambda: selectors.rooms_with_vanished_seats(now=now), _release, result.released),
        (
            lambda: selectors.rooms_start_reached_with_early_lobby(now=now),
            room_start_reached,
            result.started,
        ),
        (lambda: selectors.rooms_past_no_show(now=now), room_expire_no_show, result.expired),
        (selectors.open_rooms_without_anyone, room_end_if_idle, result.idle_ended),
    ]
    for due, job, done in jobs:
        for room_id in due():
            try:
                changed = job(room_id=room_id, now=now)
            except Exception:
                log.exception("sweeping room %s failed (%s)", room_id, job.__name__)
                result.failed.append(room_id)
                continue
            if changed:
                done.append(room_id)
    return result


def _release(*, room_id: int, now: datetime) -> bool:
    # The selector found seats past their grace period; the service re-checks under the lock.
    release_vanished_seats(room_id=room_id, now=now)
    return True

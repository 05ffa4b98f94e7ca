"""Freeing a dropped seat once its grace period is over.

With a Celery broker the release is a task with a countdown, so it happens even if this web
process goes away. In embedded mode (eager tasks, one process) a countdown would be ignored,
so the release is timed on this process's event loop instead; the lazy release every join
performs under the room lock keeps admission exact either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from rooms import tasks

log = logging.getLogger(__name__)

# Owned timers of embedded mode, so they can be cancelled and awaited (tests, shutdown).
_pending: set[asyncio.Task[None]] = set()


def _delay() -> float:
    return settings.ROOMS_RESUME_GRACE_SECONDS + 1.0


async def schedule_release(room_id: int) -> None:
    # The site's Celery setting, not Rooms': a site that does not run tasks eagerly may leave
    # it out.
    if not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        # Talking to the broker may block: not on the event loop that serves every socket.
        await asyncio.to_thread(
            tasks.release_vanished_seats.apply_async, (room_id,), countdown=_delay()
        )
        return
    task = asyncio.get_running_loop().create_task(_release_later(room_id, _delay()))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def _release_later(room_id: int, delay: float) -> None:
    await asyncio.sleep(delay)
    try:
        await database_sync_to_async(tasks.release_vanished_seats)(room_id)
    except Exception:
        log.exception("releasing vanished seats of room %s failed", room_id)


async def cancel_pending() -> None:
    for task in list(_pending):
        task.cancel()
    for task in list(_pending):
        with contextlib.suppress(asyncio.CancelledError):
            await task

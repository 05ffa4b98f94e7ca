"""Celery tasks: they take ids and call services (STYLE: a task is an API).

Every task here is idempotent and safe to retry or to run twice at once: each service re-checks
its decision under the room lock.
"""

from __future__ import annotations

import logging

from celery import shared_task

from rooms import announce, services, sweep
from rooms.sfu import logcontext

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def release_vanished_seats(room_id: int) -> None:
    """Idempotent: frees only seats whose grace period is over, any number of times."""
    with logcontext.about(room_id):
        services.release_vanished_seats(room_id=room_id)


@shared_task(acks_late=True)
def sweep_rooms() -> None:
    """Periodic (beat): rooms whose start came, no-shows, idle rooms, vanished seats."""
    result = sweep.rooms_sweep()
    if result.expired or result.idle_ended or result.failed:
        log.info(
            "rooms sweep: expired %s, idle ended %s, failed %s",
            result.expired,
            result.idle_ended,
            result.failed,
        )


@shared_task(acks_late=True)
def announce_room(room_id: int) -> None:
    """Enqueued after a room went live or invited people (`rooms.announce.after_commit`):
    sends `rooms.signals` for whatever about the room is due and not yet announced."""
    with logcontext.about(room_id):
        announce.room_announce(room_id=room_id)


@shared_task(acks_late=True)
def sweep_announcements() -> None:
    """Periodic (beat): due reminders, and anything an `announce_room` lost."""
    told = announce.announce_sweep()
    if told:
        log.info("announcements sweep told %s", told)

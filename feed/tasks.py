"""Celery tasks for notifications: they take ids and call services (STYLE: a task is an API).

Both are idempotent and safe to retry or to run twice at once (feed/services.py says why).
"""

from __future__ import annotations

import logging

from celery import shared_task

from feed import services

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def announce_room(room_id: int) -> None:
    """Enqueued after a room went live or invited people (`rooms.announce`)."""
    services.room_announce(room_id=room_id)


@shared_task(acks_late=True)
def sweep_notifications() -> None:
    """Periodic (beat): due reminders, and anything an `announce_room` lost."""
    delivered = services.notifications_sweep()
    if delivered:
        log.info("notifications sweep delivered %s", delivered)

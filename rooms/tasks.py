"""Celery tasks: they take ids and call services (STYLE: a task is an API)."""

from __future__ import annotations

from celery import shared_task

from rooms import services


@shared_task(acks_late=True)
def release_vanished_seats(room_id: int) -> None:
    """Idempotent: frees only seats whose grace period is over, any number of times."""
    services.release_vanished_seats(room_id=room_id)

"""Running Celery tasks eagerly in tests, whatever the environment configured."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from config.celery import app


@contextmanager
def eager_tasks() -> Iterator[None]:
    """With REDIS_URL set (CI) the app sends tasks to the broker; logic tests run them here."""
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = before

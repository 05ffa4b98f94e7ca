"""Embedded mode's run command: daphne plus the periodic sweep, in one process.

With a broker, Celery beat runs the sweep (`CELERY_BEAT_SCHEDULE`). Embedded mode has no beat
and no worker (tasks run eagerly), so `make run` starts the server through this module, which
also runs the same sweep every ROOMS_SWEEP_SECONDS on the server's own event loop:

    python -m config.embedded -b 127.0.0.1 -p 8000 config.asgi:application

It runs on the server's loop, not in a thread of its own, because the in-memory channel layer
(embedded mode) may only be used from that loop; each sweep itself runs in a worker thread
(`database_sync_to_async`), like any other database work of the server. The sweeper is owned:
it starts when the reactor runs and is cancelled and awaited before the reactor shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable

from channels.db import database_sync_to_async

log = logging.getLogger("config.embedded")


def sweep_once() -> None:
    """Everything the beat schedule runs, in order: rooms first, then announcements."""
    from rooms import tasks as room_tasks

    room_tasks.sweep_rooms()
    room_tasks.sweep_announcements()


class Sweeper:
    """Runs `sweep` every `interval` seconds on the running loop until stopped."""

    def __init__(self, interval: float, sweep: Callable[[], None] = sweep_once) -> None:
        self.interval = interval
        self.sweep = sweep
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sweeper")
            log.info("embedded sweep every %ss", self.interval)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        log.info("embedded sweep stopped")

    async def _run(self) -> None:
        while True:
            try:
                await database_sync_to_async(self.sweep)()
            except Exception:
                # The next round tries again; the sweep is idempotent.
                log.exception("embedded sweep failed")
            await asyncio.sleep(self.interval)


def main(argv: list[str]) -> None:
    # Importing daphne's server installs the asyncio reactor, so the sweeper and daphne's
    # application share one asyncio loop.
    from daphne.cli import CommandLineInterface
    from django.conf import settings
    from twisted.internet import defer, reactor

    sweeper: Sweeper | None = None
    if settings.ROOMS_EMBEDDED:
        sweeper = Sweeper(float(settings.ROOMS_SWEEP_SECONDS))

        def start() -> None:
            assert sweeper is not None  # noqa: S101
            # Startup triggers fire just before the reactor's asyncio loop runs: start on it.
            asyncio.get_event_loop().call_soon(sweeper.start)

        def stop() -> defer.Deferred[None]:
            assert sweeper is not None  # noqa: S101
            return defer.Deferred.fromFuture(asyncio.ensure_future(sweeper.stop()))

        reactor.callWhenRunning(start)
        # (zope interface stubs count `self` as the first argument)
        reactor.addSystemEventTrigger("before", "shutdown", stop)  # type: ignore[arg-type]
    else:
        log.info("REDIS_URL is set: Celery beat runs the sweep, not this process")
    CommandLineInterface().run(argv)


if __name__ == "__main__":
    main(sys.argv[1:])

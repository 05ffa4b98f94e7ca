"""`python manage.py sfu`: one media worker process on uvloop (run one per core)."""

from __future__ import annotations

import asyncio
import gc
import signal
from typing import Any

import uvloop
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rooms import media
from rooms.embedded_sfu import sfu_config
from rooms.sfu.ports import loop_factory
from rooms.sfu.worker import Worker


class Command(BaseCommand):
    help = "Run an SFU worker: it forwards the media of the rooms placed on it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--worker-id", default=None, help="defaults to <host>-<pid>")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.EMBEDDED:
            raise CommandError(
                "REDIS_URL is not set: in embedded mode the web process runs the media worker "
                "itself. Set REDIS_URL (and DATABASE_URL) to run separate workers."
            )
        first, last = settings.SFU_UDP_PORTS or (None, None)
        uvloop.run(self._run(options["worker_id"]), loop_factory=loop_factory(first, last))

    async def _run(self, worker_id: str | None) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        worker = Worker(sfu_config(), get_channel_layer(), media.placement(), worker_id=worker_id)

        def terminate() -> None:
            # The first SIGTERM drains (rooms move to other workers, then exit); a second
            # one, or SIGINT, stops at once.
            if worker.drain_requested.is_set():
                stop.set()
            else:
                worker.drain_requested.set()

        loop.add_signal_handler(signal.SIGTERM, terminate)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        # What is loaded by now (Django, aiortc, this app: most of the heap) stays for the
        # life of the process. Frozen, it is out of the cyclic collector's sight, so its full
        # collections only walk what rooms created since: they pause the forwarding loop far
        # less (bench/README.md, "Collector pauses").
        gc.collect()
        gc.freeze()
        self.stdout.write(f"SFU worker {worker.worker_id} starting", ending="\n")
        self.stdout.flush()
        if not await worker.run_until(stop):
            # A supervisor (systemd, the Procfile runner) starts a fresh worker.
            raise CommandError(f"SFU worker {worker.worker_id} failed; see the log above")
        self.stdout.write(f"SFU worker {worker.worker_id} stopped", ending="\n")

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

from rooms import media_control
from rooms.embedded_sfu import sfu_config
from rooms.sfu.health import HealthServer
from rooms.sfu.ports import loop_factory
from rooms.sfu.worker import Worker


class Command(BaseCommand):
    help = "Run an SFU worker: it forwards the media of the rooms placed on it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--worker-id", default=None, help="defaults to <host>-<pid>")
        parser.add_argument(
            "--health-port",
            type=int,
            default=None,
            help="HTTP port for /healthz, /readyz and /metrics (default: ROOMS_SFU_HEALTH_PORT;"
            " 0: off). One port per worker process.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ROOMS_EMBEDDED:
            raise CommandError(
                "ROOMS_EMBEDDED is on (ROOMS_REDIS_URL is not set): in embedded mode the web "
                "process runs the media worker itself. Set ROOMS_REDIS_URL (and a shared "
                "database and channel layer) to run separate workers."
            )
        first, last = settings.ROOMS_SFU_UDP_PORTS or (None, None)
        health_port = options["health_port"]
        if health_port is None:
            health_port = settings.ROOMS_SFU_HEALTH_PORT
        if not 0 <= health_port <= 65535:
            raise CommandError(f"--health-port must be between 0 and 65535, got {health_port}")
        uvloop.run(
            self._run(options["worker_id"], health_port), loop_factory=loop_factory(first, last)
        )

    async def _run(self, worker_id: str | None, health_port: int) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        worker = Worker(
            sfu_config(), get_channel_layer(), media_control.placement(), worker_id=worker_id
        )

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
        health = None
        if health_port:
            address = settings.ROOMS_SFU_HEALTH_ADDRESS
            health = HealthServer(worker, host=address, port=health_port)
            await health.start()
            self.stdout.write(f"health and metrics on http://{address}:{health.port}/", ending="\n")
        self.stdout.flush()
        try:
            ok = await worker.run_until(stop)
        finally:
            if health is not None:
                await health.close()
        if not ok:
            # A supervisor (systemd, the Procfile runner) starts a fresh worker.
            raise CommandError(f"SFU worker {worker.worker_id} failed; see the log above")
        self.stdout.write(f"SFU worker {worker.worker_id} stopped", ending="\n")

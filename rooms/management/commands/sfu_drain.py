"""`python manage.py sfu_drain WORKER_ID`: empty an SFU worker before maintenance.

The worker stops taking new rooms, moves each of its rooms to another worker (people's clients
connect to the new one before they leave the old one), and exits when nobody is left on it.
Sending the worker process SIGTERM does the same.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management.base import BaseCommand, CommandError

from rooms import media_control
from rooms.sfu import placement as places


class Command(BaseCommand):
    help = "Drain an SFU worker: its rooms move to other workers, then it exits."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("worker_id", help="as listed by this command without arguments")

    def handle(self, *args: Any, **options: Any) -> None:
        workers = {w.worker_id: w for w in places.live_workers(media_control.placement())}
        worker = workers.get(options["worker_id"])
        if worker is None:
            known = ", ".join(sorted(workers)) or "none"
            raise CommandError(f"No live SFU worker {options['worker_id']!r} (live: {known}).")
        layer = get_channel_layer()
        if layer is None:
            raise CommandError("No channel layer is configured.")
        async_to_sync(layer.send)(worker.channel, {"type": "sfu.drain"})
        others = [w for w in workers.values() if w.worker_id != worker.worker_id]
        self.stdout.write(
            f"Draining {worker.worker_id}: {worker.load} peers move to "
            f"{len(others)} other worker(s); it exits when empty."
        )

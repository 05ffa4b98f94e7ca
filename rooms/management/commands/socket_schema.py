"""Print the sockets' contract: the AsyncAPI document (JSON), or with --markdown its rendering
(docs/socket.md)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rooms import socket_schema


class Command(BaseCommand):
    help = "Print the room and feed sockets' AsyncAPI document (or --markdown)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--markdown", action="store_true", help="docs/socket.md's text")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["markdown"]:
            self.stdout.write(socket_schema.markdown(), ending="")
        else:
            self.stdout.write(json.dumps(socket_schema.document(), indent=2))

"""A worker's own HTTP port for its supervisor and Prometheus: health, readiness, metrics.

    GET /healthz   200 while the event loop runs (answering at all is the proof)
    GET /readyz    200 when the worker takes commands and its registry entry is fresh, else
                   503 with the check that failed (JSON either way)
    GET /metrics   Prometheus text: the SFU's counters, event-loop lag, process figures

A tiny HTTP/1.0-style server on the worker's own loop (asyncio streams, one request per
connection): nothing to install, and the metrics are read on the loop that owns the SFU's
objects. It listens on 127.0.0.1 unless told otherwise; it answers nothing secret, but it is
for the machine's own supervisor and the operators' scraper, not for the world.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from . import metrics

if TYPE_CHECKING:
    from .worker import Worker

logger = logging.getLogger(__name__)

READ_TIMEOUT_SECONDS = 5.0
MAX_HEADER_LINES = 100
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


class HealthServer:
    def __init__(self, worker: Worker, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.worker = worker
        self.host = host
        self.requested_port = port
        self._server: asyncio.Server | None = None
        self._lag: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The port it listens on (the one the kernel chose when asked for 0)."""
        if self._server is None:
            raise RuntimeError("the health server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.requested_port)
        self._lag = asyncio.create_task(metrics.watch_loop_lag("sfu"), name="sfu-loop-lag")

    async def close(self) -> None:
        if self._lag is not None:
            self._lag.cancel()
            await asyncio.gather(self._lag, return_exceptions=True)
            self._lag = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def answer(self, method: str, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a request."""
        path = path.split("?", 1)[0]
        if path not in ("/healthz", "/readyz", "/metrics"):
            return _json(404, {"error": "not_found"})
        if method not in ("GET", "HEAD"):
            return _json(405, {"error": "method_not_allowed"})
        worker = self.worker
        if path == "/healthz":
            return _json(200, {"status": "ok", "worker": worker.worker_id})
        if path == "/readyz":
            checks = {
                "running": not worker.failed.is_set(),
                "receiving_commands": not worker.receiving_failed,
                "registered": worker.registered,
            }
            ready = all(checks.values())
            status = 200 if ready else 503
            body = {"status": "ok" if ready else "unavailable", "worker": worker.worker_id}
            return _json(status, {**body, "checks": checks})
        return 200, CONTENT_TYPE_LATEST, generate_latest(REGISTRY)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, path = await asyncio.wait_for(_read_request(reader), READ_TIMEOUT_SECONDS)
            status, content_type, body = self.answer(method, path)
            head = (
                f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
                f"Content-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\n"
                "Cache-Control: no-store\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            writer.write(head if method == "HEAD" else head + body)
            await writer.drain()
        except (TimeoutError, ValueError, ConnectionError, asyncio.IncompleteReadError):
            pass  # a silent, garbled or vanished client: nothing to answer
        except Exception:
            logger.exception("health port request failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    line = (await reader.readline()).decode("latin-1")
    parts = line.split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError("not an HTTP request line")
    for _ in range(MAX_HEADER_LINES):
        if (await reader.readline()) in (b"\r\n", b"\n", b""):
            return parts[0], parts[1]
    raise ValueError("too many header lines")


def _json(status: int, body: dict[str, Any]) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(body).encode()

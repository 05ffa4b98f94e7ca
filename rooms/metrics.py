"""Prometheus metrics of the web process (served at ``/metrics`` by ``rooms.health``).

Counted where things happen: join decisions (``room_join``, by decision and reason), room
socket connections and messages (by direction and type). Read at scrape time: open sockets
(``rooms.sockets.live_sockets``), and rooms live, participants and lobby size, from two cheap
queries cached for ``LIVE_COUNTS_SECONDS`` (many processes may be scraped; the database must
not feel it). In embedded mode the same page carries the SFU's metrics (``rooms.sfu.metrics``)
and the Celery task outcomes (``rooms.celery_metrics``): both run in this process then.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rooms.policy import Decision
from rooms.sfu.metrics import watch_loop_lag
from rooms.sockets import live_sockets

LIVE_COUNTS_SECONDS = 5.0

JOINS = Counter("rooms_joins", "Join decisions, by decision and reason.", ["decision", "reason"])
SOCKET_CONNECTS = Counter(
    "rooms_socket_connects", "Room socket connection attempts, by outcome.", ["outcome"]
)
SOCKET_MESSAGES = Counter(
    "rooms_socket_messages",
    "Room socket messages, by direction (in: from clients, out: to them) and type.",
    ["direction", "type"],
)


def join_decided(decision: Decision) -> None:
    JOINS.labels(decision.outcome.value, decision.reason.value).inc()


def socket_connected(outcome: str) -> None:
    SOCKET_CONNECTS.labels(outcome).inc()


def message_in(kind: str) -> None:
    SOCKET_MESSAGES.labels("in", kind).inc()


def message_out(kind: str) -> None:
    SOCKET_MESSAGES.labels("out", kind).inc()


class LiveCounts:
    """The database's live figures, refreshed at most every LIVE_COUNTS_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] | None = None
        self._at = float("-inf")

    def refresh(self) -> None:
        """Sync (it queries): call it before rendering, from a thread in async code."""
        with self._lock:
            if time.monotonic() - self._at < LIVE_COUNTS_SECONDS:
                return
            from rooms import selectors

            self._values = selectors.live_counts()
            self._at = time.monotonic()

    def clear(self) -> None:
        with self._lock:
            self._values, self._at = None, float("-inf")

    @property
    def values(self) -> dict[str, int] | None:
        return self._values


live_counts = LiveCounts()

_LIVE = (
    ("rooms_live", "rooms_live", "Rooms open now."),
    ("participants", "rooms_participants", "People admitted to open rooms."),
    ("lobby", "rooms_lobby", "People waiting in lobbies."),
)


class WebCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        sockets = GaugeMetricFamily(
            "rooms_sockets_open", "WebSockets open in this process, by kind.", labels=["kind"]
        )
        kinds: dict[str, int] = {"room": 0, "feed": 0}
        for consumer in tuple(live_sockets):
            kind = type(consumer).__name__.removesuffix("Consumer").lower() or "other"
            kinds[kind] = kinds.get(kind, 0) + 1
        for kind, count in sorted(kinds.items()):
            sockets.add_metric([kind], count)
        yield sockets
        values = live_counts.values
        if values is not None:  # nothing rather than a made-up zero before the first query
            for key, name, documentation in _LIVE:
                yield GaugeMetricFamily(name, documentation, value=values[key])


REGISTRY.register(WebCollector())

_lag: tuple[asyncio.AbstractEventLoop, asyncio.Task[None]] | None = None


def ensure_loop_lag() -> None:
    """Measure the lag of the serving loop (started by the first socket or scrape: Daphne has
    no start-up hook)."""
    global _lag
    loop = asyncio.get_running_loop()
    if _lag is not None and _lag[0] is loop and not _lag[1].done():
        return
    _lag = (loop, loop.create_task(watch_loop_lag("web"), name="rooms-loop-lag"))


async def stop_loop_lag() -> None:
    global _lag
    current, _lag = _lag, None
    if current is not None and current[0] is asyncio.get_running_loop():
        current[1].cancel()
        await asyncio.gather(current[1], return_exceptions=True)

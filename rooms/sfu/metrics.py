"""Prometheus metrics of the media plane, read from the SFU's own counters at scrape time.

Nothing here runs per packet: peers, sources and slots keep counting as they always did
(``rooms.sfu.totals``), and a scrape adds them up. Collect on the event loop that runs the SFU
(the worker's health port does; so does the web process's async ``/metrics`` in embedded mode).

Also the event-loop lag probe every long-lived process runs (``watch_loop_lag``): how late a
short sleep wakes up. A loop that wakes late delays every packet and every heartbeat.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ._fastpath import ffi as _fast_ffi
from ._fastpath import lib as _fast
from .totals import Totals

if TYPE_CHECKING:
    from .sfu import Sfu

LOOP_LAG = Histogram(
    "rooms_event_loop_lag_seconds",
    "How late the event loop wakes up from a short sleep (time it spent on other work).",
    ["loop"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LAG_INTERVAL_SECONDS = 0.5
# Downlink estimate buckets (bit/s): a weak mobile link, a thumbnail grid, a full grid.
DOWNLINK_BUCKETS = (250_000, 500_000, 1_000_000, 2_000_000, 4_000_000, 8_000_000)
VIDEO_OUTCOMES = ("as_wanted", "lower_layer", "dropped")


async def watch_loop_lag(loop_name: str, interval: float = LAG_INTERVAL_SECONDS) -> None:
    """Runs until cancelled (its owner cancels and awaits it)."""
    loop = asyncio.get_running_loop()
    histogram = LOOP_LAG.labels(loop_name)
    while True:
        started = loop.time()
        await asyncio.sleep(interval)
        histogram.observe(max(0.0, loop.time() - started - interval))


class Ready(Protocol):
    """What the collector asks a worker besides its SFU."""

    @property
    def sfu(self) -> Sfu: ...

    @property
    def ready(self) -> bool: ...


_COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("forwarded_packets", "rooms_sfu_forwarded_packets", "RTP packets forwarded to subscribers."),
    ("forwarded_bytes", "rooms_sfu_forwarded_bytes", "RTP payload bytes forwarded."),
    ("received_packets", "rooms_sfu_received_packets", "RTP packets received from publishers."),
    ("received_bytes", "rooms_sfu_received_bytes", "RTP bytes received from publishers."),
    (
        "dropped_packets",
        "rooms_sfu_dropped_packets",
        "Received packets not forwarded (RTX, padding, unknown streams, malformed).",
    ),
    (
        "nack_retransmissions",
        "rooms_sfu_nack_retransmissions",
        "Packets resent in answer to subscribers' NACKs.",
    ),
    ("keyframe_requests", "rooms_sfu_keyframe_requests", "Keyframe requests sent to publishers."),
    (
        "slot_switches",
        "rooms_sfu_slot_switches",
        "Times a subscriber's receive slot started carrying another source.",
    ),
    (
        "upstream_expected",
        "rooms_sfu_upstream_packets_expected",
        "Packets publishers sent, by their sequence numbers (RFC 3550).",
    ),
    (
        "upstream_lost",
        "rooms_sfu_upstream_packets_lost",
        "Packets from publishers that never arrived (RFC 3550).",
    ),
)


class SfuCollector(Collector):
    """The workers of this process (usually one), summed. A worker that stops hands its
    totals over first, so the counters never fall while the process lives."""

    def __init__(self) -> None:
        self._workers: weakref.WeakSet[Ready] = weakref.WeakSet()
        self._retired = Totals()
        self._hosting = False  # a process that never ran a worker (a web process) says nothing

    def track(self, worker: Ready) -> None:
        self._hosting = True
        self._workers.add(worker)

    def untrack(self, worker: Ready) -> None:
        if worker in self._workers:
            self._workers.discard(worker)
            self._retired.add(worker.sfu.totals())

    def collect(self) -> Iterator[Metric]:
        if not self._hosting:
            return
        workers = tuple(self._workers)
        totals = Totals()
        totals.add(self._retired)
        rooms = 0
        peers: dict[str, int] = {"connecting": 0, "connected": 0}
        loss: list[int] = []
        estimates: list[int] = []
        videos: Counter[str] = Counter(dict.fromkeys(VIDEO_OUTCOMES, 0))
        for worker in workers:
            sfu = worker.sfu
            totals.add(sfu.totals())
            for room in tuple(sfu.rooms.values()):
                rooms += 1
                for peer in tuple(room.peers.values()):
                    peers[peer.state] = peers.get(peer.state, 0) + 1
                    loss.extend(
                        s.fraction_lost for s in tuple(peer.slots.values()) if s.current is not None
                    )
                for estimate, fared in room.downlinks():
                    estimates.append(estimate)
                    videos.update(fared)
        yield _gauge("rooms_sfu_workers_ready", "Workers here taking commands.", _ready(workers))
        yield _gauge("rooms_sfu_rooms", "Rooms with media on this process.", rooms)
        by_state = GaugeMetricFamily(
            "rooms_sfu_peers", "Media peer connections, by state.", labels=["state"]
        )
        for state, count in sorted(peers.items()):
            by_state.add_metric([state], count)
        yield by_state
        for attribute, name, documentation in _COUNTERS:
            yield CounterMetricFamily(name, documentation, value=getattr(totals, attribute))
        yield from _send_counters()
        # Subscribers' receiver reports: the share of packets lost on their last interval.
        yield _gauge(
            "rooms_sfu_subscriber_loss_ratio",
            "Mean share of packets lost toward subscribers (their last receiver reports).",
            sum(loss) / len(loss) / 256 if loss else 0.0,
        )
        yield _gauge(
            "rooms_sfu_subscriber_loss_ratio_max",
            "Worst share of packets lost toward one subscriber stream (last receiver report).",
            max(loss) / 256 if loss else 0.0,
        )
        yield _estimates(estimates)
        by_outcome = GaugeMetricFamily(
            "rooms_sfu_subscriber_videos",
            "Videos subscribers are given, by how the allocation treated them: as_wanted (the "
            "layer the tile wants), lower_layer (the downlink allowed less), dropped (none).",
            labels=["allocation"],
        )
        for name in VIDEO_OUTCOMES:
            by_outcome.add_metric([name], videos[name])
        yield by_outcome


def _estimates(estimates: list[int]) -> Metric:
    """The subscribers' downlink estimates now, as a distribution (each scrape a fresh one)."""
    family = GaugeHistogramMetricFamily(
        "rooms_sfu_subscriber_downlink_bps",
        "Subscribers' downlink estimates (bit/s): what the SFU thinks each can receive.",
    )
    buckets = [(f"{edge:g}", sum(1 for e in estimates if e <= edge)) for edge in DOWNLINK_BUCKETS]
    buckets.append(("+Inf", len(estimates)))
    family.add_metric([], buckets, gsum_value=sum(estimates))
    return family


def _send_counters() -> Iterator[Metric]:
    """The forwarding loop's sends in this process (fastpath.c): datagrams per system call
    is what batching them buys."""
    calls, datagrams, dropped, same_size = (_fast_ffi.new("uint64_t *") for _ in range(4))
    _fast.fwd_counters(calls, datagrams, dropped, same_size)
    for name, documentation, value in (
        ("rooms_sfu_send_calls", "sendmmsg calls of the forwarding loop.", calls[0]),
        (
            "rooms_sfu_send_datagrams",
            "Datagrams the forwarding loop put on the wire.",
            datagrams[0],
        ),
        (
            "rooms_sfu_send_dropped",
            "Datagrams the forwarding loop dropped (a full socket buffer, a closed peer).",
            dropped[0],
        ),
        (
            "rooms_sfu_send_same_size",
            "Datagrams of a batch as long as the one before them (what UDP GSO could merge).",
            same_size[0],
        ),
    ):
        yield CounterMetricFamily(name, documentation, value=int(value))


def _ready(workers: Iterable[Ready]) -> int:
    return sum(1 for worker in workers if worker.ready)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


COLLECTOR = SfuCollector()
REGISTRY.register(COLLECTOR)

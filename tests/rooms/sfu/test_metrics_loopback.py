"""The SFU's metrics over real media on 127.0.0.1: what a scrape reads, and counters that do
not fall when people leave or the room closes."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from rooms.sfu import Sfu
from rooms.sfu.metrics import COLLECTOR

from .conftest import Harness

LOUD, SILENT = 30, 127
COUNTERS = (
    "rooms_sfu_forwarded_packets_total",
    "rooms_sfu_forwarded_bytes_total",
    "rooms_sfu_received_packets_total",
    "rooms_sfu_received_bytes_total",
    "rooms_sfu_slot_switches_total",
    "rooms_sfu_keyframe_requests_total",
    "rooms_sfu_upstream_packets_expected_total",
    "rooms_sfu_upstream_packets_lost_total",
    "rooms_sfu_nack_retransmissions_total",
    "rooms_sfu_dropped_packets_total",
)


@dataclass(eq=False)
class Hosting:
    """What the collector asks of a worker: its SFU, and whether it takes commands."""

    sfu: Sfu
    ready: bool = True


def scrape() -> dict[str, float]:
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            if sample.name.startswith("rooms_sfu_"):
                key = sample.name + "".join(f",{k}={v}" for k, v in sorted(sample.labels.items()))
                values[key] = sample.value
    return values


async def test_a_scrape_reads_the_forwarding_and_counters_never_fall(harness: Harness) -> None:
    hosting = Hosting(harness.sfu)
    before = scrape()
    COLLECTOR.track(hosting)
    try:
        a = await harness.join("a", variant=0, level=LOUD)
        b = await harness.join("b", variant=1, level=SILENT)

        def flowing() -> bool:
            return a.origin_packets("video", 1) >= 30 and b.origin_packets("video", 0) >= 30

        assert await b.wait_until(flowing, timeout=10)
        # Receiver reports (and with them the upstream loss accounting) go out every second.
        assert await b.wait_until(lambda: harness.sfu.totals().upstream_expected > 0, timeout=10)
        during = scrape()
        assert during["rooms_sfu_rooms"] - before.get("rooms_sfu_rooms", 0) == 1
        assert during["rooms_sfu_peers,state=connected"] >= 2
        forwarded = during["rooms_sfu_forwarded_packets_total"] - before.get(
            "rooms_sfu_forwarded_packets_total", 0
        )
        resent = during["rooms_sfu_nack_retransmissions_total"] - before.get(
            "rooms_sfu_nack_retransmissions_total", 0
        )
        # The subscribers got what the SFU says it sent (some may still be on their way).
        received_by_bots = sum(s.packets for bot in (a, b) for s in bot.received.values())
        assert forwarded + resent >= received_by_bots > 0
        # Each of the two has one video slot, given the layer it wants (no simulcast, a
        # downlink estimate above the one stream), and a downlink estimate.
        assert during["rooms_sfu_subscriber_videos,allocation=as_wanted"] == 2
        assert during["rooms_sfu_subscriber_videos,allocation=lower_layer"] == 0
        assert during["rooms_sfu_subscriber_videos,allocation=dropped"] == 0
        assert during["rooms_sfu_subscriber_downlink_bps_bucket,le=+Inf"] == 2
        assert during["rooms_sfu_subscriber_downlink_bps_gsum"] > 0
        for name in (
            "rooms_sfu_received_packets_total",
            "rooms_sfu_slot_switches_total",
            "rooms_sfu_keyframe_requests_total",
            "rooms_sfu_upstream_packets_expected_total",
        ):
            assert during[name] > before.get(name, 0), name

        await harness.room.remove("a")
        after_leaving = scrape()
        await harness.sfu.close_room("room-1")
        after_closing = scrape()
    finally:
        COLLECTOR.untrack(hosting)
    after_untracking = scrape()
    for name in COUNTERS:
        steps = [during[name], after_leaving[name], after_closing[name], after_untracking[name]]
        assert steps == sorted(steps), (name, steps)
    assert after_closing["rooms_sfu_rooms"] == before.get("rooms_sfu_rooms", 0)

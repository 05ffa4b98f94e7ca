"""What a worker has done since it started, summed from the counters its objects already keep.

Peers, sources and output slots count as they go (the forwarding path pays nothing more for
this); these totals are added up only when someone asks (a metrics scrape). A peer, a source or
a room that goes away hands its counts to its owner first (``retired``), so a total never
falls when someone leaves: it is what Prometheus calls a counter.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .peer import Peer
    from .streams import Source


@dataclass(slots=True)
class Totals:
    forwarded_packets: int = 0
    forwarded_bytes: int = 0
    received_packets: int = 0
    received_bytes: int = 0
    dropped_packets: int = 0
    # Packets resent in answer to subscribers' NACKs.
    nack_retransmissions: int = 0
    # Keyframe requests (PLI) sent to publishers.
    keyframe_requests: int = 0
    # An output slot starting to carry a source (a new speaker on a tile, a first source).
    slot_switches: int = 0
    # From publishers, RFC 3550 loss accounting, per receiver-report interval.
    upstream_expected: int = 0
    upstream_lost: int = 0

    def add(self, other: Totals) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def of_source(source: Source) -> Totals:
    return Totals(
        keyframe_requests=source.keyframes.sent,
        upstream_expected=source.stats.expected_total,
        upstream_lost=source.stats.lost_total,
    )


def of_peer(peer: Peer, *, with_sources: bool = True) -> Totals:
    """The peer's own counts and its output slots' (and its current sources' unless a source
    was handed over already)."""
    totals = Totals(
        received_packets=peer.packets_in,
        received_bytes=peer.bytes_in,
        dropped_packets=peer.packets_dropped,
        nack_retransmissions=peer.nacks_answered,
        slot_switches=sum(slot.rewriter.switches for slot in tuple(peer.slots.values())),
    )
    if with_sources:
        for source in peer.all_sources():
            totals.add(of_source(source))
    return totals

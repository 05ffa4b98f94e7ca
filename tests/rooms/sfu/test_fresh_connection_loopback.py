"""A browser rebuilds its media connection (its own ICE failed, an offer it could not make)
while the SFU still holds the old one: the new connection comes up and receives, and the old
one stops being served."""

from __future__ import annotations

from rooms.sfu import PeerStateChanged

from .conftest import Harness

LOUDER, SILENT = 20, 127


async def test_a_rebuilt_connection_replaces_the_old_one(harness: Harness) -> None:
    await harness.join("a", variant=0, level=LOUDER)
    old = await harness.join("viewer", variant=2, level=SILENT, video_slots=1)
    (old_slot,) = old.streams("video")
    assert await old.wait_until(lambda: old_slot.origins[0] >= 5, timeout=10)

    new = await harness.join("viewer", variant=2, level=SILENT, video_slots=1)
    (new_slot,) = new.streams("video")
    assert await new.wait_until(lambda: new_slot.origins[0] >= 5, timeout=15)

    # One peer for the person; the old connection was closed quietly: no "failed", which
    # would make the client rebuild once more.
    assert list(harness.room.peers) == ["a", "viewer"]
    states = [
        (e.state, e.reason)
        for e in harness.events
        if isinstance(e, PeerStateChanged) and e.participant_id == "viewer"
    ]
    assert ("closed", "replaced by a new connection") in states
    assert not [s for s in states if s[0] == "failed"]
    served = old_slot.origins[0]
    assert await new.wait_until(lambda: new_slot.origins[0] >= 5 + 20, timeout=10)
    assert old_slot.origins[0] - served <= 2  # in flight at the switch, then nothing


async def test_a_renegotiation_from_the_same_connection_keeps_its_peer(harness: Harness) -> None:
    await harness.join("a", variant=0, level=LOUDER)
    viewer = await harness.join("viewer", variant=2, level=SILENT, video_slots=1)
    peer = harness.room.peers["viewer"]
    await viewer.renegotiate(1, 2)
    assert harness.room.peers["viewer"] is peer
    assert await viewer.wait_until(lambda: len(viewer.streams("video")) == 2, timeout=10)

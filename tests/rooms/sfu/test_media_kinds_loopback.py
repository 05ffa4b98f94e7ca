"""What a slot carries, lip sync streams, camera off and one screen share at a time, over real
ICE/DTLS/SRTP on 127.0.0.1."""

from __future__ import annotations

import pytest

from rooms.mediabot.bot import Bot
from rooms.sfu import RenegotiationNeeded, ScreenShareBusy, SlotSourceChanged
from rooms.sfu.selection import SourceKey

from .conftest import Harness
from .test_forwarding_loopback import LOUD, LOUDER, SILENT, decoded, video_from
from .test_worker_offer_ids import worker


def answered(bot: Bot, attribute: str) -> dict[str, str]:
    """mid -> the first word of ``a=<attribute>:`` in each m-line of the SFU's last answer."""
    out: dict[str, str] = {}
    mid = ""
    for line in bot.pc.remoteDescription.sdp.splitlines():
        if line.startswith("a=mid:"):
            mid = line[6:]
        elif line.startswith(f"a={attribute}:") and mid not in out:
            out[mid] = line[len(attribute) + 3 :].split()[0]
    return out


def carried(harness: Harness, who: str) -> dict[str, SourceKey]:
    return {m: k for m, k in harness.room.slot_sources(who).items() if k is not None}


async def test_a_persons_audio_and_camera_end_up_in_one_stream(harness: Harness) -> None:
    viewer = await harness.join("viewer", variant=2, level=SILENT)
    await harness.join("a", variant=0, level=LOUDER)
    await harness.join("b", variant=1, level=LOUD)
    # Both speak: their audio and cameras reach the viewer, in slots answered before anyone
    # owned them. The room asks for a new offer, and that answer pairs each person.
    event = await harness.next_event(
        lambda e: isinstance(e, RenegotiationNeeded) and e.participant_id == "viewer", timeout=10
    )
    assert isinstance(event, RenegotiationNeeded)

    def paired() -> bool:
        kinds = {(k.participant_id, k.kind) for k in carried(harness, "viewer").values()}
        return {("a", "audio"), ("a", "camera"), ("b", "audio"), ("b", "camera")} <= kinds

    assert await viewer.wait_until(paired, timeout=10)
    peer = harness.room.peers["viewer"]
    before = {mid: slot.ssrc for mid, slot in peer.slots.items()}
    sent = {mid: slot.packets for mid, slot in peer.slots.items()}  # so each had a stream
    await viewer.renegotiate(event.audio_slots, event.video_slots)
    msids, ssrcs = answered(viewer, "msid"), answered(viewer, "ssrc")
    for mid, key in carried(harness, "viewer").items():
        assert msids[mid] == f"person-{key.participant_id}", (mid, key, msids)
        # A browser keeps a receive stream's sync group with its SSRC: a new one it is.
        assert int(ssrcs[mid]) == peer.slots[mid].ssrc != before[mid]
        assert peer.slots_by_ssrc[peer.slots[mid].ssrc] is peer.slots[mid]
    streams = {msids[m] for m in carried(harness, "viewer")}
    assert streams == {"person-a", "person-b"}
    assert not peer.streams_stale()
    # The pictures go on under the new SSRCs (from a keyframe the SFU asked for).
    seen, frames = video_from(viewer, 0), decoded(viewer)
    assert await viewer.wait_until(
        lambda: video_from(viewer, 0) >= seen + 20 and decoded(viewer) >= frames + 10, timeout=10
    )
    # The old SSRCs' SRTP streams are gone from the viewer's session (each send would walk
    # past them), and no fresh SSRC may be one of them.
    writer = peer.writer
    assert writer is not None
    renumbered = [
        ssrc for mid, ssrc in before.items() if sent[mid] and peer.slots[mid].ssrc != ssrc
    ]
    assert renumbered and set(renumbered) <= peer.retired_ssrcs
    assert not any(writer.retire(ssrc) for ssrc in renumbered)  # nothing left to drop


async def test_camera_off_stops_its_video_and_frees_the_slot(harness: Harness) -> None:
    viewer = await harness.join("viewer", variant=2, level=SILENT, video_slots=1)
    await harness.join("a", variant=0, level=LOUDER)
    assert await viewer.wait_until(lambda: video_from(viewer, 0) >= 10, timeout=10)
    harness.room.set_camera_off("a", True)
    assert SourceKey("a", "camera") not in carried(harness, "viewer").values()
    assert any(
        isinstance(e, SlotSourceChanged)
        and e.participant_id == "viewer"
        and e.kind == "video"
        and e.source_participant_id is None
        for e in harness.events
    )
    # Its audio still flows; no camera packet does (b's joining takes the freed slot).
    stopped = video_from(viewer, 0)
    await harness.join("b", variant=1, level=LOUD)
    assert await viewer.wait_until(lambda: video_from(viewer, 1) >= 10, timeout=10)
    assert video_from(viewer, 0) == stopped

    harness.room.set_camera_off("b", True)
    harness.room.set_camera_off("a", False)
    assert await viewer.wait_until(lambda: video_from(viewer, 0) >= stopped + 10, timeout=10)


async def test_a_camera_that_is_off_before_the_offer_is_never_forwarded(harness: Harness) -> None:
    viewer = await harness.join("viewer", variant=2, level=SILENT, video_slots=1)
    harness.room.set_camera_off("a", True)  # what the worker does with the offer's camera_off
    await harness.join("a", variant=0, level=LOUDER)
    assert await viewer.wait_until(lambda: viewer.origin_packets("audio", 0) >= 25, timeout=10)
    assert video_from(viewer, 0) == 0


async def test_one_screen_share_at_a_time(harness: Harness) -> None:
    room = harness.room
    a = await harness.join("a", variant=0, level=LOUDER)
    b = await harness.join("b", variant=1, level=LOUD)
    # a's video m-line (mid 1) becomes a screen share, offered again from the same connection.
    await room.offer("a", a.pc.localDescription.sdp, can_publish_screen=True, screen_mids={"1"})
    assert "screen" in room.peers["a"].sources
    with pytest.raises(ScreenShareBusy):
        await room.offer("b", b.pc.localDescription.sdp, can_publish_screen=True, screen_mids={"1"})
    assert "screen" not in room.peers["b"].sources
    # The host may allow more.
    await room.offer(
        "b",
        b.pc.localDescription.sdp,
        can_publish_screen=True,
        screen_mids={"1"},
        max_screen_shares=2,
    )
    assert "screen" in room.peers["b"].sources
    assert await b.wait_until(
        lambda: SourceKey("a", "screen") in carried(harness, "b").values(), timeout=10
    )


def test_media_slots_say_whose_and_what_each_slot_carries() -> None:
    w = worker()
    w.sink(SlotSourceChanged("1", "5", "3", "video", "7", "screen"))
    w.sink(SlotSourceChanged("1", "5", "4", "audio", "7", "audio"))
    w.sink(SlotSourceChanged("1", "5", "3", "video", None, None))
    messages = [w.outbox.get_nowait() for _ in range(3)]
    assert messages[0] == (
        "participant.5",
        {"type": "media.slots", "slots": {"3": {"participant_id": 7, "kind": "screen"}}},
    )
    assert messages[2][1]["slots"] == {
        "3": None,
        "4": {"participant_id": 7, "kind": "audio"},
    }

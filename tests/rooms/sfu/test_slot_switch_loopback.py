"""Last-N = 1 on real ICE/DTLS/SRTP: the viewer's only video slot follows the speaker."""

from __future__ import annotations

import pytest

from rooms.sfu import SfuConfig, SlotSourceChanged

from .conftest import Harness, make_config

LOUDER, SILENT = 20, 127


@pytest.fixture
def sfu_config() -> SfuConfig:
    return make_config(last_n=1)


async def test_a_video_slot_switches_source_only_at_a_keyframe(harness: Harness) -> None:
    viewer = await harness.join("viewer", variant=2, level=SILENT, video_slots=1)
    a = await harness.join("a", variant=0, level=LOUDER)
    b = await harness.join("b", variant=1, level=SILENT)
    (slot,) = viewer.streams("video")
    assert await viewer.wait_until(lambda: slot.origins[0] >= 10, timeout=10)
    a.audio_level, b.audio_level = SILENT, LOUDER
    assert await viewer.wait_until(lambda: slot.origins[1] >= 10, timeout=10)

    origins = [seg.origin for seg in slot.segments]
    assert origins[-2:] == [0, 1]
    assert all(seg.starts_with_keyframe for seg in slot.segments)
    assert slot.decode_errors == 0
    assert slot.picture_id_jumps == 0  # picture ids continue across the switch
    assert slot.lost == 0  # and so do sequence numbers
    switches = [
        e.source_participant_id
        for e in harness.events
        if isinstance(e, SlotSourceChanged) and e.participant_id == "viewer" and e.kind == "video"
    ]
    assert switches[-2:] == ["a", "b"]

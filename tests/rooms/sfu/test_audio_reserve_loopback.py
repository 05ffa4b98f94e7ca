"""One audio slot on real ICE/DTLS/SRTP: the speaker hears the next loudest, not silence."""

from __future__ import annotations

import pytest

from rooms.sfu import SfuConfig, SpeakerConfig

from .conftest import Harness, make_config

LOUDER, LOUD, SILENT = 20, 30, 127


@pytest.fixture
def sfu_config() -> SfuConfig:
    return make_config(
        audio_slots=1,
        speakers=SpeakerConfig(max_speakers=1, min_hold=0.3, release_after=0.5),
    )


async def test_the_selected_speaker_hears_the_reserve(harness: Harness) -> None:
    a = await harness.join("a", variant=0, level=LOUDER, audio_slots=1)
    b = await harness.join("b", variant=1, level=LOUD, audio_slots=1)
    c = await harness.join("c", variant=2, level=SILENT, audio_slots=1)
    assert await c.wait_until(lambda: c.origin_packets("audio", 0) >= 25, timeout=10)
    assert await a.wait_until(lambda: a.origin_packets("audio", 1) >= 25, timeout=10)
    assert harness.room.active_speakers == ("a",)
    assert b.origin_packets("audio", 0) > 0  # b hears the speaker
    assert c.origin_packets("audio", 1) == 0  # the reserve only stands in for the speaker
    assert all(bot.origin_packets("audio", 2) == 0 for bot in (a, b, c))

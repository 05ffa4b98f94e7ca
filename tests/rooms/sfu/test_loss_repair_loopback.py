"""Loss between a publisher and the SFU, made by the user-space shaper, repaired by NACKs."""

from __future__ import annotations

import pytest

from rooms.mediabot.bot import Bot
from rooms.mediabot.shaper import LinkSpec, UdpShaper, shape_signaling
from rooms.sfu import SfuConfig

from .conftest import LOOPBACK, Harness, make_config

LOSS = 0.08
WINDOW_FRAMES = 120  # 8 s of the clip's 15 fps


def decoded(bot: Bot) -> int:
    """Frames handed to the decoder with their references intact (libvpx may output the
    last few later)."""
    return sum(s.frames_decodable for s in bot.streams("video"))


async def frames_through_loss(harness: Harness) -> tuple[int, int, Bot]:
    """(frames the lossy publisher sent in the window, frames its subscriber decoded)."""
    shaper = await UdpShaper.start(up=LinkSpec(loss=LOSS), seed=16)

    async def signaling(sdp: str) -> str:
        return await harness.room.offer("lossy", sdp)

    publisher = Bot(
        "lossy",
        shape_signaling(signaling, shaper),
        variant=0,
        audio_level=30,
        audio_slots=0,
        video_slots=0,
        ice_addresses=LOOPBACK,
    )
    harness.bots.append(publisher)
    try:
        await publisher.start(timeout=20)
        viewer = await harness.join(
            "viewer", variant=1, level=127, publish_video=False, audio_slots=1, video_slots=1
        )
        # Without repair, runs of decodable frames are short: one is enough to start.
        assert await viewer.wait_until(lambda: decoded(viewer) >= 1, timeout=60), [
            (s.packets, s.lost, s.keyframes, s.frames_complete, s.frames_skipped, s.frames_decoded)
            for s in viewer.streams("video")
        ]
        sent0, decoded0 = publisher.frames_sent, decoded(viewer)
        assert await viewer.wait_until(
            lambda: publisher.frames_sent >= sent0 + WINDOW_FRAMES, timeout=60
        )
        publisher.video_paused = True
        sent = publisher.frames_sent - sent0
        # Whatever is still on its way (a retransmission, the jitter buffer) arrives in this
        # time; nothing new is sent, so the count cannot grow past the window.
        await viewer.wait_until(lambda: decoded(viewer) - decoded0 >= sent, timeout=5)
        assert shaper.up_link.lost > 0
        return sent, decoded(viewer) - decoded0, publisher
    finally:
        shaper.close()


async def test_nacks_upstream_repair_a_lossy_publisher(harness: Harness) -> None:
    sent, got, publisher = await frames_through_loss(harness)
    assert publisher.retransmitted > 0
    # About all of them (bench.impaired measures how many); the margin is for a busy machine,
    # where this one process also stalls. Without the repair it is a small fraction.
    assert got >= 0.9 * sent, (got, sent)
    stats = harness.room.stats("viewer")
    assert stats.state == "connected"


class TestWithoutNacksUpstream:
    @pytest.fixture
    def sfu_config(self) -> SfuConfig:
        return make_config(nack_upstream=False)

    async def test_the_same_loss_costs_frames(self, harness: Harness) -> None:
        sent, got, publisher = await frames_through_loss(harness)
        assert publisher.nacked == 0
        assert got < 0.6 * sent, (got, sent)

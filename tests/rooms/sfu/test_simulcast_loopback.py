"""Simulcast on real ICE/DTLS/SRTP: a bot publishes three layers (rid-based simulcast), the
viewer's reported tile size picks the layer it receives, the output stays one continuous
stream across layer switches, and the publisher pauses the layers the SFU's REMB grant does
not fund (nobody watches them) and resumes them when a viewer's tile asks for them."""

from __future__ import annotations

import asyncio

import pytest

from rooms.mediabot.bot import layers_funded
from rooms.sfu.errors import InvalidTileSize
from rooms.sfu.room import SfuRoom

from .conftest import Harness

SILENT = 127
LOUD = 20


def carried(room: SfuRoom, viewer: str) -> tuple[str | None, int | None]:
    """(rid, layer) the viewer's video slot currently forwards."""
    (slot,) = [s for s in room.peers[viewer].slots.values() if s.kind == "video"]
    source = slot.current
    return (source.rid, source.layer) if source is not None else (None, None)


async def test_the_tile_size_picks_the_layer_and_switches_stay_continuous(
    harness: Harness,
) -> None:
    room = harness.room
    viewer = await harness.join("viewer", variant=2, level=SILENT, video_slots=1)
    await harness.join("pub", variant=0, level=SILENT, simulcast=True, audio_slots=1)
    (stream,) = viewer.streams("video")
    publisher = room.peers["pub"]
    layers = publisher.sources["camera"].layers
    assert [layer.rid for layer in layers] == ["l", "m", "h"]
    # Every layer's SSRC is learnt from its rid header extension.
    assert await viewer.wait_until(
        lambda: all(layer.ssrc is not None for layer in layers), timeout=10
    )
    assert len({layer.ssrc for layer in layers}) == 3
    (mid,) = [m for m, s in room.peers["viewer"].slots.items() if s.kind == "video"]

    sizes: list[int] = []

    async def receive_width(width: int, timeout: float = 15) -> None:
        """Wait until ``width`` is received for ten frames in a row (a switch in flight,
        such as a layer the publisher pauses just as it is asked for, may pass by first)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            assert await viewer.wait_until(lambda: stream.width == width, timeout=remaining), (
                stream.width,
                carried(room, "viewer"),
            )
            until = stream.frames_decoded + 10
            await viewer.wait_until(
                lambda: stream.width != width or stream.frames_decoded >= until,  # noqa: B023
                timeout=10,
            )
            if stream.width == width:
                sizes.append(width)
                return

    # No tile reported yet: a thumbnail gets the highest layer but the top (160x120).
    await receive_width(160)
    assert carried(room, "viewer") == ("m", 1)
    # A small tile: the lowest layer (80x60).
    assert room.set_tile_sizes("viewer", {mid: (80, 60)}) == 1
    await receive_width(80)
    assert carried(room, "viewer") == ("l", 0)
    # Nobody watches the top layer now: the publisher pauses it.
    assert await viewer.wait_until(lambda: not layers[2].receiving, timeout=15)
    # A large tile that no layer covers: the top one (320x240), the one large tile of a call
    # between two people. The publisher resumes it first (its grant rises at the next REMB);
    # the middle one comes in between.
    room.set_tile_sizes("viewer", {mid: (640, 480)})
    await receive_width(320, timeout=25)
    assert carried(room, "viewer") == ("h", 2)
    # A tile for a slot the viewer does not have is skipped, not an error; a size out of
    # range is refused and changes nothing.
    assert room.set_tile_sizes("viewer", {"no-such-mid": (10, 10)}) == 0
    with pytest.raises(InvalidTileSize):
        room.set_tile_sizes("viewer", {mid: (80, 60), "x": (9000, 10)})
    assert room.peers["viewer"].tiles[mid] == (640, 480)

    assert sizes == [160, 80, 320]
    # One continuous stream across the layer switches: no sequence gap, no picture id jump,
    # and every frame decoded.
    assert stream.lost == 0
    assert stream.picture_id_jumps == 0
    assert stream.decode_errors == 0


async def test_padding_in_a_layer_leaves_no_gap_at_the_viewer(harness: Harness) -> None:
    """A browser sends padding-only packets in its layers' streams; they are not forwarded,
    and the sequence numbers after them close up (a viewer would count each one as lost)."""
    room = harness.room
    viewer = await harness.join("viewer", variant=2, level=SILENT, video_slots=1)
    await harness.join("pub", variant=0, level=SILENT, simulcast=True, padding=True)
    (stream,) = viewer.streams("video")
    assert await viewer.wait_until(lambda: stream.frames_decoded >= 20, timeout=15)
    (mid,) = [m for m, s in room.peers["viewer"].slots.items() if s.kind == "video"]
    room.set_tile_sizes("viewer", {mid: (80, 60)})
    assert await viewer.wait_until(lambda: stream.width == 80, timeout=15)
    frames = stream.frames_decoded
    assert await viewer.wait_until(lambda: stream.frames_decoded >= frames + 20, timeout=15)
    assert room.peers["pub"].packets_dropped > 20  # the padding, received and dropped
    assert stream.lost == 0
    assert stream.picture_id_jumps == 0
    assert stream.decode_errors == 0


@pytest.mark.parametrize(
    ("grant", "expected"),
    [
        (0, 1),  # the lowest layer is always sent
        (99_999, 1),
        (100_000, 2),  # the lowest layer's target and the middle one's minimum
        (399_999, 2),
        (400_000, 3),  # both lower targets and the top one's minimum
        (10_000_000, 3),
    ],
)
def test_a_grant_funds_layers_from_the_lowest_up(grant: int, expected: int) -> None:
    targets, minimums = (50_000, 150_000, 600_000), (20_000, 50_000, 200_000)
    assert layers_funded(grant, targets, minimums) == expected
    assert layers_funded(grant, targets[:1], minimums[:1]) == 1


async def test_a_layer_nobody_watches_is_paused_and_resumed_when_a_tile_asks(
    harness: Harness,
) -> None:
    """The publisher speaks (the active speaker may get the top layer); the viewer's tile
    is small, so nobody watches the top layer: the SFU's REMB grant stops funding it and the
    bot stops sending it. A large tile asks for it again: the grant rises, the bot resumes it
    at a keyframe and the viewer receives it."""
    room = harness.room
    viewer = await harness.join("viewer", variant=2, level=SILENT, video_slots=1)
    pub = await harness.join("pub", variant=0, level=LOUD, simulcast=True, audio_slots=1)
    (stream,) = viewer.streams("video")
    top = room.peers["pub"].sources["camera"].layers[2]
    (mid,) = [m for m, s in room.peers["viewer"].slots.items() if s.kind == "video"]
    assert await viewer.wait_until(lambda: room.selection.dominant == "pub", timeout=10)

    room.set_tile_sizes("viewer", {mid: (80, 60)})
    assert await viewer.wait_until(lambda: stream.width == 80, timeout=15), carried(room, "viewer")
    # The grant falls to what the lowest layer needs: the top one is paused (the middle one
    # still fits the grant's floor, as a browser would keep it).
    assert await pub.wait_until(lambda: pub.layers_active == 2, timeout=10), pub.remb
    assert pub.remb is not None and pub.remb < 400_000
    sent = pub.layer_frames_sent[2]
    frames = pub.layer_frames_sent[0]
    assert await viewer.wait_until(lambda: pub.layer_frames_sent[0] >= frames + 30, timeout=10)
    assert pub.layer_frames_sent[2] == sent  # two seconds without a frame of the top layer
    assert await viewer.wait_until(lambda: not top.receiving, timeout=5)
    assert pub.layer_pauses == 1

    # A large tile of the active speaker asks for the top layer: the grant funds it again.
    room.set_tile_sizes("viewer", {mid: (320, 240)})
    assert await viewer.wait_until(lambda: stream.width == 320, timeout=15), (
        pub.remb,
        pub.layers_active,
        carried(room, "viewer"),
    )
    assert carried(room, "viewer") == ("h", 2)
    assert pub.layers_active == 3 and pub.layer_resumes == 1
    assert pub.remb is not None and pub.remb >= 400_000
    frames = stream.frames_decoded
    assert await viewer.wait_until(lambda: stream.frames_decoded >= frames + 10, timeout=10)
    assert stream.width == 320
    assert stream.lost == 0
    assert stream.picture_id_jumps == 0
    assert stream.decode_errors == 0

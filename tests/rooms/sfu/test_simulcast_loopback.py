"""Simulcast on real ICE/DTLS/SRTP: a bot publishes three layers (rid-based simulcast), the
viewer's reported tile size picks the layer it receives, and the output stays one continuous
stream across layer switches."""

from __future__ import annotations

import pytest

from rooms.sfu.errors import InvalidTileSize
from rooms.sfu.room import SfuRoom

from .conftest import Harness

SILENT = 127


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

    async def receive_width(width: int) -> None:
        assert await viewer.wait_until(lambda: stream.width == width, timeout=15), (
            stream.width,
            carried(room, "viewer"),
        )
        frames = stream.frames_decoded
        assert await viewer.wait_until(lambda: stream.frames_decoded >= frames + 10, timeout=10)
        assert stream.width == width
        sizes.append(width)

    # No tile reported yet: a thumbnail gets the highest layer but the top (160x120).
    await receive_width(160)
    assert carried(room, "viewer") == ("m", 1)
    # A small tile: the lowest layer (80x60).
    assert room.set_tile_sizes("viewer", {mid: (80, 60)}) == 1
    await receive_width(80)
    assert carried(room, "viewer") == ("l", 0)
    # A large tile: back to the middle one (a thumbnail never gets the top).
    room.set_tile_sizes("viewer", {mid: (640, 480)})
    await receive_width(160)
    # A tile for a slot the viewer does not have is skipped, not an error; a size out of
    # range is refused and changes nothing.
    assert room.set_tile_sizes("viewer", {"no-such-mid": (10, 10)}) == 0
    with pytest.raises(InvalidTileSize):
        room.set_tile_sizes("viewer", {mid: (80, 60), "x": (9000, 10)})
    assert room.peers["viewer"].tiles[mid] == (640, 480)

    assert sizes == [160, 80, 160]
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

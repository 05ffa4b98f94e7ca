"""`bench.media --simulcast` against Janus: the publisher's offer carries what Janus 1.1.2 needs
for rid-based simulcast, the subscriptions ask for the layers our SFU forwards, and the bots
see which layer arrived."""

from __future__ import annotations

import pytest

from bench.janus import substreams
from bench.mediabots import BenchBot, publisher_jsep
from rooms.mediabot.bot import MID_URI, RID_URI
from rooms.sfu.rtp_header import build_header, one_byte_extension_block
from rooms.sfu.vp8 import build_descriptor, keyframe_size


class Captured(Exception):
    pass


async def janus_offer(*, simulcast: bool) -> tuple[BenchBot, str]:
    """The offer a Janus publisher bot sends (captured instead of sent)."""
    offers: list[str] = []

    async def signaling(sdp: str) -> str:
        offers.append(sdp)
        raise Captured

    bot = BenchBot(
        "j0",
        signaling,
        audio_slots=0,
        video_slots=0,
        decode=False,
        ice_addresses=("127.0.0.1",),
        simulcast=simulcast,
    )
    with pytest.raises(Captured):
        await bot.start(timeout=5)
    await bot.close()
    return bot, offers[0]


def video_section(sdp: str) -> list[str]:
    sections = sdp.split("\r\nm=")
    return next(s for s in sections if s.startswith("video")).split("\r\n")


async def test_a_simulcast_publisher_offers_janus_its_layers_lowest_first() -> None:
    bot, sdp = await janus_offer(simulcast=True)
    video = video_section(sdp)
    extmaps = {line.split(" ", 1)[1] for line in video if line.startswith("a=extmap:")}
    # Janus maps an unknown SSRC to its m-line by the mid extension, then to its layer by rid.
    assert {MID_URI, RID_URI} <= extmaps
    assert [line for line in video if line.startswith(("a=rid:", "a=simulcast:"))] == [
        "a=rid:l send",
        "a=rid:m send",
        "a=rid:h send",
        "a=simulcast:send l;m;h",
    ]
    # Janus takes the a=rid lines as highest first unless told otherwise: with "lmh" its
    # substream 0 is the first line ("l"), the bot's smallest layer.
    jsep = publisher_jsep(sdp)
    assert (jsep["type"], jsep["sdp"], jsep["rid_order"]) == ("offer", sdp, "lmh")
    sizes = [
        keyframe_size(build_descriptor(picture_id=0, start=True) + layer.video_frames[0])
        for layer in bot.layers
    ]
    assert sizes == [(80, 60), (160, 120), (320, 240)]


async def test_a_single_stream_publisher_offers_no_rid_order() -> None:
    _, sdp = await janus_offer(simulcast=False)
    assert publisher_jsep(sdp) == {"type": "offer", "sdp": sdp}


def test_layers_listed_highest_first_are_refused() -> None:
    sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rid:h send\r\na=rid:m send\r\n"
    with pytest.raises(ValueError, match="lowest first"):
        publisher_jsep(sdp)


def test_janus_subscribers_ask_for_the_layer_our_sfu_forwards_to_a_bot() -> None:
    # Feed 1 is the loudest bot, the dominant speaker: the top layer; thumbnails the middle.
    assert substreams([1, 3, 4, 5, 6, 7, 8, 9, 10], dominant=1, audio_streams=3) == [2] + [1] * 8
    # The dominant speaker's own subscription shows only thumbnails.
    assert substreams([2, 3, 4, 5], dominant=1, audio_streams=3) == [1, 1, 1, 1]


async def test_a_bench_bot_notes_the_size_of_the_keyframes_it_receives() -> None:
    bot, _ = await janus_offer(simulcast=True)
    bot.window_start()
    ext = one_byte_extension_block([(1, b"1"), (10, b"m")])
    middle = bot.layers[1]
    key = middle.keyframes.index(True)
    delta = middle.keyframes.index(False)

    def packet(frame: bytes, *, start: bool) -> bytes:
        header = build_header(
            marker=1, payload_type=96, sequence_number=1, timestamp=0, ssrc=7, ext=ext
        )
        return header + build_descriptor(picture_id=3, start=start) + frame[:1000]

    keyframe = middle.video_frames[key]
    for data in (
        packet(keyframe, start=False),  # the middle of a frame
        packet(middle.video_frames[delta], start=True),  # a delta frame
    ):
        bot._note_size("1", data, len(data))
    assert bot.window_sizes == {}
    data = packet(keyframe, start=True)
    bot._note_size("1", data, len(data))
    assert bot.window_sizes == {"1": {"160x120"}}

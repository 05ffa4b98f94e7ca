"""The bench bot's receiver gives a frame up only for a packet that is missing, not for one
that is still on its way: a top-layer keyframe paced over more than ``JITTER_WAIT`` is a
whole frame when its last packet lands, as a browser's packet buffer would have it. And the
bot's clips keyed every few seconds (closer to a browser, which keys when asked)."""

from __future__ import annotations

import pytest

from rooms.mediabot.bot import JITTER_WAIT, Bot, Part, ReceivedStream, hole_noticed
from rooms.mediabot.clip import clip, layered_clip
from rooms.sfu.vp8 import build_descriptor

CHUNK = 1100


async def _no_signaling(sdp: str) -> str:
    raise AssertionError("not negotiated in these tests")


def _packets(frame_index: int, first_seq: int) -> list[tuple[int, int, int, bytes]]:
    """(sequence number, timestamp, marker, VP8 payload) of one frame of clip 0."""
    frame = clip(0).video_frames[frame_index]
    chunks = [frame[i : i + CHUNK] for i in range(0, len(frame), CHUNK)]
    return [
        (
            first_seq + n,
            6000 * frame_index,
            int(n == len(chunks) - 1),
            build_descriptor(picture_id=frame_index, start=n == 0) + chunk,
        )
        for n, chunk in enumerate(chunks)
    ]


def _feed(
    bot: Bot, stream: ReceivedStream, packets: list[tuple[int, int, int, bytes]], at: list[float]
) -> None:
    for (seq, ts, marker, payload), now in zip(packets, at, strict=True):
        bot._on_video(stream, seq, ts, marker, payload, now)


@pytest.fixture
async def bot() -> Bot:
    return Bot("r", _no_signaling, ice_addresses=("127.0.0.1",))


async def test_a_keyframe_arriving_slower_than_the_jitter_wait_is_decoded(bot: Bot) -> None:
    stream = ReceivedStream(mid="1", kind="video", ssrc=1)
    keyframe = _packets(0, 100)
    assert len(keyframe) > 10  # the top layer's keyframe: tens of packets
    spread = [2 * JITTER_WAIT * n / (len(keyframe) - 1) for n in range(len(keyframe))]
    _feed(bot, stream, keyframe, spread)
    delta = _packets(1, 100 + len(keyframe))
    _feed(bot, stream, delta, [spread[-1] + 0.05] * len(delta))

    assert stream.frames_skipped == 0
    assert stream.frames_decodable == 2


async def test_a_missing_packet_gives_its_frame_up_after_the_jitter_wait(bot: Bot) -> None:
    stream = ReceivedStream(mid="1", kind="video", ssrc=1)
    keyframe = _packets(0, 100)
    lost = len(keyframe) // 2
    _feed(bot, stream, keyframe[:lost] + keyframe[lost + 1 :], [0.0] * (len(keyframe) - 1))
    assert stream.frames_skipped == 0  # a retransmission may still come

    delta = _packets(1, 100 + len(keyframe))
    _feed(bot, stream, delta[:1], [JITTER_WAIT + 0.01])

    assert stream.frames_skipped == 1
    assert stream.frames_decodable == 0


async def test_the_jitter_wait_counts_from_when_the_hole_showed(bot: Bot) -> None:
    stream = ReceivedStream(mid="1", kind="video", ssrc=1)
    keyframe = _packets(0, 100)
    # Paced out over 0.25 s; the second to last packet lost, the last one shows the hole.
    at = [0.25 * n / (len(keyframe) - 1) for n in range(len(keyframe))]
    lost = len(keyframe) - 2
    _feed(bot, stream, keyframe[:lost] + keyframe[lost + 1 :], at[:lost] + at[lost + 1 :])
    delta = _packets(1, 100 + len(keyframe))
    _feed(bot, stream, delta[:1], [0.25 + JITTER_WAIT - 0.05])
    assert stream.frames_skipped == 0  # 0.5 s after the frame's first packet: still waiting

    after = _packets(2, 100 + len(keyframe) + len(delta))
    _feed(bot, stream, after[:1], [0.25 + JITTER_WAIT + 0.01])
    assert stream.frames_skipped == 1


async def test_a_complete_keyframe_after_a_hole_is_not_kept_waiting(bot: Bot) -> None:
    stream = ReceivedStream(mid="1", kind="video", ssrc=1)
    keyframe = _packets(0, 100)
    _feed(bot, stream, keyframe, [0.0] * len(keyframe))
    lost = _packets(1, 100 + len(keyframe))  # never arrives; then the video pauses
    # Back 2 s later (the numbers go on), at a keyframe: shown now, not 0.3 s later.
    again = _packets(0, 100 + len(keyframe) + len(lost))
    _feed(bot, stream, again, [2.1] * len(again))

    assert stream.frames_skipped == 1
    assert stream.frames_decodable == 2


async def test_across_the_sequence_number_wrap(bot: Bot) -> None:
    stream = ReceivedStream(mid="1", kind="video", ssrc=1)
    keyframe = [(seq & 0xFFFF, ts, m, p) for seq, ts, m, p in _packets(0, 65530)]
    _feed(bot, stream, keyframe, [0.0] * len(keyframe))
    delta = [(seq & 0xFFFF, ts, m, p) for seq, ts, m, p in _packets(1, 65530 + len(keyframe))]
    _feed(bot, stream, delta, [0.1] * len(delta))

    assert stream.frames_decodable == 2 and stream.frames_skipped == 0


async def test_a_frame_cut_short_by_the_next_one_is_given_up_at_once(bot: Bot) -> None:
    stream = ReceivedStream(mid="1", kind="video", ssrc=1)
    keyframe = _packets(0, 100)
    cut = keyframe[:3]  # the rest never sent: the next frame follows without a gap
    _feed(bot, stream, cut, [0.0] * 3)
    following = _packets(1, 103)
    _feed(bot, stream, following, [0.01] * len(following))

    assert stream.frames_skipped == 1  # not JITTER_WAIT later: nothing can complete it
    assert stream.frames_complete == 1  # the next frame, put together after it
    assert stream.frames_decodable == 0


@pytest.mark.parametrize(
    ("present", "first", "noticed"),
    [
        ({10: 1.0, 11: 2.0}, 10, None),  # no hole: still arriving
        ({11: 1.0, 12: 2.0}, 10, 1.0),  # the first packet missing
        ({10: 1.0, 12: 3.0, 13: 2.0}, 10, 2.0),  # a hole, seen first by the later packet
        ({65535: 1.0, 1: 4.0}, 65535, 4.0),  # across the wrap
        ({65535: 1.0, 0: 4.0}, 65535, None),
    ],
)
def test_hole_noticed(present: dict[int, float], first: int, noticed: float | None) -> None:
    pending = {seq: Part(0, 0, False, None, b"", at) for seq, at in present.items()}
    assert hole_noticed(pending, first) == noticed


def test_a_clip_keyed_every_ten_seconds_has_one_keyframe_in_each_layer() -> None:
    layers = layered_clip(2, keyframe_every=10)
    for layer in layers:
        assert len(layer.video_frames) == 150
        assert layer.keyframes.count(True) == 1 and layer.keyframes[0]
    assert clip(2) is clip(2, 1)  # the default clip is encoded once, however it is named
    with pytest.raises(ValueError, match="at least 1"):
        clip(2, 0)
    with pytest.raises(ValueError, match="at least 1"):
        layered_clip(2, -1)

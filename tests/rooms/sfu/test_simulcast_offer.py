"""Simulcast in offers and answers (rooms.sfu.negotiation): which layers are received, what is
refused, and how the answer accepts them."""

from __future__ import annotations

import pytest

from rooms.sfu.errors import NegotiationError
from rooms.sfu.negotiation import RID_URI, complete_answer, plan_offer
from rooms.sfu.twcc import TWCC_URI
from rooms.sfu.vp8 import build_descriptor, keyframe_size
from tests.rooms.sfu.test_offer_plan import m_line, offer

RID_EXT = f"a=extmap:4 {RID_URI}\r\n"
LAYERS = "a=rid:l send\r\na=rid:m send\r\na=rid:h send\r\na=simulcast:send l;m;h\r\n"


def camera(extra: str = LAYERS + RID_EXT, mid: str = "1") -> str:
    return m_line("video", mid, "sendonly") + extra


def test_a_simulcast_camera_is_received_in_its_layers_lowest_first() -> None:
    plans = plan_offer(offer(m_line("audio", "0", "sendonly"), camera()), screen_mids=())
    video = plans[1]
    assert (video.role, video.source_kind, video.rids, video.rid_ext_id) == (
        "publish",
        "camera",
        ("l", "m", "h"),
        4,
    )
    assert plans[0].rids == ()


def test_alternatives_and_paused_layers_take_the_first_rid() -> None:
    extra = "a=rid:a send\r\na=rid:b send\r\na=rid:c send\r\na=simulcast:send a,c;~b\r\n"
    plans = plan_offer(offer(camera(extra + RID_EXT)), screen_mids=())
    assert plans[0].rids == ("a", "b")


SCREEN_LAYERS = "a=rid:l send\r\na=rid:h send\r\na=simulcast:send l;h\r\n"


def test_a_screen_share_is_received_in_its_layers_too() -> None:
    plans = plan_offer(
        offer(camera(mid="1"), camera(SCREEN_LAYERS + RID_EXT, mid="2")), screen_mids={"2"}
    )
    assert [(p.source_kind, p.rids, p.rid_ext_id) for p in plans] == [
        ("camera", ("l", "m", "h"), 4),
        ("screen", ("l", "h"), 4),
    ]
    # A screen share without simulcast is still one stream, named by its SSRC if it has one.
    plain = plan_offer(offer(m_line("video", "2", "sendonly")), screen_mids={"2"})
    assert (plain[0].source_kind, plain[0].rids) == ("screen", ())
    # Its simulcast is checked as a camera's is.
    with pytest.raises(NegotiationError, match="rtp-stream-id"):
        plan_offer(offer(camera(SCREEN_LAYERS, mid="2")), screen_mids={"2"})


def test_the_answer_accepts_the_layers_of_camera_and_screen_each_in_its_section() -> None:
    plans = plan_offer(
        offer(camera(mid="1"), camera(SCREEN_LAYERS + RID_EXT, mid="2")), screen_mids={"2"}
    )
    answer = (
        "v=0\r\nm=video 9 X 96\r\na=mid:1\r\na=recvonly\r\n"
        "m=video 9 X 96\r\na=mid:2\r\na=recvonly\r\n"
    )
    camera_section, screen_section = complete_answer(answer, plans).split("m=")[1:]
    assert "a=rid:l recv\r\na=rid:m recv\r\na=rid:h recv\r\na=simulcast:recv l;m;h" in (
        camera_section
    )
    assert screen_section.endswith(
        f"a=extmap:4 {RID_URI}\r\na=rid:l recv\r\na=rid:h recv\r\na=simulcast:recv l;h\r\n"
    )
    assert "a=rid:m" not in screen_section


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (LAYERS, "rtp-stream-id"),  # no header extension to tell the layers apart
        ("a=rid:l send\r\na=simulcast:send l;m\r\n" + RID_EXT, "'m' has no valid a=rid"),
        ("a=rid:l send\r\na=simulcast:send l;l\r\n" + RID_EXT, "distinct"),
        (
            "".join(f"a=rid:r{i} send\r\n" for i in range(4))
            + "a=simulcast:send r0;r1;r2;r3\r\n"
            + RID_EXT,
            "1 to 3",
        ),
        ("a=rid:l/x send\r\na=simulcast:send l/x\r\n" + RID_EXT, "no valid a=rid"),
        ("a=rid:l recv\r\na=simulcast:send l\r\n" + RID_EXT, "no valid a=rid"),
        (LAYERS + f"a=extmap:15 {RID_URI}\r\n", "rtp-stream-id"),
    ],
)
def test_simulcast_that_cannot_be_received_is_refused(extra: str, message: str) -> None:
    with pytest.raises(NegotiationError, match=message):
        plan_offer(offer(camera(extra)), screen_mids=())


def test_the_answer_accepts_the_layers_in_their_m_section_only() -> None:
    plans = plan_offer(
        offer(m_line("audio", "0", "sendonly"), camera(), m_line("video", "2", "recvonly")),
        screen_mids=(),
    )
    answer = (
        "v=0\r\nm=audio 9 X 96\r\na=mid:0\r\na=recvonly\r\n"
        "m=video 9 X 96\r\na=mid:1\r\na=recvonly\r\n"
        "m=video 9 X 96\r\na=mid:2\r\na=sendonly\r\n"
    )
    sections = complete_answer(answer, plans).split("m=")
    assert f"a=extmap:4 {RID_URI}" in sections[2]
    assert "a=rid:l recv\r\na=rid:m recv\r\na=rid:h recv\r\na=simulcast:recv l;m;h" in sections[2]
    assert "simulcast" not in sections[1] + sections[3]
    # Without simulcast the answer is untouched.
    plain = plan_offer(offer(m_line("video", "1", "sendonly")), screen_mids=())
    assert complete_answer(answer, plain) == answer


def test_keyframe_size_reads_the_vp8_keyframe_header() -> None:
    descriptor = build_descriptor(picture_id=5, start=True)
    # Frame tag (keyframe: bit 0 clear), start code, 14-bit width and height (little endian).
    key = descriptor + b"\x50\x02\x00\x9d\x01\x2a" + (320).to_bytes(2, "little")
    key += (0x4000 | 240).to_bytes(2, "little")  # the top two bits are the scale, not size
    assert keyframe_size(key) == (320, 240)
    delta = descriptor + b"\x51\x02\x00\x9d\x01\x2a" + bytes(4)
    assert keyframe_size(delta) is None
    assert keyframe_size(descriptor + b"\x50\x02\x00\x00\x00\x00" + bytes(4)) is None
    assert keyframe_size(b"") is None


TWCC = (
    f"a=extmap:3 {TWCC_URI}\r\na=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 nack\r\na=rtcp-fb:96 goog-remb\r\n"
)


def test_transport_cc_is_accepted_on_published_m_lines_only() -> None:
    plans = plan_offer(
        offer(
            m_line("audio", "0", "sendonly") + TWCC,
            camera(LAYERS + RID_EXT + TWCC),
            m_line("video", "2", "recvonly") + TWCC,
        ),
        screen_mids=(),
    )
    assert [p.twcc_ext_id for p in plans] == [3, 3, 0]
    answer = (
        "v=0\r\nm=audio 9 X 111\r\na=mid:0\r\na=recvonly\r\n"
        "m=video 9 X 97 98\r\na=mid:1\r\na=recvonly\r\n"
        "m=video 9 X 97 98\r\na=mid:2\r\na=sendonly\r\n"
    )
    sections = complete_answer(answer, plans).split("m=")
    # Its extension and the feedback for the codec the answer keeps (its first payload type).
    assert f"a=extmap:3 {TWCC_URI}\r\na=rtcp-fb:111 transport-cc" in sections[1]
    assert f"a=extmap:3 {TWCC_URI}\r\na=rtcp-fb:97 transport-cc" in sections[2]
    assert "a=simulcast:recv l;m;h" in sections[2]
    # A receive slot gets none: what the SFU sends carries no transport-wide numbers.
    assert "transport-cc" not in sections[3]


@pytest.mark.parametrize(
    "extra",
    [
        f"a=extmap:3 {TWCC_URI}\r\n",  # the extension without the feedback
        "a=rtcp-fb:96 transport-cc\r\n",  # the feedback without the extension
        f"a=extmap:15 {TWCC_URI}\r\na=rtcp-fb:96 transport-cc\r\n",  # not a one-byte id
    ],
)
def test_transport_cc_that_cannot_work_is_left_out(extra: str) -> None:
    plans = plan_offer(offer(m_line("video", "1", "sendonly") + extra), screen_mids=())
    assert plans[0].twcc_ext_id == 0
    answer = "v=0\r\nm=video 9 X 96\r\na=mid:1\r\na=recvonly\r\n"
    assert complete_answer(answer, plans) == answer


def test_a_stopped_share_keeps_the_stream_id_extension_for_the_next_share() -> None:
    """A browser's offer may only use the extensions negotiated for an m-line before: the
    answer to a stopped (inactive) share keeps rtp-stream-id, so that sharing again in layers
    is an offer Chromium accepts (it refused its own and rebuilt the connection)."""
    stopped = m_line("video", "2", "inactive") + RID_EXT
    plans = plan_offer(offer(m_line("audio", "0", "sendonly"), camera(), stopped), screen_mids=())
    answer = (
        "v=0\r\nm=audio 9 X 96\r\na=mid:0\r\na=recvonly\r\n"
        "m=video 9 X 96\r\na=mid:1\r\na=recvonly\r\n"
        "m=video 9 X 96\r\na=mid:2\r\na=inactive\r\n"
    )
    sections = complete_answer(answer, plans).split("m=")
    assert sections[3].endswith(f"a=inactive\r\na=extmap:4 {RID_URI}\r\n")
    assert "simulcast" not in sections[3]
    # Nothing for an inactive m-line that does not offer it, nor for audio.
    bare = plan_offer(offer(m_line("video", "1", "inactive")), screen_mids=())
    assert complete_answer(answer, bare) == answer

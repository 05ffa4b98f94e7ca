"""Offer checks that run before anything is applied to a peer connection."""

import pytest

from rooms.sfu.errors import NegotiationError
from rooms.sfu.negotiation import plan_offer

HEAD = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
FP = "a=fingerprint:sha-256 " + ":".join(["AA"] * 32) + "\r\n"


def m_line(kind: str, mid: str, direction: str, codec: str = "") -> str:
    codec = codec or ("opus/48000/2" if kind == "audio" else "VP8/90000")
    return (
        f"m={kind} 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:{mid}\r\n"
        f"a={direction}\r\na=rtcp-mux\r\na=rtpmap:96 {codec}\r\n"
        f"a=ice-ufrag:abcd\r\na=ice-pwd:{'x' * 22}\r\n{FP}a=setup:actpass\r\n"
    )


def offer(*lines: str, bundle: str | None = None) -> str:
    mids = [line.split("a=mid:")[1].split("\r\n")[0] for line in lines]
    group = f"a=group:BUNDLE {bundle if bundle is not None else ' '.join(mids)}\r\n"
    return HEAD + group + "".join(lines)


def test_it_classifies_publish_slot_and_screen() -> None:
    plans = plan_offer(
        offer(
            m_line("audio", "0", "sendonly"),
            m_line("video", "1", "sendonly"),
            m_line("video", "2", "sendonly"),
            m_line("audio", "3", "recvonly"),
            m_line("video", "4", "recvonly"),
            m_line("video", "5", "inactive"),
        ),
        screen_mids={"2"},
    )
    assert [(p.mid, p.role, p.source_kind) for p in plans] == [
        ("0", "publish", "audio"),
        ("1", "publish", "camera"),
        ("2", "publish", "screen"),
        ("3", "slot", None),
        ("4", "slot", None),
        ("5", "inactive", None),
    ]


@pytest.mark.parametrize(
    ("sdp", "message"),
    [
        ("garbage", "no audio or video"),
        (
            offer(m_line("audio", "0", "sendonly"), m_line("video", "1", "recvonly"), bundle="0"),
            "BUNDLE",
        ),
        (offer(m_line("audio", "0", "sendonly", codec="PCMU/8000")), "Opus"),
        (offer(m_line("video", "0", "sendonly", codec="H264/90000")), "VP8"),
        (
            offer(m_line("audio", "0", "sendonly"), m_line("audio", "1", "sendonly")),
            "more than one audio",
        ),
    ],
)
def test_it_rejects_bad_offers_with_a_clear_message(sdp: str, message: str) -> None:
    with pytest.raises(NegotiationError, match=message):
        plan_offer(sdp, set())


def test_screen_mids_must_name_video_lines() -> None:
    with pytest.raises(NegotiationError, match="screen_mids"):
        plan_offer(offer(m_line("audio", "0", "sendonly")), {"0"})


def test_receive_slots_are_capped_at_what_the_room_can_fill() -> None:
    fits = offer(
        m_line("audio", "0", "sendonly"),
        *(m_line("audio", f"a{n}", "recvonly") for n in range(3)),
        *(m_line("video", f"v{n}", "recvonly") for n in range(13)),
    )
    assert len(plan_offer(fits, set())) == 17
    # The guest: 400 receive-only m-lines.
    flood = offer(*(m_line("video", f"v{n}", "recvonly") for n in range(400)))
    with pytest.raises(NegotiationError, match="too many receive slots"):
        plan_offer(flood, set())
    with pytest.raises(NegotiationError, match="at most 3 audio"):
        plan_offer(offer(*(m_line("audio", f"a{n}", "recvonly") for n in range(4))), set())
    idle = offer(*(m_line("video", f"v{n}", "inactive") for n in range(20)))
    with pytest.raises(NegotiationError, match="inactive"):
        plan_offer(idle, set())

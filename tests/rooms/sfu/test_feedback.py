"""RTCP feedback (rooms.sfu.feedback) without a transport: what a peer's RTCP changes, and the
reports and REMB the SFU sends toward a publisher."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSenderInfo,
    RtcpSrPacket,
    pack_remb_fci,
    unpack_remb_fci,
)

from rooms.sfu import feedback
from rooms.sfu._fastpath import ffi
from rooms.sfu.allocation import DownlinkEstimator
from rooms.sfu.config import SfuConfig
from rooms.sfu.selection import SourceKey, SourceKind
from rooms.sfu.streams import OutputSlot, Source


class RtcpLog:
    """A writer that keeps the RTCP it is given (its C destination never sends)."""

    def __init__(self) -> None:
        self.dest = ffi.new("fwd_dest *")
        self.dest.fd = -1
        self.rtcp: list[Any] = []

    def write_rtp(self, packet: bytes | bytearray | memoryview) -> int:
        return 0

    def write_rtcp(self, packet: bytes | bytearray | memoryview) -> int:
        self.rtcp.extend(RtcpPacket.parse(bytes(packet)))
        return len(packet)


def slot(writer: RtcpLog, ssrc: int) -> OutputSlot:
    return OutputSlot(
        subscriber_id="sub",
        mid=str(ssrc),
        kind="video",
        ssrc=ssrc,
        rtx_ssrc=ssrc + 1,
        payload_type=96,
        rtx_payload_type=97,
        clock_rate=90000,
        writer=writer,
        on_switch=lambda slot, source: None,
    )


def stream(
    pid: str, kind: SourceKind, ssrc: int, *, layers: int = 1, top_bitrate: int = 0
) -> Source:
    """A published stream (its first layer), ``layers`` simulcast layers with SSRCs from
    ``ssrc`` on."""
    group: list[Source] = []
    for index in range(layers):
        Source(
            SourceKey(pid, kind),
            "0",
            111 if kind == "audio" else 96,
            48000 if kind == "audio" else 90000,
            kind != "audio",
            0,
            ssrc=ssrc + index,
            rid=f"r{index}" if layers > 1 else None,
            layer=index,
            layers=group,
            nack_upstream=kind != "audio",
        )
    group[-1].bitrate = top_bitrate
    return group[0]


def info(ssrc: int, fraction_lost: int, *, lsr: int = 0, dlsr: int = 0) -> RtcpReceiverInfo:
    return RtcpReceiverInfo(
        ssrc=ssrc,
        fraction_lost=fraction_lost,
        packets_lost=0,
        highest_sequence=0,
        jitter=0,
        lsr=lsr,
        dlsr=dlsr,
    )


class Subscriber:
    """One subscriber's side of ``feedback.handle``: two video slots, one carrying a source."""

    def __init__(self) -> None:
        writer = RtcpLog()
        self.carrying, self.idle = slot(writer, 1000), slot(writer, 2000)
        self.source = stream("pub", "camera", 7000)
        self.carrying.assign(self.source, 0.0)
        self.asked: list[Source] = []
        self.downlink = DownlinkEstimator(initial=1_000_000, floor=100_000, ceiling=20_000_000)

    def handle(self, *packets: Any) -> int:
        return feedback.handle(
            packets,
            sources={},
            slots={1000: self.carrying, 2000: self.idle},
            downlink=self.downlink,
            request_keyframe=self.asked.append,
            clock=lambda: 5.0,
        )


@pytest.fixture
def peer() -> Subscriber:
    return Subscriber()


def test_receiver_reports_set_slot_loss_and_the_worst_to_the_downlink(peer: Subscriber) -> None:
    peer.handle(RtcpRrPacket(ssrc=1, reports=[info(1000, 40), info(2000, 10), info(9999, 200)]))
    assert (peer.carrying.fraction_lost, peer.idle.fraction_lost) == (40, 10)
    assert peer.downlink.loss == 40 / 256  # the unknown SSRC's 200 is not this subscriber's


@pytest.mark.parametrize(
    ("named", "slot_remb", "downlink_remb"),
    [([2000, 9999], 640_000, 640_000), ([9999], None, None)],
)
def test_a_remb_naming_a_slot_is_the_downlink_estimate(
    peer: Subscriber, named: list[int], slot_remb: int | None, downlink_remb: int | None
) -> None:
    fci = pack_remb_fci(640_000, named)
    peer.handle(RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=1, media_ssrc=0, fci=fci))
    assert (peer.idle.remb, peer.downlink.remb) == (slot_remb, downlink_remb)


def test_a_remb_that_names_more_ssrcs_than_it_carries_changes_nothing(peer: Subscriber) -> None:
    """A client's malformed REMB (five SSRCs announced, one there) is ignored, not a traceback
    per packet in the worker's log."""
    fci = b"REMB" + bytes((5, 0, 1, 0)) + (2000).to_bytes(4, "big")
    peer.handle(RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=1, media_ssrc=0, fci=fci))
    assert (peer.idle.remb, peer.downlink.remb) == (None, None)


def test_pli_and_fir_ask_a_keyframe_of_what_the_slot_carries(peer: Subscriber) -> None:
    for media_ssrc in (1000, 2000, 9999):
        peer.handle(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=1, media_ssrc=media_ssrc))
    fci = b"".join(ssrc.to_bytes(4, "big") + bytes((1, 0, 0, 0)) for ssrc in (2000, 1000))
    peer.handle(RtcpPsfbPacket(fmt=RTCP_PSFB_FIR, ssrc=1, media_ssrc=0, fci=fci))
    assert peer.asked == [peer.source, peer.source]


def test_a_nack_for_nothing_kept_resends_nothing(peer: Subscriber) -> None:
    nack = RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=1, media_ssrc=1000)
    nack.lost = [1, 2]
    assert peer.handle(nack) == 0


def test_a_gap_in_a_published_stream_is_nacked_at_once() -> None:
    writer = RtcpLog()
    camera = stream("pub", "camera", 7000)
    for seq in (10, 11, 14):
        feedback.nack_missing(camera, seq, 1.0, writer, 42)
    (nack,) = writer.rtcp
    assert (nack.fmt, nack.ssrc, nack.media_ssrc) == (RTCP_RTPFB_NACK, 42, 7000)
    assert nack.lost == [12, 13]


def test_a_pli_needs_a_writer_and_a_known_ssrc() -> None:
    writer = RtcpLog()
    feedback.send_pli(None, 42, stream("pub", "camera", 7000))
    feedback.send_pli(writer, 42, Source(SourceKey("pub", "camera"), "0", 96, 90000, True, 0))
    feedback.send_pli(writer, 42, stream("pub", "camera", 7000))
    assert [(p.fmt, p.ssrc, p.media_ssrc) for p in writer.rtcp] == [(RTCP_PSFB_PLI, 42, 7000)]


# Defaults: a single-layer stream is granted remb_bitrate (1.5 Mbit/s) when watched, the floor
# (remb_min_bitrate, 150 kbit/s) is the least REMB, simulcast_max_bitrate (3 Mbit/s) the most
# for one simulcast stream. A simulcast layer is granted twice its nominal rate (160x120,
# 320x240, 640x480 assumed: 92,160, 368,640 and 1,474,560) or 5/4 of what it sends.
REMB_TABLE = [
    # streams published, watched (highest layer), REMB bitrate (None: no REMB)
    ([("audio", 1)], {}, None),
    ([("camera", 1)], {}, 150_000),
    ([("camera", 1)], {"camera": 0}, 1_500_000),
    ([("camera", 1), ("screen", 1)], {"screen": 0}, 1_500_000),
    ([("camera", 1), ("screen", 1)], {"camera": 0, "screen": 0}, 3_000_000),
    ([("camera", 3)], {}, 150_000),
    ([("camera", 3)], {"camera": 0}, 150_000),
    ([("camera", 3)], {"camera": 1}, 460_800),
    ([("camera", 3)], {"camera": 2}, 1_935_360),
    ([("camera", 3), ("screen", 1)], {"camera": 1, "screen": 0}, 1_960_800),
    ([("camera", 3, 2_800_000)], {"camera": 2}, 3_000_000),
]


@pytest.mark.parametrize(("published", "watched", "remb"), REMB_TABLE)
def test_remb_grants_what_the_subscribers_take(
    published: list[tuple[Any, ...]], watched: dict[SourceKind, int], remb: int | None
) -> None:
    writer = RtcpLog()
    streams = [
        stream("pub", kind, 1000 * n, layers=layers, top_bitrate=rest[0] if rest else 0)
        for n, (kind, layers, *rest) in enumerate(published, 1)
    ]
    keys = {SourceKey("pub", kind): layer for kind, layer in watched.items()}
    feedback.send_upstream(writer, 42, streams, keys, SfuConfig(), 3.0)
    rembs = [p for p in writer.rtcp if isinstance(p, RtcpPsfbPacket) and p.fmt == RTCP_PSFB_APP]
    if remb is None:
        assert rembs == []
        return
    (packet,) = rembs
    bitrate, ssrcs = unpack_remb_fci(packet.fci)
    assert bitrate == remb
    video = [s for s in streams if s.is_vp8]
    assert ssrcs == [layer.ssrc for s in video for layer in s.layers]


def test_receiver_reports_cover_every_layer_that_sent_something() -> None:
    writer = RtcpLog()
    audio, camera = stream("pub", "audio", 100), stream("pub", "camera", 200, layers=3)
    audio.stats.add(1, 100)
    camera.layers[2].stats.add(1, 1000)
    feedback.send_upstream(writer, 42, [audio, camera], {}, SfuConfig(), 3.0)
    (rr,) = [p for p in writer.rtcp if isinstance(p, RtcpRrPacket)]
    assert rr.ssrc == 42
    assert [r.ssrc for r in rr.reports] == [100, 202]


class SentLog(DownlinkEstimator):
    """A downlink estimate that records what each interval sent."""

    def __init__(self) -> None:
        super().__init__(initial=1_000_000, floor=100_000, ceiling=20_000_000)
        self.sent: list[int] = []

    def update(self, sent: int, now: float) -> int:
        self.sent.append(sent)
        return super().update(sent, now)


def test_measure_feeds_the_downlink_what_went_out() -> None:
    camera = stream("pub", "camera", 200)
    camera.stats.add(1, 1000)
    # An output slot as measure reads it: the octets sent through it so far.
    out = cast(OutputSlot, SimpleNamespace(octets=25_000))
    downlink = SentLog()
    sent = feedback.measure([camera], [out], downlink, 12_500, 0.5, 1.0)
    # 12,500 octets went out to this subscriber in half a second: 200 kbit/s.
    assert sent == 25_000 and downlink.sent == [200_000]
    assert camera.receiving and camera.bitrate == 16_000


@pytest.mark.parametrize(
    ("watched", "remb"),
    [
        # A 640x360 share in two layers of that size (the second's size derived from the
        # first's keyframe), 5 frames a second nominal: 92,160 each, granted twice that.
        ({}, 150_000),
        ({"screen": 0}, 184_320),
        # Its top layer watched: at least what a single-stream share gets (a browser starts a
        # full-resolution layer only on a large share of the grant).
        ({"screen": 1}, 1_500_000),
    ],
)
def test_a_watched_top_screen_layer_is_granted_at_least_a_single_streams_rate(
    watched: dict[SourceKind, int], remb: int
) -> None:
    writer = RtcpLog()
    screen = stream("pub", "screen", 1000, layers=2)
    screen.size = (640, 360)
    keys = {SourceKey("pub", kind): layer for kind, layer in watched.items()}
    feedback.send_upstream(writer, 42, [screen], keys, SfuConfig(), 3.0)
    (packet,) = [p for p in writer.rtcp if isinstance(p, RtcpPsfbPacket) and p.fmt == 15]
    assert unpack_remb_fci(packet.fci)[0] == remb


def test_the_round_trip_comes_from_the_sender_reports_passed_on(peer: Subscriber) -> None:
    """The SFU passes the publisher's sender report on to the subscriber's slot; the
    subscriber's next receiver report echoes it (LSR) with how long it held it (DLSR): the
    round trip is the time since it went out less that delay."""
    ntp = (3_900_000_000 << 32) | 0x1234_5678
    sr = RtcpSrPacket(
        ssrc=7000,
        sender_info=RtcpSenderInfo(
            ntp_timestamp=ntp, rtp_timestamp=90_000, packet_count=10, octet_count=10_000
        ),
    )
    writer = cast(RtcpLog, peer.carrying.writer)
    keyframe = SimpleNamespace(
        keyframe=True, seq=1, ts=0, picture_id=-1, tl0picidx=-1, now=9.0, picture_id_bits=15
    )
    assert peer.carrying.start(peer.source, keyframe)  # the slot carries the source now
    feedback.handle(
        [sr],
        sources={7000: peer.source},
        slots={},
        downlink=DownlinkEstimator(initial=1, floor=1, ceiling=1),
        request_keyframe=peer.asked.append,
        clock=lambda: 10.0,
    )
    (passed_on,) = writer.rtcp
    assert isinstance(passed_on, RtcpSrPacket) and passed_on.ssrc == 1000
    # What a browser puts in its report: the middle 32 bits of the NTP time it received.
    lsr = (passed_on.sender_info.ntp_timestamp >> 16) & 0xFFFFFFFF
    answer = info(1000, 0, lsr=lsr, dlsr=int(0.25 * 65536))
    feedback.handle(
        [RtcpRrPacket(ssrc=1, reports=[answer])],
        sources={},
        slots={1000: peer.carrying},
        downlink=peer.downlink,
        request_keyframe=peer.asked.append,
        clock=lambda: 10.4,
    )
    assert peer.downlink.last_rtt == pytest.approx(0.15, abs=1e-4)
    # The same report answered again (a receiver that got no newer one repeats it, DLSR
    # grown) is not measured again: it is that old round trip, not a fresh one.
    peer.downlink.last_rtt = None
    again = info(1000, 0, lsr=lsr, dlsr=int(1.25 * 65536))
    feedback.handle(
        [RtcpRrPacket(ssrc=1, reports=[again])],
        sources={},
        slots={1000: peer.carrying},
        downlink=peer.downlink,
        request_keyframe=peer.asked.append,
        clock=lambda: 11.4,
    )
    assert peer.downlink.last_rtt is None
    # A report on an SR this slot never sent, or none (LSR 0), is no measure.
    for unknown in (lsr + 1, 0):
        peer.downlink.last_rtt = None
        peer.handle(RtcpRrPacket(ssrc=1, reports=[info(1000, 0, lsr=unknown)]))
        assert peer.downlink.last_rtt is None

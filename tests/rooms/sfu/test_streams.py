"""The per-packet forwarding of output slots, through the C loop and real SRTP on loopback."""

import itertools
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiortc.rtp import RtpPacket
from pylibsrtp import Policy, Session

from bench.forwarding import loopback_writer
from rooms.sfu._fastpath import ffi, lib
from rooms.sfu.rtp_header import build_header, one_byte_extension_block, parse_rtp
from rooms.sfu.selection import SourceKey
from rooms.sfu.streams import OutputSlot, Source, forward
from rooms.sfu.transport import RtpWriter
from rooms.sfu.vp8 import build_descriptor, parse_vp8


class CapturingWriter:
    """A real ``RtpWriter`` sending to a socket of the test's own; ``rtp`` is what arrived,
    unprotected (so every packet also proves its SRTP was right)."""

    def __init__(self) -> None:
        key = os.urandom(44)
        self._sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sender.bind(("127.0.0.1", 0))
        self._receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._receiver.bind(("127.0.0.1", 0))
        self._receiver.setblocking(False)
        self.writer: RtpWriter = loopback_writer(self._sender, self._receiver.getsockname(), key)
        self._key = key
        self._rtp: list[bytes] = []

    @property
    def dest(self) -> Any:
        return self.writer.dest

    def write_rtp(self, packet: bytes) -> int:
        return self.writer.write_rtp(packet)

    def write_rtcp(self, packet: bytes) -> int:
        return self.writer.write_rtcp(packet)

    @property
    def rtp(self) -> list[bytes]:
        lib.fwd_flush()  # what the worker's event loop does after each batch of reads
        while True:
            try:
                data = self._receiver.recv(2048)
            except BlockingIOError:
                return self._rtp
            # A session per packet: a NACK answered without RTX repeats an index, which one
            # session's replay check refuses; the test wants the bytes.
            policy = Policy(
                key=self._key,
                ssrc_type=Policy.SSRC_ANY_INBOUND,
                srtp_profile=Policy.SRTP_PROFILE_AEAD_AES_256_GCM,
            )
            self._rtp.append(Session(policy).unprotect(data))

    def close(self) -> None:
        self.writer.close()
        self._sender.close()
        self._receiver.close()


@pytest.fixture
def writer() -> Iterator[CapturingWriter]:
    w = CapturingWriter()
    yield w
    w.close()


def source(pid: str) -> Source:
    return Source(
        SourceKey(pid, "camera"), "0", 96, 90000, True, 0, ssrc=hash(pid) & 0xFFFF, history_size=64
    )


def video_slot(
    writer: Any, switches: list[Any], *, rtx: bool = True, abs_send_time_ext_id: int = 0
) -> OutputSlot:
    return OutputSlot(
        subscriber_id="sub",
        mid="5",
        kind="video",
        ssrc=4242,
        rtx_ssrc=4343,
        payload_type=100,
        rtx_payload_type=101 if rtx else None,
        clock_rate=90000,
        writer=writer,
        on_switch=lambda slot, src: switches.append(src),
        mid_ext_id=1,
        abs_send_time_ext_id=abs_send_time_ext_id,
    )


def packet(
    seq: int, ts: int, pid: int, *, keyframe: bool, start: bool = True, tl0: int | None = None
) -> bytes:
    body = bytes([0x00 if keyframe else 0x01]) + b"vp8data"
    return (
        build_header(marker=1, payload_type=96, sequence_number=seq, timestamp=ts, ssrc=1, ext=b"")
        + build_descriptor(picture_id=pid, start=start, tl0picidx=tl0)
        + body
    )


def feed(slot: OutputSlot, src: Source, data: bytes, now: float) -> int:
    """What Peer.on_rtp and SfuRoom.forward do with one packet; returns bytes sent."""
    pkt = ffi.new("fwd_pkt *")
    assert lib.fwd_parse(pkt, data, len(data), src.is_vp8, src.audio_level_id) == 0
    pkt.now = now
    if src.history is not None:
        src.history.store(pkt.seq, data, now)
    return forward(src, pkt, data)[1]


def test_a_video_slot_switches_only_at_a_keyframe_and_stays_continuous(
    writer: CapturingWriter,
) -> None:
    switches: list[Any] = []
    slot = video_slot(writer, switches)
    a, b = source("a"), source("b")
    slot.assign(a, 0.0)
    assert feed(slot, a, packet(10, 1000, 5, keyframe=False), 0.0) == 0  # waits for keyframe
    assert feed(slot, a, packet(11, 4000, 6, keyframe=True), 0.0) > 0
    assert feed(slot, a, packet(12, 7000, 7, keyframe=False), 0.033) > 0
    assert slot.assign(b, 0.04)  # asks for a keyframe from b
    assert feed(slot, b, packet(500, 90, 300, keyframe=False), 0.05) == 0
    assert feed(slot, a, packet(13, 10000, 8, keyframe=False), 0.066) > 0  # a still flows
    assert feed(slot, b, packet(501, 3090, 301, keyframe=True), 0.1) > 0  # switch here
    assert feed(slot, a, packet(14, 13000, 9, keyframe=False), 0.1) == 0  # a is cut
    assert feed(slot, b, packet(502, 6090, 302, keyframe=False), 0.133) > 0
    assert switches == [a, b]
    assert a.outputs == [] and b.outputs == [slot]

    out = [RtpPacket.parse(p) for p in writer.rtp]
    assert [p.ssrc for p in out] == [4242] * 5
    assert [p.payload_type for p in out] == [100] * 5
    seqs = [p.sequence_number for p in out]
    assert seqs == [(seqs[0] + i) & 0xFFFF for i in range(5)]
    pids = [parse_vp8(p.payload).picture_id for p in out]
    assert pids == [(pids[0] + i) & 0x7FFF for i in range(5)]
    stamps = [p.timestamp for p in out]
    assert all(
        ((y - x) & 0xFFFFFFFF) < 0x80000000 and y != x for x, y in itertools.pairwise(stamps)
    )


def test_unassigning_stops_forwarding_at_once(writer: CapturingWriter) -> None:
    switches: list[Any] = []
    slot = video_slot(writer, switches)
    a = source("a")
    slot.assign(a, 0.0)
    assert feed(slot, a, packet(1, 0, 1, keyframe=True), 0.0) > 0
    slot.assign(None, 0.1)
    assert feed(slot, a, packet(2, 3000, 2, keyframe=False), 0.1) == 0
    assert switches == [a, None]


def test_nack_is_answered_with_rtx_from_the_cache(writer: CapturingWriter) -> None:
    switches: list[Any] = []
    slot = video_slot(writer, switches)
    a = source("a")
    slot.assign(a, 0.0)
    for i in range(3):
        feed(slot, a, packet(100 + i, i * 3000, i, keyframe=i == 0), 0.0)
    first = RtpPacket.parse(writer.rtp[1])
    writer.rtp.clear()
    assert slot.retransmit([first.sequence_number, 9999], 0.1) == 1
    rtx = RtpPacket.parse(writer.rtp[0])
    assert (rtx.ssrc, rtx.payload_type) == (4343, 101)
    assert int.from_bytes(rtx.payload[:2], "big") == first.sequence_number
    assert rtx.payload[2:] == first.payload


def test_without_rtx_a_nack_is_not_answered(writer: CapturingWriter) -> None:
    # The packet again would repeat an SRTP index; under a new number it would fill no gap.
    switches: list[Any] = []
    slot = video_slot(writer, switches, rtx=False)
    a = source("a")
    slot.assign(a, 0.0)
    for i in range(3):
        feed(slot, a, packet(100 + i, i * 3000, 40 + i, keyframe=i == 0), 0.0)
    seqs = [RtpPacket.parse(p).sequence_number for p in writer.rtp]
    writer.rtp.clear()
    assert slot.retransmit(seqs, 0.1) == 0
    assert writer.rtp == [] and slot.retransmitted == 0


def test_an_rtx_answer_renumbers_like_the_forwarded_packet_after_a_switch(
    writer: CapturingWriter,
) -> None:
    switches: list[Any] = []
    slot = video_slot(writer, switches)
    a, b = source("a"), source("b")
    slot.assign(a, 0.0)
    for i in range(3):
        feed(slot, a, packet(100 + i, i * 3000, 40 + i, keyframe=i == 0), 0.0)
    slot.assign(b, 0.1)
    feed(slot, b, packet(7, 0, 9, keyframe=True, tl0=250), 0.1)
    for i in range(1, 3):
        feed(slot, b, packet(7 + i, i * 3000, 9 + i, keyframe=False, tl0=250 + 3 * i), 0.1)
    sent = [RtpPacket.parse(p) for p in writer.rtp]
    writer.rtp.clear()
    # b's packets come back as RTX of what was sent (picture ids renumbered as they were);
    # a's were numbered before the switch and a number never sent yet is not answered.
    seqs = [p.sequence_number for p in sent]
    assert slot.retransmit([seqs[4], seqs[3], seqs[1], (seqs[5] + 1) & 0xFFFF], 0.2) == 2
    rtx = [RtpPacket.parse(p) for p in writer.rtp]
    assert [int.from_bytes(p.payload[:2], "big") for p in rtx] == [seqs[4], seqs[3]]
    assert [p.payload[2:] for p in rtx] == [sent[4].payload, sent[3].payload]
    assert [p.timestamp for p in rtx] == [sent[4].timestamp, sent[3].timestamp]
    # Too old by then.
    assert slot.retransmit([seqs[4]], 1.5) == 0


def test_a_nack_is_answered_once_per_number_and_at_most_64_numbers(writer: CapturingWriter) -> None:
    switches: list[Any] = []
    slot = video_slot(writer, switches)
    a = Source(SourceKey("a", "camera"), "0", 96, 90000, True, 0, ssrc=1, history_size=128)
    slot.assign(a, 0.0)
    for i in range(100):
        feed(slot, a, packet(1000 + i, i * 3000, i, keyframe=i == 0), 0.0)
    seqs = [RtpPacket.parse(p).sequence_number for p in writer.rtp]
    writer.rtp.clear()
    assert slot.retransmit([seqs[5]] * 20 + [seqs[5] + 0x10000], 0.1) == 1
    assert slot.retransmit(seqs, 0.1) == 64
    assert slot.retransmitted == 65


def test_a_packet_too_large_to_forward_leaves_the_stream_as_it_was(writer: CapturingWriter) -> None:
    switches: list[Any] = []
    slot = video_slot(writer, switches)
    a = source("a")
    slot.assign(a, 0.0)
    assert feed(slot, a, packet(1, 0, 1, keyframe=True), 0.0) > 0
    last = (slot.rewriter.last_seq, slot.rewriter.last_timestamp)
    huge = packet(2, 3000, 2, keyframe=False) + bytes(1600)
    assert feed(slot, a, huge, 0.1) == 0
    assert (slot.rewriter.last_seq, slot.rewriter.last_timestamp) == last
    assert feed(slot, a, packet(3, 6000, 3, keyframe=False), 0.2) > 0


def test_audio_packets_carry_the_level_only_when_the_source_sent_one(
    writer: CapturingWriter,
) -> None:
    slot = OutputSlot(
        subscriber_id="sub",
        mid="3",
        kind="audio",
        ssrc=77,
        rtx_ssrc=78,
        payload_type=111,
        rtx_payload_type=None,
        clock_rate=48000,
        writer=writer,
        on_switch=lambda slot, src: None,
        mid_ext_id=1,
        audio_level_ext_id=2,
    )
    src = Source(SourceKey("a", "audio"), "0", 111, 48000, False, 2, ssrc=5)
    slot.assign(src, 0.0)
    for seq, level in ((1, 40), (2, None)):
        data = (
            build_header(
                marker=0,
                payload_type=111,
                sequence_number=seq,
                timestamp=960 * seq,
                ssrc=5,
                ext=one_byte_extension_block([(2, bytes((0x80 | level,)))]) if level else b"",
            )
            + b"opus"
        )
        assert feed(slot, src, data, 0.0) > 0
    with_level, without = (RtpPacket.parse(p) for p in writer.rtp)
    for p in (with_level, without):
        assert p.payload == b"opus" and p.ssrc == 77 and p.payload_type == 111
    assert with_level.sequence_number + 1 == without.sequence_number
    raw = [parse_rtp(p) for p in writer.rtp]
    assert writer.rtp[0][raw[0].ext_start : raw[0].ext_end] == bytes((0x10, 0x33, 0x20, 40))
    assert writer.rtp[1][raw[1].ext_start : raw[1].ext_end] == bytes((0x10, 0x33, 0, 0))


def test_video_packets_carry_the_time_the_sfu_sent_them(writer: CapturingWriter) -> None:
    """abs-send-time, when the subscriber negotiated it: a browser's receive-side estimate
    times each packet by it (without it, by the RTP timestamp: the publisher's capture clock,
    whose encoding jitter reads as queueing on the subscriber's link). Stamped as the packet
    goes out, also on an RTX answer; nothing else in the header moves."""
    slot = video_slot(writer, [], abs_send_time_ext_id=3)
    src = source("a")
    slot.assign(src, 0.0)
    # The capture clock says these were a second apart; the SFU sends them 0.2 s apart.
    assert feed(slot, src, packet(1, 0, 1, keyframe=True), 0.0) > 0
    time.sleep(0.2)
    assert feed(slot, src, packet(2, 90000, 2, keyframe=False), 0.0) > 0
    sent = RtpPacket.parse(writer.rtp[1]).sequence_number
    assert slot.retransmit([sent], 0.1) == 1

    def stamp(data: bytes) -> int:
        view = parse_rtp(data)
        block = data[view.ext_start : view.ext_end]
        # One-byte elements: mid "5" (id 1), then abs-send-time (id 3, three bytes).
        assert block[:2] == bytes((0x10, ord("5")))
        assert block[2] == (3 << 4) | 2
        return int.from_bytes(block[3:6], "big")

    first, second, rtx = (stamp(p) for p in writer.rtp)
    elapsed = ((second - first) & 0xFFFFFF) / (1 << 18)  # 6.18 fixed point seconds
    assert 0.19 <= elapsed < 0.6
    assert 0 <= ((rtx - second) & 0xFFFFFF) / (1 << 18) < 0.5
    assert [RtpPacket.parse(p).payload_type for p in writer.rtp] == [100, 100, 101]


def test_audio_and_slots_without_it_carry_no_send_time(writer: CapturingWriter) -> None:
    switches: list[Any] = []
    slot = video_slot(writer, switches)
    src = source("a")
    slot.assign(src, 0.0)
    assert feed(slot, src, packet(1, 0, 1, keyframe=True), 0.0) > 0
    (data,) = writer.rtp
    view = parse_rtp(data)
    assert data[view.ext_start : view.ext_end] == bytes((0x10, ord("5"), 0, 0))

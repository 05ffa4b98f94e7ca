"""The C forwarding loop (rooms/sfu/fastpath.c) against the Python reference parsers, and the
writer's ready flag that decides where it may send."""

from __future__ import annotations

import gc
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiortc.rtcdtlstransport import State
from hypothesis import given, settings
from hypothesis import strategies as st
from pylibsrtp import Policy, Session

from bench.forwarding import loopback_writer
from rooms.sfu._fastpath import ffi, lib
from rooms.sfu.rtp_header import build_header, one_byte_extension_block, parse_rtp, read_audio_level
from rooms.sfu.selection import SourceKey
from rooms.sfu.streams import OutputSlot, Source, forward
from rooms.sfu.transport import RtpWriter
from rooms.sfu.vp8 import parse_vp8


def c_parse(data: bytes, is_vp8: bool, level_id: int) -> tuple[int, Any]:
    pkt = ffi.new("fwd_pkt *")
    return lib.fwd_parse(pkt, data, len(data), is_vp8, level_id), pkt


def check_against_python(data: bytes, level_id: int) -> None:
    for is_vp8 in (False, True):
        rc, pkt = c_parse(data, is_vp8, level_id)
        try:
            view = parse_rtp(data)
        except ValueError:
            assert rc == -1
            continue
        assert (pkt.seq, pkt.ts, pkt.ssrc, pkt.marker) == (
            view.sequence_number,
            view.timestamp,
            view.ssrc,
            view.marker,
        )
        assert (pkt.payload_start, pkt.payload_end) == (view.payload_start, view.payload_end)
        level = read_audio_level(data, view, level_id) if level_id else None
        assert pkt.level == (-1 if level is None else level)
        if not is_vp8:
            assert rc == 0
            continue
        try:
            desc = parse_vp8(memoryview(data)[view.payload_start : view.payload_end])
        except ValueError:
            assert rc == -2
            continue
        assert rc == 0
        assert bool(pkt.keyframe) == desc.keyframe
        assert pkt.picture_id == (-1 if desc.picture_id is None else desc.picture_id)
        if desc.picture_id is not None:
            assert (pkt.picture_id_at, pkt.picture_id_bits) == (
                desc.picture_id_offset,
                desc.picture_id_bits,
            )
        assert pkt.tl0picidx == (-1 if desc.tl0picidx is None else desc.tl0picidx)
        if desc.tl0picidx is not None:
            assert pkt.tl0picidx_at == desc.tl0picidx_offset


@st.composite
def rtp_like(draw: st.DrawFn) -> bytes:
    """Mostly well-formed RTP with extensions and VP8 descriptors, bent now and then."""
    cc = draw(st.integers(0, 2))
    ext = b""
    if draw(st.booleans()):
        elements = draw(
            st.lists(st.tuples(st.integers(1, 14), st.binary(min_size=1, max_size=4)), max_size=3)
        )
        ext = one_byte_extension_block(elements) if elements else b""
        if ext and draw(st.integers(0, 4)) == 0:  # the two-byte profile
            ext = bytes([0x10, 0x00]) + ext[2:]
    padding = draw(st.integers(0, 3))
    b0 = 0x80 | cc | (0x10 if ext else 0) | (0x20 if padding else 0)
    head = bytes([b0, draw(st.integers(0, 255))]) + draw(st.binary(min_size=10, max_size=10))
    vp8 = b""
    if draw(st.booleans()):
        x = draw(st.sampled_from([0x80, 0xC0, 0xE0, 0x40, 0x00, 0x20]))
        vp8 = bytes([0x90 | draw(st.integers(0, 7)) & 0x17, x])
        if x & 0x80:
            vp8 += draw(st.sampled_from([bytes([0x85, 0x21]), bytes([0x05])]))
        vp8 += draw(st.binary(min_size=0, max_size=3))
    data = (
        head
        + bytes(4 * cc)
        + ext
        + vp8
        + draw(st.binary(max_size=6))
        + (bytes(padding - 1) + bytes([padding]) if padding else b"")
    )
    if draw(st.integers(0, 3)) == 0:  # bend one byte anywhere
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    return data


@settings(max_examples=1500, deadline=None)
@given(rtp_like(), st.integers(0, 15))
def test_parse_matches_the_python_parsers_on_packets_bent_every_way(
    data: bytes, level_id: int
) -> None:
    check_against_python(data, level_id)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=64), st.integers(0, 15))
def test_parse_matches_the_python_parsers_on_arbitrary_bytes(data: bytes, level_id: int) -> None:
    check_against_python(data, level_id)


def test_the_c_loop_calls_the_libsrtp_functions_with_the_signature_it_assumes() -> None:
    """fastpath.h's fwd_protect_fn is int (*)(void *, void *, int *); transport.py hands it
    pylibsrtp's srtp_protect / srtp_protect_rtcp."""
    from pylibsrtp._binding import ffi as srtp_ffi
    from pylibsrtp._binding import lib as srtp_lib

    for name in ("srtp_protect", "srtp_protect_rtcp"):
        assert srtp_ffi.getctype(srtp_ffi.typeof(getattr(srtp_lib, name))) == (
            "srtp_err_status_t(*)(struct srtp_ctx_t_ *, void *, int *)"
        )
    assert srtp_ffi.sizeof("srtp_err_status_t") == ffi.sizeof("int")


class Receiver:
    def __init__(self, key: bytes) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.rx = Session(
            Policy(
                key=key,
                ssrc_type=Policy.SSRC_ANY_INBOUND,
                srtp_profile=Policy.SRTP_PROFILE_AEAD_AES_256_GCM,
            )
        )

    def take(self) -> list[bytes]:
        lib.fwd_flush()  # what the worker's event loop does after each batch of reads
        out = []
        while True:
            try:
                data = self.sock.recv(2048)
            except BlockingIOError:
                return out
            out.append(self.rx.unprotect_rtcp(data) if 192 <= data[1] <= 208 else data)


@pytest.fixture
def pair() -> Iterator[tuple[RtpWriter, Receiver, socket.socket]]:
    key = os.urandom(44)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    receiver = Receiver(key)
    writer = loopback_writer(sender, receiver.sock.getsockname(), key)
    yield writer, receiver, sender
    writer.close()
    sender.close()
    receiver.sock.close()


def audio_packet(seq: int) -> bytes:
    header = build_header(
        marker=0, payload_type=111, sequence_number=seq, timestamp=960 * seq, ssrc=5, ext=b""
    )
    return header + b"opus"


def audio_slot(writer: Any, n: int) -> OutputSlot:
    return OutputSlot(
        subscriber_id=f"sub{n}",
        mid="1",
        kind="audio",
        ssrc=100 + n,
        rtx_ssrc=200 + n,
        payload_type=111,
        rtx_payload_type=None,
        clock_rate=48000,
        writer=writer,
        on_switch=lambda slot, src: None,
    )


def test_a_writer_sends_only_while_its_transport_is_connected(pair: Any) -> None:
    writer, receiver, _ = pair
    rr = bytes([0x80, 201, 0, 1, 0, 0, 0, 9])
    assert writer.write_rtcp(rr) > 0
    assert receiver.take() == [rr]
    writer._dtls._state = State.CLOSED
    assert writer.write_rtcp(rr) == 0 and writer.dest.ready == 0
    # The loop itself refuses too once a sync saw the transport gone.
    assert lib.fwd_send(writer.dest, rr, len(rr), 1) == 0
    writer._dtls._state = State.CONNECTED
    assert writer.write_rtcp(rr) > 0
    writer.close()
    assert writer.write_rtcp(rr) == 0 and writer.sync() is False
    assert receiver.take() == [rr]


def test_the_loop_skips_a_subscriber_not_ready_and_serves_the_others(pair: Any) -> None:
    writer, receiver, sender = pair
    gone = loopback_writer(sender, receiver.sock.getsockname())
    gone._dtls._state = State.FAILED
    gone.sync()
    src = Source(SourceKey("a", "audio"), "0", 111, 48000, False, 0, ssrc=5)
    slots = [audio_slot(gone, 0), audio_slot(writer, 1)]
    for slot in slots:
        slot.assign(src, 0.0)
    pkt = ffi.new("fwd_pkt *")
    for seq in (10, 11):
        data = audio_packet(seq)
        assert lib.fwd_parse(pkt, data, len(data), False, 0) == 0
        packets, octets = forward(src, pkt, data)
        assert packets == 1 and octets > 0
    assert len(src.live) == 2
    assert len(receiver.take()) == 2
    assert (slots[0].packets, slots[1].packets) == (0, 2)
    assert slots[1].octets == 8
    # The skipped slot's stream still moved on, as if sent: no gap when its subscriber is back.
    assert slots[0].rewriter.last_seq == (slots[0].rewriter.seq_offset + 11) & 0xFFFF
    gone.close()


def test_a_switch_relinks_the_live_lists_the_loop_walks(pair: Any) -> None:
    writer, receiver, _ = pair
    a = Source(SourceKey("a", "audio"), "0", 111, 48000, False, 0, ssrc=5)
    b = Source(SourceKey("b", "audio"), "0", 111, 48000, False, 0, ssrc=6)
    slot = audio_slot(writer, 0)
    slot.assign(a, 0.0)
    pkt = ffi.new("fwd_pkt *")

    def feed(src: Source, seq: int) -> int:
        data = audio_packet(seq)
        lib.fwd_parse(pkt, data, len(data), False, 0)
        return forward(src, pkt, data)[0]

    assert feed(a, 1) == 1 and a.live == [slot]
    slot.assign(b, 0.1)
    assert feed(a, 2) == 1  # still a's until b's first packet
    assert feed(b, 50) == 1 and a.live == [] and b.live == [slot] and a.outputs == []
    assert feed(a, 3) == 0
    slot.assign(None, 0.2)
    assert b.live == [] and feed(b, 51) == 0
    assert len(receiver.take()) == 3 and b.outputs == []


def test_a_writer_whose_ice_socket_is_gone_stays_quiet() -> None:
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.close()
    writer = loopback_writer(sender, ("127.0.0.1", 9))
    assert writer.sync() is False and writer.dest.ready == 0
    assert writer.write_rtp(audio_packet(1)) == 0


def counters() -> tuple[int, int, int]:
    calls, datagrams, dropped, same = (ffi.new("uint64_t *") for _ in range(4))
    lib.fwd_counters(calls, datagrams, dropped, same)
    return int(calls[0]), int(datagrams[0]), int(dropped[0])


def test_a_fanout_is_queued_and_each_destination_gets_one_sendmmsg(pair: Any) -> None:
    writer, receiver, sender = pair
    other = Receiver(os.urandom(44))
    second = loopback_writer(sender, other.sock.getsockname())
    src = Source(SourceKey("a", "audio"), "0", 111, 48000, False, 0, ssrc=5)
    for n, w in enumerate((writer, second)):
        audio_slot(w, n).assign(src, 0.0)
    lib.fwd_flush()
    before = counters()
    pkt = ffi.new("fwd_pkt *")
    for seq in range(10, 15):
        data = audio_packet(seq)
        lib.fwd_parse(pkt, data, len(data), False, 0)
        assert forward(src, pkt, data)[0] == 2
    # Nothing left yet: the five packets wait in each destination's queue.
    for sock in (receiver.sock, other.sock):
        with pytest.raises(BlockingIOError):
            sock.recv(2048, socket.MSG_PEEK)
    assert lib.fwd_pending() == 2
    assert lib.fwd_flush() == 10 and lib.fwd_pending() == 0
    calls, datagrams, dropped = counters()
    assert (calls - before[0], datagrams - before[1], dropped - before[2]) == (2, 10, 0)
    for r in (receiver, other):
        got = r.take()
        assert [int.from_bytes(d[2:4], "big") for d in got] == sorted(
            int.from_bytes(d[2:4], "big") for d in got
        )
        assert len(got) == 5
    second.close()
    other.sock.close()


def test_a_full_queue_goes_at_once_and_rtcp_follows_what_was_queued(pair: Any) -> None:
    writer, receiver, _ = pair
    src = Source(SourceKey("a", "audio"), "0", 111, 48000, False, 0, ssrc=5)
    slot = audio_slot(writer, 0)
    slot.assign(src, 0.0)
    pkt = ffi.new("fwd_pkt *")
    for seq in range(lib.FWD_BATCH + 2):
        data = audio_packet(seq)
        lib.fwd_parse(pkt, data, len(data), False, 0)
        forward(src, pkt, data)
    arrived = []
    while True:
        try:
            arrived.append(receiver.sock.recv(2048))
        except BlockingIOError:
            break
    assert len(arrived) == lib.FWD_BATCH  # the ninth packet needed the room
    rr = bytes([0x80, 201, 0, 1, 0, 0, 0, 9])
    assert writer.write_rtcp(rr) > 0  # sent at once, after the two still queued
    got = receiver.take()
    assert len(got) == 3 and got[2] == rr and lib.fwd_pending() == 0


def test_a_destination_closed_or_collected_with_datagrams_queued_sends_none(pair: Any) -> None:
    _, receiver, sender = pair
    src = Source(SourceKey("a", "audio"), "0", 111, 48000, False, 0, ssrc=5)
    gone = loopback_writer(sender, receiver.sock.getsockname())
    dropped_writer = loopback_writer(sender, receiver.sock.getsockname())
    slots = [audio_slot(gone, 0), audio_slot(dropped_writer, 1)]
    for slot in slots:
        slot.assign(src, 0.0)
    pkt = ffi.new("fwd_pkt *")
    data = audio_packet(1)
    lib.fwd_parse(pkt, data, len(data), False, 0)
    assert forward(src, pkt, data)[0] == 2 and lib.fwd_pending() == 2
    before = counters()
    gone.close()
    for slot in slots:
        slot.assign(None, 0.1)
    del slots, slot, dropped_writer  # its finalizer takes it off the send list
    gc.collect()
    assert lib.fwd_flush() == 0
    assert receiver.take() == []
    assert counters()[2] - before[2] == 2


@pytest.mark.parametrize("gso", [True, False])
def test_a_run_of_equal_datagrams_arrives_as_the_datagrams_it_was(pair: Any, gso: bool) -> None:
    writer, receiver, _ = pair
    src = Source(SourceKey("a", "audio"), "0", 111, 48000, False, 0, ssrc=5)
    slot = audio_slot(writer, 0)
    slot.assign(src, 0.0)
    was = lib.fwd_gso()
    lib.fwd_set_gso(1 if gso else 0)
    try:
        before = lib.fwd_gso_datagrams()
        pkt = ffi.new("fwd_pkt *")
        # Five packets of one length, then a shorter one (the end of a frame), then two more.
        sizes = [200] * 5 + [60, 200, 200]
        for seq, size in enumerate(sizes):
            data = audio_packet(seq)[:12] + bytes([seq]) * size
            lib.fwd_parse(pkt, data, len(data), False, 0)
            forward(src, pkt, data)
        got = receiver.take()
        assert [len(d) for d in got] == [len(got[0])] * 5 + [len(got[0]) - 140] + [len(got[0])] * 2
        plain = [receiver.rx.unprotect(d) for d in got]
        assert [p[-1] for p in plain] == list(range(8))
        merged = lib.fwd_gso_datagrams() - before
        # The first run (five and the short one) and the last (two) went as GSO messages.
        assert merged == (8 if gso and lib.fwd_gso() else 0)
    finally:
        lib.fwd_set_gso(was)

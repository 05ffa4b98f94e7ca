"""Transport-cc feedback toward a publisher (rooms.sfu.twcc): every numbered packet that
arrived is reported with its arrival time (to the 250 µs the format carries), those that did
not as not received, across sequence number wrap, in packets a browser's parser takes.

The decoder below is written from the draft (draft-holmer-rmcat-transport-wide-cc-extensions-
01, section 3.1), independently of the encoder: it reads the chunks and deltas the way a
sender does."""

from __future__ import annotations

import random
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from rooms.sfu._fastpath import lib
from rooms.sfu.rtp_header import build_header, find_extension, one_byte_extension_block, parse_rtp
from rooms.sfu.twcc import MAX_PACKETS_PER_BUILD, MAX_STATUSES, TransportFeedback


def decode(packet: bytes) -> tuple[dict[int, int], list[int], int]:
    """(arrival µs by 16-bit sequence number, the statuses in order, the fb packet count)."""
    first, packet_type, length = packet[0], packet[1], struct.unpack_from("!H", packet, 2)[0]
    assert first >> 6 == 2 and first & 0x1F == 15 and packet_type == 205
    assert (length + 1) * 4 == len(packet)
    end = len(packet) - (packet[-1] if first & 0x20 else 0)
    base, count = struct.unpack_from("!HH", packet, 12)
    word = struct.unpack_from("!I", packet, 16)[0]
    reference = word >> 8
    statuses: list[int] = []
    pos = 20
    while len(statuses) < count:
        chunk = struct.unpack_from("!H", packet, pos)[0]
        pos += 2
        left = count - len(statuses)
        if not chunk & 0x8000:  # run length: symbol, 13-bit run
            run = chunk & 0x1FFF
            assert 0 < run <= left
            statuses += [(chunk >> 13) & 3] * run
        elif not chunk & 0x4000:  # fourteen one-bit symbols
            statuses += [(chunk >> (13 - j)) & 1 for j in range(14)][:left]
        else:  # seven two-bit symbols
            statuses += [(chunk >> (12 - 2 * j)) & 3 for j in range(7)][:left]
    assert 3 not in statuses
    time = reference * 64_000
    arrivals: dict[int, int] = {}
    for index, status in enumerate(statuses):
        if status == 1:
            time += packet[pos] * 250
            pos += 1
        elif status == 2:
            time += struct.unpack_from("!h", packet, pos)[0] * 250
            pos += 2
        else:
            continue
        arrivals[(base + index) & 0xFFFF] = time
    assert pos <= end
    return arrivals, statuses, word & 0xFF


def report(feedback: TransportFeedback) -> tuple[dict[int, int], list[int]]:
    arrivals: dict[int, int] = {}
    lost: list[int] = []
    for packet in feedback.build(0x11111111, 0x22222222):
        assert struct.unpack_from("!II", packet, 4) == (0x11111111, 0x22222222)
        got, statuses, _ = decode(packet)
        base = struct.unpack_from("!H", packet, 12)[0]
        lost += [(base + i) & 0xFFFF for i, s in enumerate(statuses) if s == 0]
        assert not arrivals.keys() & got.keys()
        arrivals.update(got)
    return arrivals, lost


def close(reported: dict[int, int], sent: dict[int, int]) -> bool:
    # Deltas are 250 µs ticks of the arrival clock: each time is reported to within a tick.
    return reported.keys() == sent.keys() and all(abs(reported[s] - sent[s]) < 250 for s in sent)


def test_every_arrival_is_reported_once_with_its_time_and_gaps_as_not_received() -> None:
    feedback = TransportFeedback()
    arrived = {65533: 5_000_000, 65534: 5_000_900, 0: 5_021_000, 1: 5_020_000, 3: 5_120_000}
    for seq, at in arrived.items():
        feedback.add(seq, at)
    reported, lost = report(feedback)
    # A reordered packet (1 before 0) has a negative delta; 65535 and 2 never came.
    assert close(reported, arrived)
    assert lost == [65535, 2]
    assert report(feedback) == ({}, [])  # reported once


def test_packets_missing_at_the_end_wait_for_one_after_them() -> None:
    feedback = TransportFeedback()
    feedback.add(10, 1_000_000)
    feedback.add(11, 1_001_000)
    assert report(feedback)[0].keys() == {10, 11}
    # 12 and 13 are still on their way when 14 arrives, then 12 comes late.
    feedback.add(14, 1_100_000)
    reported, lost = report(feedback)
    assert (reported.keys(), lost) == ({14}, [12, 13])
    feedback.add(12, 1_101_000)  # already reported as lost: not reported again
    feedback.add(14, 1_102_000)  # a duplicate
    assert report(feedback) == ({}, [])


def test_an_arrival_too_far_for_a_delta_starts_another_packet() -> None:
    feedback = TransportFeedback()
    arrived = {0: 1_000_000, 1: 1_000_250, 2: 12_000_000, 3: 12_000_500}  # 11 s apart
    for seq, at in arrived.items():
        feedback.add(seq, at)
    packets = feedback.build(1, 2)
    assert len(packets) == 2
    counts = [decode(p)[2] for p in packets]
    assert counts == [0, 1]  # the feedback packet count goes on
    assert close({s: t for p in packets for s, t in decode(p)[0].items()}, arrived)


def test_a_jump_in_numbering_is_reported_within_bounds() -> None:
    feedback = TransportFeedback()
    feedback.add(0, 1_000_000)
    feedback.add(30_000, 1_001_000)
    packets = feedback.build(1, 2)
    assert len(packets) <= MAX_PACKETS_PER_BUILD
    reported = {s: t for p in packets for s, t in decode(p)[0].items()}
    assert reported == {30_000: 1_001_000}
    assert all(len(p) <= 20 + 2 * MAX_STATUSES // 7 + 2 * MAX_STATUSES for p in packets)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.floats(0, 1), st.integers(0, 70_000)),
        min_size=1,
        max_size=300,
    ),
    st.integers(0, 0xFFFF),
)
def test_random_arrivals_survive_encoding(steps: list[tuple[int, float, int]], first: int) -> None:
    """Loss, reordering (an earlier arrival time for a later number), gaps of up to 70 ms,
    builds at random moments: what a sender decodes is what arrived."""
    feedback = TransportFeedback()
    rng = random.Random(first)
    seq, now = first, 10_000_000
    sent: dict[int, int] = {}
    reported: dict[int, int] = {}
    for skip, chance, gap in steps:
        seq = (seq + 1 + (skip if chance < 0.1 else 0)) & 0xFFFF
        now += gap
        at = now - (rng.randint(0, 2_000) if chance > 0.9 else 0)
        feedback.add(seq, at)
        sent.setdefault(seq, at)
        if chance < 0.2:
            got, _ = report(feedback)
            reported.update(got)
    got, _ = report(feedback)
    reported.update(got)
    # Numbers only grow here (arrival times may not): everything is reported, once.
    assert close(reported, sent)


def rtp_with(elements: list[tuple[int, bytes]], payload: bytes = b"\x90\x00") -> bytes:
    ext = one_byte_extension_block(elements)
    header = build_header(
        marker=0, payload_type=96, sequence_number=7, timestamp=1, ssrc=5, ext=ext
    )
    return header + payload


def test_the_receive_path_reads_the_sequence_number_where_the_sfu_parser_does() -> None:
    data = rtp_with([(1, b"0"), (3, b"\x12\x34"), (4, b"l")])
    assert lib.fwd_ext16(data, len(data), 3) == 0x1234
    assert find_extension(data, parse_rtp(data), 3) == b"\x12\x34"
    assert lib.fwd_ext16(data, len(data), 2) == -1  # absent
    assert lib.fwd_ext16(data, len(data), 1) == -1  # one byte only: not a sequence number
    plain = (
        build_header(marker=0, payload_type=96, sequence_number=7, timestamp=1, ssrc=5, ext=b"")
        + b"\x90\x00"
    )
    assert lib.fwd_ext16(plain, len(plain), 3) == -1
    # Cut short, or lying about the block's length: absent, never a read past the end.
    for size in range(len(data)):
        assert lib.fwd_ext16(data[:size], size, 3) in (-1, 0x1234)
    assert lib.fwd_ext16(data[:14], 14, 3) == -1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.integers(0, 2**40)), max_size=200))
def test_any_numbers_and_times_give_bounded_well_formed_feedback(
    arrivals: list[tuple[int, int]],
) -> None:
    """Whatever a sender puts in the extension (it is the client's to choose), and whatever
    the clock says: a few well-formed packets, never an exception."""
    feedback = TransportFeedback()
    for at, (seq, when) in enumerate(arrivals):
        feedback.add(seq, when)
        if at % 50 == 49:
            packets = feedback.build(1, 2)
            assert len(packets) <= MAX_PACKETS_PER_BUILD
            for packet in packets:
                decode(packet)
                assert len(packet) <= 1200

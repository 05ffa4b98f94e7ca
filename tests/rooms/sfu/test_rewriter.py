from rooms.sfu.rewriter import StreamRewriter


def test_sequence_timestamp_and_picture_id_continue_across_a_switch() -> None:
    r = StreamRewriter(clock_rate=90000, last_seq=100, last_timestamp=1000, last_picture_id=50)
    r.switch("a", sequence_number=5000, timestamp=77, picture_id=9, tl0picidx=None, now=0.0)
    first = r.map(5000, 77, 0.0)
    assert first is not None and first.sequence_number == 101 and first.timestamp == 1000
    assert r.map_picture_id(9) == 51
    second = r.map(5001, 3077, 0.1)
    assert second is not None and second.sequence_number == 102 and second.timestamp == 4000
    assert r.map_picture_id(10) == 52

    # Source b numbers everything differently; 0.5 s later the output simply continues.
    r.switch(
        "b",
        sequence_number=65535,
        timestamp=4_000_000_000,
        picture_id=32767,
        tl0picidx=None,
        now=0.6,
    )
    third = r.map(65535, 4_000_000_000, 0.6)
    assert third is not None and third.sequence_number == 103
    assert third.timestamp == 4000 + 45000  # 0.5 s of 90 kHz
    assert r.map_picture_id(32767) == 53
    fourth = r.map(0, 4_000_003_000, 0.7)  # source wraps
    assert fourth is not None and fourth.sequence_number == 104
    assert r.map_picture_id(0) == 54


def test_packets_older_than_the_switch_are_dropped() -> None:
    r = StreamRewriter(clock_rate=48000)
    r.switch("a", sequence_number=10, timestamp=0, picture_id=None, tl0picidx=None, now=0.0)
    assert r.map(9, 0, 0.0) is None
    assert r.map(10, 0, 0.0) is not None


def test_reordered_packets_keep_their_relative_numbers() -> None:
    r = StreamRewriter(clock_rate=48000, last_seq=0)
    r.switch("a", sequence_number=10, timestamp=0, picture_id=None, tl0picidx=None, now=0.0)
    a = r.map(12, 1920, 0.0)
    b = r.map(11, 960, 0.0)
    assert a is not None and b is not None
    assert (a.sequence_number, b.sequence_number) == (3, 2)
    assert r.last_seq == 3


def test_tl0picidx_continues() -> None:
    r = StreamRewriter(clock_rate=90000, last_tl0picidx=255)
    r.switch("a", sequence_number=1, timestamp=0, picture_id=1, tl0picidx=40, now=0.0)
    assert r.map_tl0picidx(40) == 0
    assert r.map_tl0picidx(41) == 1


def test_sender_report_timestamps_are_translated() -> None:
    r = StreamRewriter(clock_rate=90000, last_timestamp=5000)
    r.switch("a", sequence_number=1, timestamp=100, picture_id=None, tl0picidx=None, now=0.0)
    assert r.map_source_timestamp(100) == 5000
    assert r.map_source_timestamp(1100) == 6000

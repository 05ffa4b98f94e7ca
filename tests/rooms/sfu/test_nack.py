import gc

import pytest

from rooms.sfu.nack import MissingPackets, PacketHistory


def packet(seq: int) -> bytes:
    return bytes(12) + bytes([seq & 0xFF])


def test_it_returns_recent_packets_by_sequence_number() -> None:
    history = PacketHistory(size=8)
    for seq in range(65530, 65536):
        history.store(seq, packet(seq), 0.0)
    history.store(0, packet(0), 0.0)
    assert history.get(65535, 0.1) == packet(65535)
    assert history.get(0, 0.1) == packet(0)
    assert history.get(1, 0.1) is None


def test_overwritten_and_old_entries_are_not_resent() -> None:
    history = PacketHistory(size=8, max_age=1.0)
    history.store(1, packet(1), 0.0)
    history.store(9, packet(9), 0.0)  # same ring index
    assert history.get(1, 0.0) is None
    assert history.get(9, 0.5) is not None
    assert history.get(9, 1.5) is None


def test_size_must_be_a_power_of_two() -> None:
    with pytest.raises(ValueError):
        PacketHistory(size=100)


def test_entries_are_left_alone_by_the_garbage_collector() -> None:
    # Atomic contents in a plain tuple: untracked after the first collection, so a full
    # collection never walks them.
    history = PacketHistory(size=8)
    history.store(1, packet(1), 0.0)
    gc.collect()
    assert not any(entry is not None and gc.is_tracked(entry) for entry in history._ring)


def test_a_gap_is_asked_for_at_once_and_a_late_packet_fills_it() -> None:
    missing = MissingPackets()
    assert missing.add(65533, 0.0) == []
    assert missing.add(65534, 0.01) == []
    assert missing.add(1, 0.02) == [65535, 0]  # across the wrap
    assert missing.missing == 2
    assert missing.add(0, 0.03) == []  # the retransmission
    assert (missing.missing, missing.recovered) == (1, 1)
    assert missing.add(0, 0.04) == []  # a duplicate is not a second recovery
    assert missing.recovered == 1


def test_a_missing_packet_is_asked_again_a_few_times_then_given_up() -> None:
    missing = MissingPackets(retry_after=0.1, max_tries=3, max_age=1.0)
    missing.add(10, 0.0)
    assert missing.add(12, 0.0) == [11]
    asked = [missing.add(13 + i, 0.05 * (i + 1)) for i in range(10)]
    # Asked again at 0.1 and 0.2 (three times in all), then dropped at 0.3.
    assert [i for i, a in enumerate(asked) if a == [11]] == [1, 3]
    assert missing.missing == 0 and missing.given_up == 1
    assert missing.requested == 3


def test_a_jump_is_not_asked_for_and_the_tracked_set_stays_bounded() -> None:
    missing = MissingPackets(max_gap=128, max_missing=100)
    missing.add(0, 0.0)
    assert missing.add(1000, 0.0) == []  # a restarted stream, not 999 lost packets
    assert len(missing.add(1101, 0.0)) == 100 and missing.missing == 100
    assert len(missing.add(1200, 0.0)) == 98 and missing.missing == 100
    assert missing.given_up == 98


def test_old_missing_packets_are_forgotten() -> None:
    missing = MissingPackets(retry_after=0.1, max_tries=100, max_age=0.5)
    missing.add(1, 0.0)
    missing.add(3, 0.0)
    assert missing.add(4, 0.3) == [2]
    assert missing.add(5, 0.6) == [] and missing.missing == 0

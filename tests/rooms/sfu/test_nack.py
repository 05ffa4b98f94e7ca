import gc

import pytest

from rooms.sfu.nack import PacketHistory


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

import pytest

from rooms.sfu.nack import CachedPacket, RetransmissionCache


def entry(seq: int, at: float = 0.0) -> CachedPacket:
    return CachedPacket(seq, 0, 0, 12, bytes(12) + bytes([seq & 0xFF]), at)


def test_it_returns_recent_packets_by_sequence_number() -> None:
    cache = RetransmissionCache(size=8)
    for seq in range(65530, 65536):
        cache.store(entry(seq))
    cache.store(entry(0))
    assert cache.get(65535, 0.1) == entry(65535)
    assert cache.get(0, 0.1) == entry(0)
    assert cache.get(1, 0.1) is None


def test_overwritten_and_old_entries_are_not_resent() -> None:
    cache = RetransmissionCache(size=8, max_age=1.0)
    cache.store(entry(1))
    cache.store(entry(9))  # same ring index
    assert cache.get(1, 0.0) is None
    assert cache.get(9, 0.5) is not None
    assert cache.get(9, 1.5) is None


def test_size_must_be_a_power_of_two() -> None:
    with pytest.raises(ValueError):
        RetransmissionCache(size=100)

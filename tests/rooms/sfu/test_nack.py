import pytest

from rooms.sfu.nack import PacketHistory, ReceivedPacket
from rooms.sfu.rtp_header import build_header, parse_rtp


def entry(seq: int, at: float = 0.0) -> ReceivedPacket:
    data = build_header(
        marker=0, payload_type=96, sequence_number=seq, timestamp=0, ssrc=1, ext=b""
    ) + bytes([seq & 0xFF])
    return ReceivedPacket(data, parse_rtp(data), None, at)


def test_it_returns_recent_packets_by_sequence_number() -> None:
    history = PacketHistory(size=8)
    for seq in range(65530, 65536):
        history.store(entry(seq))
    history.store(entry(0))
    assert history.get(65535, 0.1) == entry(65535)
    assert history.get(0, 0.1) == entry(0)
    assert history.get(1, 0.1) is None


def test_overwritten_and_old_entries_are_not_resent() -> None:
    history = PacketHistory(size=8, max_age=1.0)
    history.store(entry(1))
    history.store(entry(9))  # same ring index
    assert history.get(1, 0.0) is None
    assert history.get(9, 0.5) is not None
    assert history.get(9, 1.5) is None


def test_size_must_be_a_power_of_two() -> None:
    with pytest.raises(ValueError):
        PacketHistory(size=100)

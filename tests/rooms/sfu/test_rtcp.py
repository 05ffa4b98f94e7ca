from aiortc.rtp import (
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    unpack_remb_fci,
)

from rooms.sfu import rtcp


def test_receive_stats_count_loss_across_a_wrap() -> None:
    stats = rtcp.ReceiveStats(clock_rate=90000)
    for seq in [65533, 65534, 0, 1, 3]:
        stats.add(seq, 100)
    assert stats.expected == 7
    assert stats.lost == 2
    report = stats.report(ssrc=5, now=1.0)
    assert report.packets_lost == 2
    assert report.highest_sequence == (1 << 16) | 3
    assert report.fraction_lost == (2 << 8) // 7


def test_built_packets_parse_back() -> None:
    (pli,) = RtcpPacket.parse(rtcp.pli(1, 2))
    assert isinstance(pli, RtcpPsfbPacket) and (pli.fmt, pli.media_ssrc) == (1, 2)
    (remb,) = RtcpPacket.parse(rtcp.remb(1, 500_000, [7, 8]))
    assert isinstance(remb, RtcpPsfbPacket)
    bitrate, ssrcs = unpack_remb_fci(remb.fci)
    assert abs(bitrate - 500_000) < 500_000 * 0.01 and ssrcs == [7, 8]
    (sr,) = RtcpPacket.parse(
        rtcp.sender_report(ssrc=3, ntp_timestamp=1 << 40, rtp_timestamp=99, packets=5, octets=6)
    )
    assert isinstance(sr, RtcpSrPacket) and sr.sender_info.rtp_timestamp == 99
    stats = rtcp.ReceiveStats(clock_rate=48000)
    stats.add(1, 10)
    (rr,) = RtcpPacket.parse(rtcp.receiver_report(4, [stats.report(9, 0.0)]))
    assert isinstance(rr, RtcpRrPacket) and rr.reports[0].ssrc == 9


def test_a_nack_packs_sixteen_numbers_per_entry_across_the_wrap() -> None:
    data = rtcp.nack(1, 2, [65534, 65535, 0, 16, 17, 40, 40])
    (packet,) = RtcpPacket.parse(data)
    assert isinstance(packet, RtcpRtpfbPacket)
    assert (packet.ssrc, packet.media_ssrc, packet.fmt) == (1, 2, 1)
    # 65534 carries 65535 and 0 in its bitmask; 16 (18 after it) starts a second entry that
    # carries 17, and 40 a third (aiortc does not wrap the numbers it unpacks).
    assert [n & 0xFFFF for n in packet.lost] == [65534, 65535, 0, 16, 17, 40]
    assert len(data) == 12 + 3 * 4

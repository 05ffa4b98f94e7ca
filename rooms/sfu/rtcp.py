"""RTCP the SFU emits and the receive statistics it keeps (pure).

RTCP is terminated hop by hop: the SFU is the receiver toward each publisher (receiver reports,
REMB, PLI) and the sender toward each subscriber (sender reports with the output stream's SSRC
and timestamps, retransmissions). Packets are built with aiortc's public RTCP classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from struct import Struct

from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpSenderInfo,
    RtcpSrPacket,
    pack_remb_fci,
)

from .rtp_header import seq_delta

_RTCP_FB = Struct("!BBHII")
_NACK_ITEM = Struct("!HH")


def pli(sender_ssrc: int, media_ssrc: int) -> bytes:
    return bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=sender_ssrc, media_ssrc=media_ssrc))


def nack(sender_ssrc: int, media_ssrc: int, lost: list[int]) -> bytes:
    """A generic NACK (RFC 4585 6.2.1) for these sequence numbers, in the order given (each
    entry takes the 16 numbers after its own; the numbers may wrap around 65535)."""
    fci = bytearray()
    pid: int | None = None
    blp = 0
    for seq in lost:
        seq &= 0xFFFF
        ahead = (seq - pid) & 0xFFFF if pid is not None else 0
        if pid is not None and 0 < ahead <= 16:
            blp |= 1 << (ahead - 1)
            continue
        if pid is not None and ahead == 0:
            continue
        if pid is not None:
            fci += _NACK_ITEM.pack(pid, blp)
        pid, blp = seq, 0
    if pid is not None:
        fci += _NACK_ITEM.pack(pid, blp)
    header = _RTCP_FB.pack(0x80 | RTCP_RTPFB_NACK, 205, 2 + len(fci) // 4, sender_ssrc, media_ssrc)
    return header + bytes(fci)


def remb(sender_ssrc: int, bitrate: int, ssrcs: list[int]) -> bytes:
    fci = pack_remb_fci(bitrate, ssrcs)
    return bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=sender_ssrc, media_ssrc=0, fci=fci))


def sender_report(
    *, ssrc: int, ntp_timestamp: int, rtp_timestamp: int, packets: int, octets: int
) -> bytes:
    info = RtcpSenderInfo(
        ntp_timestamp=ntp_timestamp,
        rtp_timestamp=rtp_timestamp,
        packet_count=packets & 0xFFFFFFFF,
        octet_count=octets & 0xFFFFFFFF,
    )
    return bytes(RtcpSrPacket(ssrc=ssrc, sender_info=info))


def receiver_report(sender_ssrc: int, reports: list[RtcpReceiverInfo]) -> bytes:
    return bytes(RtcpRrPacket(ssrc=sender_ssrc, reports=reports[:31]))


@dataclass(slots=True)
class ReceiveStats:
    """RFC 3550 appendix A.3 loss accounting for one incoming stream."""

    clock_rate: int
    packets: int = 0
    octets: int = 0
    base_seq: int | None = None
    max_seq: int = 0
    cycles: int = 0
    expected_prior: int = 0
    received_prior: int = 0
    last_sr: int = 0
    last_sr_time: float | None = None
    # What the receiver reports said, added up (a late packet does not make these fall).
    expected_total: int = 0
    lost_total: int = 0

    def add(self, sequence_number: int, size: int) -> None:
        self.packets += 1
        self.octets += size
        if self.base_seq is None:
            self.base_seq = self.max_seq = sequence_number
            return
        delta = seq_delta(sequence_number, self.max_seq)
        if delta > 0:
            if sequence_number < self.max_seq:
                self.cycles += 1 << 16
            self.max_seq = sequence_number

    @property
    def extended_highest(self) -> int:
        return self.cycles | self.max_seq

    @property
    def expected(self) -> int:
        if self.base_seq is None:
            return 0
        return self.extended_highest - self.base_seq + 1

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.packets)

    def record_sr(self, ntp_timestamp: int, now: float) -> None:
        self.last_sr = (ntp_timestamp >> 16) & 0xFFFFFFFF
        self.last_sr_time = now

    def report(self, ssrc: int, now: float) -> RtcpReceiverInfo:
        expected = self.expected
        expected_interval = expected - self.expected_prior
        received_interval = self.packets - self.received_prior
        self.expected_prior = expected
        self.received_prior = self.packets
        lost_interval = expected_interval - received_interval
        self.expected_total += max(0, expected_interval)
        self.lost_total += max(0, lost_interval)
        fraction = 0
        if expected_interval > 0 and lost_interval > 0:
            fraction = min(255, (lost_interval << 8) // expected_interval)
        dlsr = 0
        if self.last_sr_time is not None:
            dlsr = int((now - self.last_sr_time) * 65536) & 0xFFFFFFFF
        return RtcpReceiverInfo(
            ssrc=ssrc,
            fraction_lost=fraction,
            packets_lost=min(self.lost, (1 << 23) - 1),
            highest_sequence=self.extended_highest & 0xFFFFFFFF,
            jitter=0,
            lsr=self.last_sr,
            dlsr=dlsr,
        )

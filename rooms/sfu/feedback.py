"""RTCP feedback, hop by hop: what a peer's RTCP tells the SFU, and what the SFU tells a peer.

From a peer (``handle``): sender reports about a stream it publishes, translated for every
output slot carrying that stream; about the slots it receives, receiver reports (each slot's
loss, the worst of them for its downlink estimate), REMB (a browser's estimate for everything
it receives), PLI and FIR (a keyframe asked of whoever the slot carries) and NACK (answered
from the slot's history).

Toward a peer: a NACK as soon as a packet's arrival shows others of its stream missing
(``nack_missing``), a PLI when the room wants a keyframe (``send_pli``), transport-cc feedback
every room tick when it publishes with transport-cc (``send_transport_feedback``), and every
``FEEDBACK_INTERVAL`` receiver reports and a REMB for what it publishes (``send_upstream``),
after each subscriber's downlink estimate has taken what went out to it (``measure``).

No sockets and no peers here: the peer and the room hand in their maps, their writer and their
estimator.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    unpack_remb_fci,
)

from . import rtcp
from .allocation import DownlinkEstimator, layer_of, upstream_bitrate
from .config import SfuConfig
from .selection import SourceKey
from .streams import OutputSlot, PacketWriter, Source
from .twcc import TransportFeedback

FEEDBACK_INTERVAL = 1.0
# Sender reports remembered per output slot for the round trip (a browser reports about once a
# second on each stream it receives, on the newest report it got).
REPORTS_KEPT = 8
# A round trip longer than this is no measure (a clock gone wrong, a report answered late).
MAX_RTT = 10.0


def handle(
    packets: Iterable[object],
    *,
    sources: Mapping[int, Source],
    slots: Mapping[int, OutputSlot],
    downlink: DownlinkEstimator,
    request_keyframe: Callable[[Source], None],
    clock: Callable[[], float],
) -> int:
    """Act on the RTCP packets of one compound packet from a peer (``sources``: the streams it
    publishes, ``slots``: those it receives, both by SSRC). Returns how many packets were
    resent for its NACKs."""
    resent = 0
    for packet in packets:
        if isinstance(packet, RtcpSrPacket):
            source = sources.get(packet.ssrc)
            if source is not None:
                sender_report(source, packet, clock())
            _receiver_reports(packet.reports, slots, downlink, clock())
        elif isinstance(packet, RtcpRrPacket):
            _receiver_reports(packet.reports, slots, downlink, clock())
        elif isinstance(packet, RtcpPsfbPacket):
            _psfb(packet, slots, downlink, request_keyframe)
        elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            slot = slots.get(packet.media_ssrc)
            if slot is not None:
                resent += slot.retransmit(packet.lost, clock())
    return resent


def sender_report(source: Source, packet: RtcpSrPacket, now: float) -> None:
    """Translate a publisher's SR for each output currently carrying that source."""
    source.stats.record_sr(packet.sender_info.ntp_timestamp, now)
    for slot in source.outputs:
        if slot.current is not source or slot.rewriter.source is not source:
            continue
        report = rtcp.sender_report(
            ssrc=slot.ssrc,
            ntp_timestamp=packet.sender_info.ntp_timestamp,
            rtp_timestamp=slot.rewriter.map_source_timestamp(packet.sender_info.rtp_timestamp),
            packets=slot.packets,
            octets=slot.octets,
        )
        slot.writer.write_rtcp(report)
        sent = slot.reports_sent
        sent[(packet.sender_info.ntp_timestamp >> 16) & 0xFFFFFFFF] = now
        if len(sent) > REPORTS_KEPT:
            del sent[next(iter(sent))]


def _psfb(
    packet: RtcpPsfbPacket,
    slots: Mapping[int, OutputSlot],
    downlink: DownlinkEstimator,
    request_keyframe: Callable[[Source], None],
) -> None:
    if packet.fmt == RTCP_PSFB_PLI:
        slot = slots.get(packet.media_ssrc)
        if slot is not None and slot.target is not None:
            request_keyframe(slot.target)
    elif packet.fmt == RTCP_PSFB_FIR:
        # FCI entries: SSRC (4 bytes), sequence number, reserved.
        for i in range(0, len(packet.fci) - 7, 8):
            slot = slots.get(int.from_bytes(packet.fci[i : i + 4], "big"))
            if slot is not None and slot.target is not None:
                request_keyframe(slot.target)
    elif packet.fmt == RTCP_PSFB_APP:
        try:
            bitrate, ssrcs = unpack_remb_fci(packet.fci)
        except (ValueError, struct.error):  # not a REMB, or fewer SSRCs than it says
            return
        matched = False
        for ssrc in ssrcs:
            slot = slots.get(ssrc)
            if slot is not None:
                slot.remb = bitrate
                matched = True
        if matched:
            # A browser's REMB is its estimate for everything it receives.
            downlink.on_remb(bitrate)


def _receiver_reports(
    reports: Sequence[RtcpReceiverInfo],
    slots: Mapping[int, OutputSlot],
    downlink: DownlinkEstimator,
    now: float,
) -> None:
    """A subscriber's reports on the streams it receives: the worst loss, and the round trip
    of the sender reports they answer (RFC 3550 6.4.1: now less when it went out less the
    delay the subscriber held it, DLSR in 1/65536 s)."""
    worst = -1
    for report in reports:
        slot = slots.get(report.ssrc)
        if slot is not None:
            slot.fraction_lost = report.fraction_lost
            worst = max(worst, report.fraction_lost)
            # Each report's answer counts once: a receiver that got no newer one (a slot whose
            # video paused sends none) repeats the same LSR with a growing DLSR, the same old
            # round trip, which would look fresh (seen in `bench.impaired --scenario drop`: a
            # drained queue's 1.5 s round trip, repeated for 6 s, cut the estimate again).
            sent = slot.reports_sent.pop(report.lsr, None) if report.lsr else None
            if sent is not None:
                rtt = now - sent - report.dlsr / 65536
                if 0 <= rtt < MAX_RTT:
                    downlink.on_rtt(rtt, now, sent_at=sent)
    if worst >= 0:
        downlink.on_loss(worst)


def nack_missing(
    source: Source, seq: int, now: float, writer: PacketWriter | None, rtcp_ssrc: int
) -> None:
    """Note that packet ``seq`` of ``source`` (its number as the publisher sent it) arrived,
    and NACK to the publisher what its arrival shows missing."""
    missing = source.missing
    if missing is None:
        return
    lost = missing.add(seq, now)
    if lost and writer is not None and source.ssrc is not None:
        writer.write_rtcp(rtcp.nack(rtcp_ssrc, source.ssrc, lost))


def send_pli(writer: PacketWriter | None, rtcp_ssrc: int, source: Source) -> None:
    """Ask the publisher of ``source`` for a keyframe."""
    if writer is None or source.ssrc is None:
        return
    writer.write_rtcp(rtcp.pli(rtcp_ssrc, source.ssrc))


def measure(
    sources: Iterable[Source],
    slots: Collection[OutputSlot],
    downlink: DownlinkEstimator,
    sent_before: int,
    interval: float,
    now: float,
) -> int:
    """Close a feedback interval for one peer: each stream it publishes measures its bitrate,
    and its downlink estimate takes the rate that went out to it. Returns the octets sent to
    it so far (``sent_before`` of the next interval)."""
    for source in sources:
        source.sample(interval)
    sent = sum(s.octets for s in slots)
    if interval > 0:
        rate = int((sent - sent_before) * 8 / interval)
        downlink.update(rate, now)
    return sent


def send_transport_feedback(
    writer: PacketWriter, rtcp_ssrc: int, arrivals: TransportFeedback, media_ssrc: int
) -> None:
    """Transport-cc feedback toward a publisher for what arrived since the last (each room
    tick; rooms.sfu.twcc)."""
    for packet in arrivals.build(rtcp_ssrc, media_ssrc):
        writer.write_rtcp(packet)


def send_upstream(
    writer: PacketWriter,
    rtcp_ssrc: int,
    streams: Collection[Source],
    watched: Mapping[SourceKey, int],
    config: SfuConfig,
    now: float,
) -> None:
    """Receiver reports and a REMB toward a publisher (``streams``: what it publishes, one
    ``Source`` per stream, whose ``layers`` are its simulcast layers; ``watched``: the highest
    layer of each stream that any subscriber is allocated).

    The REMB grants what its subscribers take: for a simulcast stream, every layer up to the
    highest one any subscriber is allocated (the browser pauses layers above what it is
    granted), and for a screen share's watched top layer at least what a single-layer stream
    gets; for a single-layer stream, the full rate when anyone watches it; the floor for a
    stream nobody watches."""
    reports = [
        layer.stats.report(layer.ssrc, now)
        for s in streams
        for layer in s.layers
        if layer.ssrc is not None and layer.stats.packets
    ]
    if reports:
        writer.write_rtcp(rtcp.receiver_report(rtcp_ssrc, reports))
    video = [s for s in streams if s.is_vp8]
    ssrcs = [layer.ssrc for s in video for layer in s.layers if layer.ssrc is not None]
    if ssrcs:
        bitrate = 0
        for s in video:
            highest = watched.get(s.key)
            if len(s.layers) == 1:
                bitrate += config.remb_bitrate if highest is not None else 0
                continue
            layers = [layer_of(layer, need=True) for layer in s.layers]
            granted = upstream_bitrate(layers, highest, floor=config.remb_min_bitrate)
            if s.key.kind == "screen" and highest == len(s.layers) - 1:
                # A browser starts a full-resolution screen layer only on a large share of
                # the grant (libwebrtc: 600 kbit/s at 1280x720, more to resume one): at least
                # what a single-stream share is granted.
                granted = max(granted, config.remb_bitrate)
            bitrate += min(config.simulcast_max_bitrate, granted)
        bitrate = max(config.remb_min_bitrate, bitrate)
        writer.write_rtcp(rtcp.remb(rtcp_ssrc, bitrate, ssrcs))

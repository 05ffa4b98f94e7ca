"""Transport-wide congestion control feedback toward a publisher (draft-holmer-rmcat-transport-
wide-cc-extensions-01, what browsers call transport-cc).

A browser that negotiated the transport-wide sequence number header extension with the SFU
numbers every RTP packet it sends on the connection (media, padding and probes alike) and
estimates its own uplink from the feedback: which of those packets arrived, and when. Without
that feedback its send-side estimate only follows the SFU's REMB and its loss reports, and
grows so slowly that a browser was seen never to start its top simulcast layer in a two-person
call, 40 s after the SFU had granted it twice what the layer needs (docs/simulcast.md).

``TransportFeedback`` keeps the arrival time of each numbered packet (``add``, per packet, from
the receive path) and, every room tick, turns what arrived since the last feedback into RTCP
transport feedback packets (``build``): a base sequence number, a status for each packet
(not received, received with a small delta, received with a large or negative delta) in
run-length and status-vector chunks, and the arrival deltas in 250 µs ticks from a reference
time in 64 ms units.
"""

from __future__ import annotations

import struct
import time

TWCC_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

# Packet statuses (two bits each in a status vector).
NOT_RECEIVED = 0
SMALL_DELTA = 1
LARGE_DELTA = 2

TICK_US = 250  # a receive delta's unit
REFERENCE_US = 64_000  # the reference time's unit (256 ticks)
MAX_RUN = 0x1FFF  # a run-length chunk's 13-bit length
# Packets one feedback packet reports from its first arrival on, at most: with one- or
# two-byte deltas it stays well inside an MTU (libwebrtc's own receiver reports a few dozen
# every 50-100 ms).
MAX_STATUSES = 400
# Feedback packets one ``build`` returns, at most; what lies further behind the newest packet
# than these can report, or does not fit in them, is given up (never reported, not lost).
MAX_PACKETS_PER_BUILD = 4
# The RTCP transport-layer feedback type and its format number for transport-cc.
RTPFB = 205
FMT_TRANSPORT_CC = 15

_HEADER = struct.Struct("!BBHIIHHI")
_EPOCH = time.monotonic_ns()


def now_us() -> int:
    """The arrival clock: µs since this process loaded the module (the reference time is a
    24-bit count of 64 ms, signed for some receivers: an uptime of days would not fit)."""
    return (time.monotonic_ns() - _EPOCH) // 1000


class TransportFeedback:
    """The arrivals of one publisher's transport-wide numbered packets, and the feedback
    packets that report them (see the module doc)."""

    __slots__ = ("_arrivals", "_base", "_count", "_highest")

    def __init__(self) -> None:
        # Unwrapped sequence number -> arrival time (µs), for packets not reported yet.
        self._arrivals: dict[int, int] = {}
        self._base: int | None = None  # the first sequence number not reported yet
        self._highest = -1  # the highest sequence number seen (unwrapped)
        self._count = 0  # feedback packets built so far (their 8-bit "fb pkt. count")

    def add(self, seq: int, arrival_us: int) -> None:
        """A packet numbered ``seq`` (16 bits, as sent) arrived at ``arrival_us`` (any
        monotonic clock in µs). A packet already reported, or a duplicate, is ignored."""
        highest = self._highest
        if highest < 0:
            unwrapped = seq
        else:
            delta = (seq - highest) & 0xFFFF
            unwrapped = highest + (delta - 0x10000 if delta >= 0x8000 else delta)
        base = self._base
        if base is None:
            self._base = unwrapped
        elif unwrapped < base:
            return
        if unwrapped > highest:
            self._highest = unwrapped
        self._arrivals.setdefault(unwrapped, arrival_us)

    def build(self, sender_ssrc: int, media_ssrc: int) -> list[bytes]:
        """The feedback packets for everything that arrived since the last call (none when
        nothing did)."""
        base = self._base
        if base is None or not self._arrivals:
            return []
        highest = self._highest
        reach = MAX_STATUSES * MAX_PACKETS_PER_BUILD
        if highest - base + 1 > reach:
            base = highest - reach + 1
            self._arrivals = {s: t for s, t in self._arrivals.items() if s >= base}
        packets: list[bytes] = []
        while base <= highest:
            if len(packets) == MAX_PACKETS_PER_BUILD:
                # Arrival times far apart (only a broken or hostile sender's clock): the rest
                # is given up.
                base = highest + 1
                self._arrivals.clear()
                break
            packet, base = self._one(base, highest, sender_ssrc, media_ssrc)
            packets.append(packet)
        self._base = base
        return packets

    def _one(self, base: int, highest: int, sender_ssrc: int, media_ssrc: int) -> tuple[bytes, int]:
        """One feedback packet from ``base`` on; returns it and the next base."""
        arrivals = self._arrivals
        # The first packet that arrived (there is one: ``highest`` did); the packets before it
        # cost no delta, only their statuses (a run-length chunk each 8191).
        received = next(s for s in range(base, highest + 1) if s in arrivals)
        first = arrivals[received]
        reference = first // REFERENCE_US
        previous = reference * (REFERENCE_US // TICK_US)
        statuses: list[int] = []
        deltas = bytearray()
        seq = base
        end = min(highest, received + MAX_STATUSES - 1)
        while seq <= end:
            arrival = arrivals.pop(seq, None)
            if arrival is None:
                statuses.append(NOT_RECEIVED)
            else:
                ticks = arrival // TICK_US
                delta = ticks - previous
                if 0 <= delta <= 0xFF:
                    statuses.append(SMALL_DELTA)
                    deltas.append(delta)
                elif -0x8000 <= delta <= 0x7FFF:
                    statuses.append(LARGE_DELTA)
                    deltas += delta.to_bytes(2, "big", signed=True)
                else:
                    # Too far from the one before for a delta: the next packet starts here.
                    arrivals[seq] = arrival
                    break
                previous = ticks
            seq += 1
        # Trailing packets not received are reported by a later feedback, once one after
        # them arrives (a packet still on its way is not lost).
        while statuses and statuses[-1] == NOT_RECEIVED:
            statuses.pop()
            seq -= 1
        body = _chunks(statuses) + bytes(deltas)
        padding = -len(body) % 4
        length = (_HEADER.size + len(body) + padding) // 4 - 1
        header = _HEADER.pack(
            (0xA0 if padding else 0x80) | FMT_TRANSPORT_CC,
            RTPFB,
            length,
            sender_ssrc,
            media_ssrc,
            base & 0xFFFF,
            len(statuses),
            ((reference & 0xFFFFFF) << 8) | (self._count & 0xFF),
        )
        self._count += 1
        if padding:
            body += bytes(padding - 1) + bytes((padding,))
        return header + body, seq


def _chunks(statuses: list[int]) -> bytes:
    """The packet status chunks for ``statuses``: a run-length chunk for a run of seven or
    more of one status (or the last run), else a status vector of 14 one-bit statuses when
    no delta among them is large, of 7 two-bit ones otherwise."""
    out = bytearray()
    count = len(statuses)
    i = 0
    while i < count:
        status = statuses[i]
        run = 1
        while i + run < count and run < MAX_RUN and statuses[i + run] == status:
            run += 1
        if run >= 7 or i + run == count:
            out += (status << 13 | run).to_bytes(2, "big")
            i += run
            continue
        window = statuses[i : i + 14]
        if LARGE_DELTA not in window:
            chunk = 0x8000  # 1, symbol size 0: fourteen one-bit statuses
            for j, s in enumerate(window):
                chunk |= s << (13 - j)
            out += chunk.to_bytes(2, "big")
            i += len(window)
        else:
            chunk = 0xC000  # 1, symbol size 1: seven two-bit statuses
            for j, s in enumerate(statuses[i : i + 7]):
                chunk |= s << (12 - 2 * j)
            out += chunk.to_bytes(2, "big")
            i += 7
    return bytes(out)

"""The synchronous SRTP receive path (transport.SrtpReader) on stand-in transports."""

import os
from types import SimpleNamespace
from typing import Any

import aioice.ice
import aioice.stun
import pytest
from pylibsrtp import Policy, Session

from rooms.sfu.rtcp import sender_report
from rooms.sfu.rtp_header import build_header
from rooms.sfu.transport import SrtpReader

KEY = os.urandom(44)


def session(direction: int) -> Session:
    return Session(
        Policy(key=KEY, ssrc_type=direction, srtp_profile=Policy.SRTP_PROFILE_AEAD_AES_256_GCM)
    )


class Connection:
    def __init__(self) -> None:
        self.queued: list[bytes] = []
        self._protocols: list[object] = []

    def data_received(self, data: bytes, component: int) -> None:
        self.queued.append(data)


def reader() -> tuple[Any, Connection, list[bytes], list[bytes]]:
    connection = Connection()
    dtls = SimpleNamespace(_rx_srtp=None, transport=SimpleNamespace(_connection=connection))
    rtp: list[bytes] = []
    rtcp: list[bytes] = []
    SrtpReader(dtls, lambda data, at: rtp.append(data), rtcp.append).install()  # type: ignore[arg-type]
    return dtls, connection, rtp, rtcp


def rtp_packet(seq: int) -> bytes:
    return build_header(
        marker=0, payload_type=111, sequence_number=seq, timestamp=960 * seq, ssrc=7, ext=b""
    ) + bytes(range(40))


def test_srtp_is_unprotected_and_handled_at_once_everything_else_goes_to_aioice() -> None:
    dtls, connection, rtp, rtcp = reader()
    tx = session(Policy.SSRC_ANY_OUTBOUND)
    early = tx.protect(rtp_packet(1))
    connection.data_received(early, 1)  # no keys yet: aiortc's route (which drops it)
    assert connection.queued == [early] and rtp == []

    dtls._rx_srtp = session(Policy.SSRC_ANY_INBOUND)
    dtls_record = bytes([22, 254, 253]) + bytes(20)
    connection.data_received(dtls_record, 1)
    connection.data_received(tx.protect(rtp_packet(2)), 1)
    report = sender_report(ssrc=7, ntp_timestamp=1, rtp_timestamp=2, packets=3, octets=4)
    connection.data_received(tx.protect_rtcp(report), 1)
    assert connection.queued == [early, dtls_record]
    assert rtp == [rtp_packet(2)]
    assert rtcp == [report]


def test_forged_replayed_and_broken_packets_are_dropped_quietly() -> None:
    dtls, connection, rtp, rtcp = reader()
    dtls._rx_srtp = session(Policy.SSRC_ANY_INBOUND)
    tx = session(Policy.SSRC_ANY_OUTBOUND)
    good = tx.protect(rtp_packet(5))
    forged = bytearray(good)
    forged[-1] ^= 1
    connection.data_received(bytes(forged), 1)
    connection.data_received(good, 1)
    connection.data_received(good, 1)  # replay
    connection.data_received(bytes([0x80, 0x60]), 1)  # too short for RTP
    connection.data_received(bytes([0x80]) + bytes(3000), 1)  # longer than any buffer
    connection.data_received(b"", 1)
    assert rtp == [rtp_packet(5)] and rtcp == []
    # None of them reaches aiortc: its receive loop ends (and closes the transport) on an
    # empty datagram or on one longer than pylibsrtp's buffer.
    assert connection.queued == []


def test_before_the_keys_only_what_aiortc_can_take_goes_its_way() -> None:
    _, connection, rtp, rtcp = reader()
    tx = session(Policy.SSRC_ANY_OUTBOUND)
    early = tx.protect(rtp_packet(1))
    connection.data_received(early, 1)
    connection.data_received(bytes([0x80]) + bytes(1500), 1)  # 1501 bytes: would raise there
    connection.data_received(b"", 1)
    dtls_record = bytes([22, 254, 253]) + bytes(2000)  # DTLS of any size: aiortc's to judge
    connection.data_received(dtls_record, 1)
    assert connection.queued == [early, dtls_record] and rtp == [] and rtcp == []


def test_a_failing_handler_drops_the_packet_and_keeps_the_reader_alive() -> None:
    connection = Connection()
    dtls = SimpleNamespace(
        _rx_srtp=session(Policy.SSRC_ANY_INBOUND), transport=SimpleNamespace(_connection=connection)
    )
    seen: list[bytes] = []

    def handler(data: bytes, at: int) -> None:
        seen.append(data)
        raise RuntimeError("boom")

    SrtpReader(dtls, handler, lambda data: None).install()  # type: ignore[arg-type]
    tx = session(Policy.SSRC_ANY_OUTBOUND)
    connection.data_received(tx.protect(rtp_packet(1)), 1)
    connection.data_received(tx.protect(rtp_packet(2)), 1)
    assert seen == [rtp_packet(1), rtp_packet(2)]


async def test_host_sockets_hand_srtp_straight_to_the_reader_once_keys_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[bytes] = []
    parse = aioice.stun.parse_message

    def counting_parse(data: bytes, *args: Any, **kwargs: Any) -> aioice.stun.Message:
        parsed.append(data)
        return parse(data, *args, **kwargs)

    monkeypatch.setattr(aioice.stun, "parse_message", counting_parse)
    dtls, connection, rtp, rtcp = reader()
    host = aioice.ice.StunProtocol(connection)  # type: ignore[arg-type]
    host.local_candidate = SimpleNamespace(component=1)  # type: ignore[assignment]
    connection._protocols.append(host)
    tx = session(Policy.SSRC_ANY_OUTBOUND)
    addr = ("127.0.0.1", 5000)

    early = tx.protect(rtp_packet(1))
    host.datagram_received(early, addr)  # no keys: aioice tries STUN, then its queue
    assert parsed == [early] and connection.queued == [early]

    dtls._rx_srtp = session(Policy.SSRC_ANY_INBOUND)
    first = tx.protect(rtp_packet(2))
    host.datagram_received(first, addr)  # the first SRTP packet still comes through aioice
    assert rtp == [rtp_packet(2)] and parsed == [early, first]

    host.datagram_received(tx.protect(rtp_packet(3)), addr)
    report = sender_report(ssrc=7, ntp_timestamp=1, rtp_timestamp=2, packets=3, octets=4)
    host.datagram_received(tx.protect_rtcp(report), addr)
    assert rtp == [rtp_packet(2), rtp_packet(3)] and rtcp == [report]
    assert parsed == [early, first]  # no STUN parsing for RTP/RTCP any more

    # STUN (and anything else) keeps aioice's path: an unknown response is ignored there.
    response = aioice.stun.Message(
        message_method=aioice.stun.Method.BINDING, message_class=aioice.stun.Class.RESPONSE
    )
    host.datagram_received(bytes(response), addr)
    dtls_record = bytes([22, 254, 253]) + bytes(20)
    host.datagram_received(dtls_record, addr)
    host.datagram_received(b"", addr)
    assert parsed[2:] == [bytes(response), dtls_record, b""]
    assert connection.queued == [early, dtls_record]  # the empty one is dropped

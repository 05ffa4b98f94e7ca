"""Fails loudly when a private aiortc/aioice name the SFU relies on moves (see rooms.sfu.transport).

If this fails after an aiortc upgrade, re-read the new sources at each hook point before
changing anything: the SFU's correctness (no decoding, no idle sender loops) depends on them.
"""

import inspect
from importlib.metadata import version

import aioice.ice
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtcicetransport import RTCIceGatherer, RTCIceTransport
from pylibsrtp import Session


def params(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def test_the_pinned_versions_are_installed() -> None:
    assert version("aiortc") == "1.16.0"
    assert version("aioice") == "0.13.0"


def test_dtls_transport_receive_hooks() -> None:
    assert inspect.iscoroutinefunction(RTCDtlsTransport._handle_rtp_data)
    assert params(RTCDtlsTransport._handle_rtp_data) == ["self", "data", "arrival_time_ms"]
    assert inspect.iscoroutinefunction(RTCDtlsTransport._handle_rtcp_data)
    assert params(RTCDtlsTransport._handle_rtcp_data) == ["self", "data"]
    # The receive loop must look the hooks up on the instance.
    source = inspect.getsource(RTCDtlsTransport._recv_next)
    assert "await self._handle_rtp_data(data, arrival_time_ms=arrival_time_ms)" in source
    assert "await self._handle_rtcp_data(data)" in source


def test_srtp_reader_hooks() -> None:
    # aioice hands every non-STUN datagram to the connection's data_received, looked up on
    # the instance; aiortc keeps the rx session in _rx_srtp and unprotects with libsrtp.
    received = inspect.getsource(aioice.ice.StunProtocol.datagram_received)
    assert "self.receiver.data_received(data, self.local_candidate.component)" in received
    assert params(aioice.ice.Connection.data_received) == ["self", "data", "component"]
    assert "self._rx_srtp" in inspect.getsource(RTCDtlsTransport.__init__)
    recv_next = inspect.getsource(RTCDtlsTransport._recv_next)
    assert "self._rx_srtp.unprotect(data)" in recv_next
    assert "self._rx_srtp.unprotect_rtcp(data)" in recv_next
    assert "lib.srtp_unprotect)" in inspect.getsource(Session.unprotect)
    # The reader's demux replaces datagram_received per host protocol, which the event loop
    # looks up on the instance for every datagram.
    assert "self._protocols: list[StunProtocol] = []" in inspect.getsource(
        aioice.ice.Connection.__init__
    )
    assert params(aioice.ice.StunProtocol.datagram_received) == ["self", "data", "addr"]


def test_dtls_transport_send_state() -> None:
    init = inspect.getsource(RTCDtlsTransport.__init__)
    assert "self._tx_srtp" in init and "self._state = State.NEW" in init
    assert State.CONNECTED.name == "CONNECTED"
    assert "self._tx_srtp.protect(data)" in inspect.getsource(RTCDtlsTransport._send_rtp)
    ice_init = inspect.getsource(RTCIceTransport.__init__)
    assert "self._connection = gatherer._connection" in ice_init
    conn = inspect.getsource(aioice.ice.Connection.sendto)
    assert "self._nominated.get(component)" in conn
    assert "active_pair.remote_addr" in conn
    assert "self.transport.sendto(data, addr)" in inspect.getsource(
        aioice.ice.StunProtocol.send_data
    )


def test_sender_and_receiver_start_work_only_in_send_and_receive() -> None:
    assert params(RTCRtpSender.send) == ["self", "parameters"]
    assert params(RTCRtpSender.stop) == ["self"]
    send = inspect.getsource(RTCRtpSender.send)
    assert "self._run_rtp(" in send and "self._run_rtcp()" in send
    assert params(RTCRtpReceiver.receive) == ["self", "parameters"]
    assert params(RTCRtpReceiver.stop) == ["self"]
    receive = inspect.getsource(RTCRtpReceiver.receive)
    assert "threading.Thread" in receive and "self._run_rtcp()" in receive
    connect = inspect.getsource(RTCPeerConnection._RTCPeerConnection__connect)  # type: ignore[attr-defined]
    assert "await transceiver.sender.send(" in connect
    assert "await transceiver.receiver.receive(" in connect


def test_receiver_bandwidth_estimator_is_optional() -> None:
    # neuter_receiver drops it; aiortc creates one per video receiver and checks for None.
    init = inspect.getsource(RTCRtpReceiver.__init__)
    assert "self.__remote_bitrate_estimator = RemoteBitrateEstimator()" in init
    assert "self.__remote_bitrate_estimator = None" in init
    handle = inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    assert "if self.__remote_bitrate_estimator is not None:" in handle


def test_sender_and_transceiver_attributes() -> None:
    init = inspect.getsource(RTCRtpSender.__init__)
    assert "self._ssrc = random32()" in init and "self._rtx_ssrc = random32()" in init
    assert "self._stream_id" in init
    t_init = inspect.getsource(RTCRtpTransceiver.__init__)
    assert "self._codecs" in t_init and "self._headerExtensions" in t_init
    answer = inspect.getsource(RTCPeerConnection.createAnswer)
    assert "create_media_description_for_transceiver" in answer


def test_host_address_hook() -> None:
    assert params(aioice.ice.get_host_addresses) == ["use_ipv4", "use_ipv6"]
    gather = inspect.getsource(aioice.ice.Connection.gather_candidates)
    assert "get_host_addresses(" in gather
    assert "getDefaultIceServers" in inspect.getsource(RTCIceGatherer.__init__)


def test_pylibsrtp_in_place_protect() -> None:
    """``transport.RtpWriter`` calls libsrtp through pylibsrtp's cffi binding (see transport.py)."""
    import os

    import pylibsrtp
    from pylibsrtp import Policy, Session
    from pylibsrtp._binding import ffi, lib

    assert version("pylibsrtp") == "1.0.0"
    process = inspect.getsource(Session._Session__process)  # type: ignore[attr-defined]
    assert "func(self._srtp[0], self._cdata, len_p)" in process
    assert lib.srtp_protect and lib.srtp_protect_rtcp and pylibsrtp.Error
    key = os.urandom(30)
    policy = Policy(
        key=key,
        ssrc_type=Policy.SSRC_ANY_OUTBOUND,
        srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    )
    tx = Session(policy)
    packet = bytes([0x80, 96, 0, 1, 0, 0, 0, 9, 0, 0, 0, 7]) + b"payload"
    cdata = ffi.new("char[]", 1660)
    length = ffi.new("int *")
    ffi.buffer(cdata)[0 : len(packet)] = packet
    length[0] = len(packet)
    assert lib.srtp_protect(tx._srtp[0], cdata, length) == 0
    in_place = ffi.buffer(cdata)[0 : length[0]]
    rx = Session(
        Policy(
            key=key,
            ssrc_type=Policy.SSRC_ANY_INBOUND,
            srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
        )
    )
    assert rx.unprotect(in_place) == packet


async def test_a_neutered_video_receiver_keeps_no_estimator_for_the_collector() -> None:
    import gc

    from aiortc.rate import RateBucket

    from rooms.sfu.transport import neuter_receiver

    def buckets() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is RateBucket)

    pc = RTCPeerConnection()
    try:
        receivers = [pc.addTransceiver("video").receiver for _ in range(3)]
        before = buckets()
        assert before >= 3000  # aiortc's estimator: a 1000-bucket rate counter per receiver
        for receiver in receivers:
            neuter_receiver(receiver)
        assert all(r._RTCRtpReceiver__remote_bitrate_estimator is None for r in receivers)  # type: ignore[attr-defined]
        assert buckets() <= before - 3000
    finally:
        await pc.close()

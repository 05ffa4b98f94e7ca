"""Every private aiortc 1.16.0 name the SFU (and the bot) relies on, in one place.

aiortc has no public API for forwarding packets without decoding. These seams are used:

- ``RTCDtlsTransport._handle_rtp_data(data, arrival_time_ms)`` and ``_handle_rtcp_data(data)``
  receive every decrypted packet of a transport before aiortc routes it to a receiver; they
  are replaced per instance so the stock receiver, jitter buffer and decoder never see media.
- ``RTCDtlsTransport._tx_srtp`` / ``_state`` plus the ICE connection's nominated pair
  (``RTCIceTransport._connection._nominated[1]`` -> ``protocol.transport``, ``remote_addr``)
  give a synchronous send path: SRTP-protect and ``sendto`` without a coroutine per packet.
- ``RTCRtpSender.send/stop`` and ``RTCRtpReceiver.receive/stop`` are replaced per instance
  with no-ops, so a forwarding sender never starts its 20 ms idle loop or an encoder, and a
  receiver never starts its decoder thread or its RTCP loop.
- ``RTCRtpSender._ssrc/_rtx_ssrc/_stream_id`` and ``RTCRtpTransceiver._codecs`` are read (and
  ``_codecs`` narrowed) to know the negotiated payload types and SSRCs of each m-line.

``tests/rooms/sfu/test_aiortc_contract.py`` fails loudly when any of these moves.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable

import aioice.ice
import pylibsrtp
from aiortc import RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

logger = logging.getLogger(__name__)

RtpHandler = Callable[[bytes, int], None]
RtcpHandler = Callable[[bytes], None]


def intercept_transport(dtls: RTCDtlsTransport, on_rtp: RtpHandler, on_rtcp: RtcpHandler) -> None:
    """Route the decrypted RTP/RTCP of ``dtls`` to synchronous handlers.

    The handlers run inside the transport's receive loop. Any exception escaping them would
    end that loop and close the transport, so they are guarded here: garbage from a client
    is dropped, never fatal.
    """

    async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
        try:
            on_rtp(data, arrival_time_ms)
        except Exception:
            logger.exception("RTP handler failed; packet dropped")

    async def handle_rtcp_data(data: bytes) -> None:
        try:
            on_rtcp(data)
        except Exception:
            logger.exception("RTCP handler failed; packet dropped")

    dtls._handle_rtp_data = handle_rtp_data  # type: ignore[method-assign]
    dtls._handle_rtcp_data = handle_rtcp_data  # type: ignore[method-assign]


def neuter_sender(sender: RTCRtpSender) -> None:
    """Keep aiortc from running its encoder/idle loop and RTCP loop for this sender."""

    async def send(parameters: object) -> None:
        return None

    async def stop() -> None:
        return None

    sender.send = send  # type: ignore[method-assign]
    sender.stop = stop  # type: ignore[method-assign]


def neuter_receiver(receiver: RTCRtpReceiver) -> None:
    """Keep aiortc from starting a decoder thread and RTCP loop for this receiver."""

    async def receive(parameters: object) -> None:
        return None

    async def stop() -> None:
        return None

    receiver.receive = receive  # type: ignore[method-assign]
    receiver.stop = stop  # type: ignore[method-assign]


def negotiated_codecs(transceiver: RTCRtpTransceiver) -> list[RTCRtpCodecParameters]:
    return list(transceiver._codecs)


def restrict_codecs(transceiver: RTCRtpTransceiver, codecs: list[RTCRtpCodecParameters]) -> None:
    """Narrow what the answer offers for this m-line (set between setRemote and createAnswer)."""
    transceiver._codecs = codecs


def sender_ssrcs(sender: RTCRtpSender) -> tuple[int, int]:
    return sender._ssrc, sender._rtx_ssrc


def set_stream_id(sender: RTCRtpSender, stream_id: str) -> None:
    sender._stream_id = stream_id


class RtpWriter:
    """Synchronous SRTP send path on one DTLS transport (what ``_send_rtp`` does, minus the
    coroutine, the RTCP sniffing and the shared counters).

    Datagrams go straight to a duplicate of the selected host socket with ``socket.sendto``:
    measured cheaper than the event loop transport's ``sendto`` under load, and a full socket
    buffer simply drops the datagram (UDP media semantics) instead of queueing it.
    ``write_rtp`` / ``write_rtcp`` return the number of bytes put on the wire, 0 when the
    transport is not (or no longer) connected. ``close()`` releases the duplicate socket.
    """

    __slots__ = ("_dtls", "_ice", "_pair", "_sock")

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self._dtls = dtls
        self._ice = dtls.transport._connection
        self._pair: object | None = None
        self._sock: socket.socket | None = None

    def _sendto(self, data: bytes) -> int:
        pair = self._ice._nominated.get(1)
        if pair is None:
            return 0
        if pair is not self._pair:
            self._bind(pair)
        sock = self._sock
        if sock is None:
            return 0
        try:
            sock.sendto(data, pair.remote_addr)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            return 0
        return len(data)

    def _bind(self, pair: aioice.ice.CandidatePair) -> None:
        self.close()
        self._pair = pair
        protocol = pair.protocol
        if not isinstance(protocol, aioice.ice.StunProtocol):
            # A relayed (TURN) local candidate needs aioice's async path; the worker is
            # configured without TURN, so this only guards against misconfiguration.
            return
        raw = protocol.transport.get_extra_info("socket")
        if raw is None:
            return
        sock = socket.socket(raw.family, raw.type, fileno=os.dup(raw.fileno()))
        sock.setblocking(False)
        self._sock = sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._pair = None

    def write_rtp(self, packet: bytes) -> int:
        dtls = self._dtls
        if dtls._state is not State.CONNECTED:
            return 0
        try:
            protected = dtls._tx_srtp.protect(packet)
        except pylibsrtp.Error:
            return 0
        return self._sendto(protected)

    def write_rtcp(self, packet: bytes) -> int:
        dtls = self._dtls
        if dtls._state is not State.CONNECTED:
            return 0
        try:
            protected = dtls._tx_srtp.protect_rtcp(packet)
        except pylibsrtp.Error:
            return 0
        return self._sendto(protected)

    @property
    def connected(self) -> bool:
        return self._dtls._state is State.CONNECTED

"""The transport: the ICE/DTLS/SRTP receive and send path of a peer connection, hooked into
aiortc and handed to the C forwarding loop (fastpath.c), with every private aiortc 1.16.0 name
the SFU (and the bot) relies on, in one place.

aiortc has no public API for forwarding packets without decoding. These seams are used:

- ``RTCDtlsTransport._handle_rtp_data(data, arrival_time_ms)`` and ``_handle_rtcp_data(data)``
  receive every decrypted packet of a transport before aiortc routes it to a receiver; they
  are replaced per instance so the stock receiver, jitter buffer and decoder never see media.
- aioice ``Connection.data_received(data, component)`` (what its ``StunProtocol`` calls for
  every non-STUN datagram) and ``RTCDtlsTransport._rx_srtp``: replaced per instance so SRTP
  is unprotected and handled synchronously in the socket's read callback (``SrtpReader``).
- ``RTCDtlsTransport._tx_srtp`` / ``_state`` plus the ICE connection's nominated pair
  (``RTCIceTransport._connection._nominated[1]`` -> ``protocol.transport``, ``remote_addr``)
  give a synchronous send path: SRTP-protect and ``sendto`` without a coroutine per packet.
  A relayed (TURN) local candidate has no socket of ours: its ``protocol.transport`` is
  aioice's ``TurnTransport``, whose ``sendto`` frames the packet for the TURN server (bots only).
- pylibsrtp 1.0 ``Session._srtp`` (the ``srtp_t *``) and ``pylibsrtp._binding.ffi/lib``
  (``srtp_protect`` / ``srtp_protect_rtcp`` / ``srtp_unprotect*``): the reader unprotects in
  place in its own cffi buffer; the C forwarding loop (fastpath.c) is given the addresses of
  the two protect functions and each writer's ``srtp_t``, and protects in place in the
  writer's send buffer (the forwarder builds output packets straight into it).
  ``Session.protect`` does the same call but adds a type check, a fresh ``int *``, a copy in
  and a copy out per packet (measured ~1-3 µs of the ~2-5 µs).
- ``RTCRtpSender.send/stop`` and ``RTCRtpReceiver.receive/stop`` are replaced per instance
  with no-ops, so a forwarding sender never starts its 20 ms idle loop or an encoder, and a
  receiver never starts its decoder thread or its RTCP loop; the receiver's private
  ``__remote_bitrate_estimator`` is dropped (unused here, and ~1000 objects for the
  collector per video m-line).
- ``RTCRtpSender._ssrc/_rtx_ssrc/_stream_id`` and ``RTCRtpTransceiver._codecs`` are read (and
  ``_codecs`` narrowed) to know the negotiated payload types and SSRCs of each m-line.

``tests/rooms/sfu/test_aiortc_contract.py`` fails loudly when any of these moves.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import weakref
from collections.abc import Callable

import aioice.ice
from aiortc import RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from pylibsrtp import Session
from pylibsrtp._binding import ffi as _srtp_ffi
from pylibsrtp._binding import lib as _srtp_lib

from ._fastpath import ffi as _fast_ffi
from ._fastpath import lib as _fast

logger = logging.getLogger(__name__)

# The largest packet a writer takes and the room for libsrtp's trailer (SRTP_MAX_TRAILER_LEN,
# 16 bytes of auth tag + 128 of MKI, rounded up): fastpath.h's FWD_MAX_WRITE (1500 bytes of
# forwarded RTP plus RTX's 2-byte original sequence number) and FWD_TRAILER.
_MAX_PACKET = _fast.FWD_MAX_WRITE
_TRAILER = _fast.FWD_TRAILER
# pylibsrtp's Session unprotects in a buffer of this size (aiortc's receive path).
_AIORTC_SRTP_BUFFER = 1500

RtpHandler = Callable[[bytes, int], None]
RtcpHandler = Callable[[bytes], None]


def intercept_transport(dtls: RTCDtlsTransport, on_rtp: RtpHandler, on_rtcp: RtcpHandler) -> None:
    """Route the decrypted RTP/RTCP of ``dtls`` to synchronous handlers.

    Two routes lead there. Normally aiortc hands every datagram from aioice's protocol to an
    asyncio queue, awaits it in the DTLS transport's receive task, unprotects it with a fresh
    copy and awaits ``_handle_rtp_data``: a queue round trip and two coroutine steps per
    packet. Once SRTP keys exist, ``SrtpReader`` takes SRTP/SRTCP datagrams straight from the
    ICE connection's ``data_received`` (still inside the socket's read callback), unprotects
    them in place in its own buffer and calls the handlers; DTLS and anything that arrives
    before the handshake completes keep aiortc's route, whose two handler seams are replaced
    as well. Any exception escaping a handler is logged and the packet dropped: garbage from
    a client is never fatal to the transport.
    """

    async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
        try:
            on_rtp(data, arrival_time_ms)
        except Exception:
            logger.exception("RTP handler failed; packet dropped")
        send_batch.soon()

    async def handle_rtcp_data(data: bytes) -> None:
        try:
            on_rtcp(data)
        except Exception:
            logger.exception("RTCP handler failed; packet dropped")

    dtls._handle_rtp_data = handle_rtp_data  # type: ignore[method-assign]
    dtls._handle_rtcp_data = handle_rtcp_data  # type: ignore[method-assign]
    SrtpReader(dtls, on_rtp, on_rtcp).install()


_unprotect = _fast.fwd_unprotect
_unpack = _fast_ffi.unpack


class SrtpReader:
    """The synchronous receive path of one DTLS transport (see ``intercept_transport``).

    Installed as the ICE connection's ``data_received`` (aioice's ``StunProtocol`` calls it
    for every datagram that is not STUN). SRTP and SRTCP (first byte 128..191, RFC 7983) are
    unprotected here with the transport's rx session once it exists, exactly what aiortc's
    receive loop would do with them; everything else goes on to aioice's queue as before.
    A packet that fails authentication or replay checks is dropped, as aiortc drops it.

    Once the first SRTP packet has come this way, the connection's host-candidate protocols
    hand datagrams whose first byte says RTP/RTCP straight to this reader (``_demux``): aioice
    would first try to parse each one as STUN, fail, and then pass it on unchanged. STUN,
    DTLS and anything else still take aioice's path.
    """

    __slots__ = (
        "_buffer",
        "_dtls",
        "_forward",
        "_on_rtcp",
        "_on_rtp",
        "_rx",
        "_srtp",
    )

    def __init__(self, dtls: RTCDtlsTransport, on_rtp: RtpHandler, on_rtcp: RtcpHandler) -> None:
        self._dtls = dtls
        self._on_rtp = on_rtp
        self._on_rtcp = on_rtcp
        self._forward: Callable[[bytes, int], None] | None = None
        self._rx: Session | None = None
        self._srtp: object = _fast_ffi.NULL
        self._buffer = _fast_ffi.new("char[]", _MAX_PACKET + _TRAILER)

    def install(self) -> None:
        connection = self._dtls.transport._connection
        self._forward = connection.data_received
        connection.data_received = self.data_received  # type: ignore[method-assign]

    def _bypass_stun_parsing(self) -> None:
        """Route RTP/RTCP datagrams of the host sockets straight here (see the class doc)."""
        for protocol in self._dtls.transport._connection._protocols:
            # Exactly aioice's protocol (a relayed candidate's too: aioice's TURN client hands
            # it the unwrapped datagrams), nothing that merely looks like one.
            if type(protocol) is aioice.ice.StunProtocol:
                protocol.datagram_received = _demux(  # type: ignore[method-assign,assignment]
                    protocol.datagram_received,
                    self.data_received,
                    protocol.local_candidate.component,
                )

    def data_received(self, data: bytes, component: int) -> None:
        size = len(data)
        if not size:
            return  # aiortc's receive loop reads data[0]: an empty datagram would end it
        if not 127 < data[0] < 192:  # DTLS and anything else: aiortc's route
            if self._forward is not None:
                self._forward(data, component)
            return
        rx = self._dtls._rx_srtp
        if rx is None:
            # No keys yet: aiortc's route keeps it until the handshake is done. Anything
            # longer than pylibsrtp's 1500-byte buffer would raise ValueError there, which
            # aiortc does not catch: its receive loop would end and close the transport.
            if size <= _AIORTC_SRTP_BUFFER and self._forward is not None:
                self._forward(data, component)
            return
        if size < 12 or size > _MAX_PACKET + _TRAILER:
            return  # cannot be a packet this side accepts
        if rx is not self._rx:
            if self._rx is None:  # the first keys: from now on SRTP comes straight here
                self._bypass_stun_parsing()
            self._rx = rx
            self._srtp = _fast_ffi.cast("void *", int(_srtp_ffi.cast("uintptr_t", rx._srtp[0])))
        # RTCP (SR..PSFB) by the same test as aiortc's is_rtcp; copied into the buffer and
        # unprotected there in C (fastpath.c's fwd_unprotect).
        rtcp = 192 <= data[1] <= 208
        length = _unprotect(self._srtp, self._buffer, data, size, rtcp)
        if length < 0:
            return
        try:
            if rtcp:
                self._on_rtcp(_unpack(self._buffer, length))
            else:
                self._on_rtp(_unpack(self._buffer, length), 0)
        except Exception:
            logger.exception("SRTP receive handler failed; packet dropped")
        send_batch.soon()


def _demux(
    stun_path: Callable[[bytes, tuple[str, int]], None],
    srtp_path: Callable[[bytes, int], None],
    component: int,
) -> Callable[[bytes, tuple[str, int]], None]:
    """A ``datagram_received`` that tells RTP/RTCP from STUN by the first byte (RFC 7983):
    128..191 can never start a STUN message (whose first two bits are zero)."""

    def datagram_received(data: bytes, addr: tuple[str, int]) -> None:
        if data and 127 < data[0] < 192:
            srtp_path(data, component)
        else:
            stun_path(data, addr)

    return datagram_received


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
    # aiortc gives every video receiver a receive-side bandwidth estimator whose rate counter
    # holds 1000 bucket objects. Such a receiver never sees a packet here, yet the cyclic
    # collector walked those objects on every full collection: ~1000 per video m-line, 300,000
    # of the 523,000 objects a 30-person room's worker tracked (bench/README.md, "Collector
    # pauses"). aiortc skips the estimator when it is None, as it is for audio.
    receiver._RTCRtpReceiver__remote_bitrate_estimator = None  # type: ignore[attr-defined]


def negotiated_codecs(transceiver: RTCRtpTransceiver) -> list[RTCRtpCodecParameters]:
    return list(transceiver._codecs)


def restrict_codecs(transceiver: RTCRtpTransceiver, codecs: list[RTCRtpCodecParameters]) -> None:
    """Narrow what the answer offers for this m-line (set between setRemote and createAnswer)."""
    transceiver._codecs = codecs


def sender_ssrcs(sender: RTCRtpSender) -> tuple[int, int]:
    return sender._ssrc, sender._rtx_ssrc


def set_stream_id(sender: RTCRtpSender, stream_id: str) -> None:
    sender._stream_id = stream_id


def set_sender_ssrcs(sender: RTCRtpSender, ssrc: int, rtx_ssrc: int) -> None:
    """The SSRCs the next answer announces for this sender (``a=ssrc``, ``ssrc-group:FID``)."""
    sender._ssrc = ssrc
    sender._rtx_ssrc = rtx_ssrc


# The C side (fastpath.c) protects and unprotects with this same libsrtp (the sessions are
# aiortc's, created by pylibsrtp): it gets the four functions' addresses once.
_fast.fwd_init(
    *(
        int(_srtp_ffi.cast("uintptr_t", _srtp_ffi.addressof(_srtp_lib, name)))
        for name in ("srtp_protect", "srtp_protect_rtcp", "srtp_unprotect", "srtp_unprotect_rtcp")
    )
)


class SendBatch:
    """Sends what the forwarding loop queued once the event loop has handled the datagrams
    it read together (fastpath.c, "Sending"): ``soon()`` after each received packet
    schedules one ``fwd_flush`` per loop iteration, which runs after the iteration's socket
    callbacks, so each subscriber's datagrams of that batch leave in one ``sendmmsg``."""

    __slots__ = ("_loop",)

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None

    def soon(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            return  # a flush is scheduled already
        if not _fast.fwd_pending():
            return
        loop = self._loop = asyncio.get_running_loop()
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._loop = None
        _fast.fwd_flush()


send_batch = SendBatch()


class RtpWriter:
    """Synchronous SRTP send path on one DTLS transport (what ``_send_rtp`` does, minus the
    coroutine, the RTCP sniffing and the shared counters).

    ``dest`` is the C side of the writer (``fwd_dest``, fastpath.h): a duplicate of the
    selected host socket, the nominated pair's remote address, the transport's libsrtp tx
    session and a queue of send buffers with room for the SRTP trailer. The forwarding loop
    builds output packets straight into that queue and protects them there in place;
    ``SendBatch`` sends each queue with one ``sendmmsg`` per loop iteration. A full socket
    buffer simply drops the datagrams (UDP media semantics). ``write_rtp`` / ``write_rtcp``
    send a finished packet at once, after whatever is queued.

    The C side sends only while ``dest.ready`` is set, and ``sync()`` sets it from the
    transport's state: the DTLS transport connected, a nominated pair on a host socket, SRTP
    keys. ``write_*`` sync first; the peer syncs when its DTLS transport's or its connection's
    state changes, and the room syncs every writer on each tick, so the loop never sends on
    a transport that is gone for longer than a tick. The pair's address is looked up when the
    pair changes, not per packet. ``close()`` stops sending and releases the duplicate socket.

    A client behind a TURN relay (a bot with a relay-only policy) has no socket of its own on
    the nominated pair: ``write_*`` then protect in Python and hand the packet to aioice's TURN
    transport, and ``dest.ready`` stays unset.
    """

    __slots__ = (
        "__weakref__",
        "_closed",
        "_dtls",
        "_ice",
        "_nominated",
        "_pair",
        "_relay",
        "_sock",
        "_tx",
        "dest",
    )

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self._dtls = dtls
        self._ice = dtls.transport._connection
        self._nominated: dict[int, aioice.ice.CandidatePair] = self._ice._nominated
        self._pair: object | None = None
        self._sock: socket.socket | None = None
        # A relayed pair's TURN transport and the peer it sends to (`_bind`).
        self._relay: tuple[asyncio.DatagramTransport, tuple[str, int]] | None = None
        # Held so the session (and the srtp_t that dest.srtp points to) outlives its use.
        self._tx: Session | None = None
        self.dest = _fast_ffi.new("fwd_dest *")
        self.dest.fd = -1
        self._closed = False
        # Datagrams still queued for this destination (fastpath.c) leave the send list with
        # it: the list never points at a freed destination.
        weakref.finalize(self, _fast.fwd_discard, self.dest)

    def _bind(self, pair: aioice.ice.CandidatePair) -> None:
        self._release()
        self._pair = pair
        protocol = pair.protocol
        if not isinstance(protocol, aioice.ice.StunProtocol):
            return  # not a protocol of aioice's that we know how to send on
        raw = protocol.transport.get_extra_info("socket")
        if raw is None:
            # A relayed (TURN) local candidate: packets go through aioice's TURN transport, in
            # Python. Only a client sits behind a relay (a bot checking TURN); the worker is
            # configured without TURN, so its forwarding loop never meets one.
            self._relay = (protocol.transport, pair.remote_addr)
            return
        host, port = pair.remote_addr[0], pair.remote_addr[1]
        if _fast.fwd_set_addr(self.dest, str(host).encode(), str(port).encode()):
            logger.warning("cannot send to %r: not a numeric address", pair.remote_addr)
            return
        try:
            sock = socket.socket(raw.family, raw.type, fileno=os.dup(raw.fileno()))
            sock.setblocking(False)
        except OSError:  # the ICE socket closed under us: nothing to send on
            logger.warning("cannot duplicate the ICE socket of %r", pair.remote_addr)
            return
        self._sock = sock
        self.dest.fd = sock.fileno()

    def sync(self) -> bool:
        """Point ``dest`` at the transport's current state; True when it can send."""
        dtls = self._dtls
        dest = self.dest
        if self._closed or dtls._state is not State.CONNECTED:
            dest.ready = 0
            return False
        pair = self._nominated.get(1)
        if pair is not self._pair:
            if pair is None:
                dest.ready = 0
                return False
            self._bind(pair)
        tx = dtls._tx_srtp
        if (self._sock is None and self._relay is None) or tx is None:
            dest.ready = 0
            return False
        if tx is not self._tx:
            self._tx = tx
            dest.srtp = _fast_ffi.cast("void *", int(_srtp_ffi.cast("uintptr_t", tx._srtp[0])))
        # The C side sends only on a socket of ours, never through a relay.
        dest.ready = 1 if self._sock is not None else 0
        return True

    def retire(self, ssrc: int) -> bool:
        """Drop ``ssrc``'s stream from the tx SRTP session (a slot renumbered, never to send
        as it again): libsrtp keeps one stream per SSRC ever protected and finds a packet's by
        walking them, so a long call's renumbered slots would otherwise slow every send.
        True when there was one. The caller never sends as ``ssrc`` again: a new stream for it
        would start its packet index afresh."""
        tx = self._dtls._tx_srtp
        if tx is None:
            return False
        return bool(_srtp_lib.srtp_remove_stream(tx._srtp[0], socket.htonl(ssrc)) == 0)

    def close(self) -> None:
        """Stop sending for good."""
        self._closed = True
        self._release()

    def _release(self) -> None:
        _fast.fwd_discard(self.dest)  # before its socket closes: nothing queued goes out
        self.dest.ready = 0
        self.dest.fd = -1
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._relay = None
        self._pair = None

    def _write(self, packet: bytes | bytearray | memoryview, rtcp: bool) -> int:
        if not self.sync():
            return 0
        data = packet if isinstance(packet, bytes) else bytes(packet)
        if self._relay is not None and self._tx is not None:
            transport, addr = self._relay
            protected = self._tx.protect_rtcp(data) if rtcp else self._tx.protect(data)
            transport.sendto(protected, addr)
            return len(protected)
        return int(_fast.fwd_send(self.dest, data, len(data), rtcp))

    def write_rtp(self, packet: bytes | bytearray | memoryview) -> int:
        return self._write(packet, False)

    def write_rtcp(self, packet: bytes | bytearray | memoryview) -> int:
        return self._write(packet, True)

    @property
    def connected(self) -> bool:
        return self._dtls._state is State.CONNECTED

    @property
    def local_candidate_type(self) -> str | None:
        """The nominated pair's local candidate type ("host", "srflx", "relay"), if any."""
        pair = self._nominated.get(1)
        return None if pair is None else str(pair.local_candidate.type)

"""The media plane: a forwarding SFU on aiortc (no decoding, no encoding).

Plain asyncio, no Django. Modules, one concern each:

- ``sfu`` / ``room``: the API the control plane calls (``Sfu``, ``SfuRoom``)
- ``peer``: one participant's ``RTCPeerConnection``, its state and lifecycle, packet intake
- ``negotiation``: offer checks (``plan_offer``), codecs and directions, simulcast answers
- ``feedback``: RTCP from and toward each peer (SR, RR, REMB, PLI/FIR, NACK) and what feeds
  each subscriber's downlink estimate
- ``allocation``: which simulcast layer each slot gets, what each publisher is granted (pure)
- ``streams``: publisher ``Source`` and subscriber ``OutputSlot`` (the per-packet forwarding)
- ``transport``: the ICE/DTLS/SRTP receive and send path, every private aiortc seam used
  (checked by a contract test)
- pure logic: ``rtp_header``, ``vp8``, ``rewriter``, ``speakers``, ``selection``,
  ``keyframes``, ``nack``, ``rtcp``
- ``config``, ``ice`` (which addresses ICE offers), ``reports`` (what it tells the control
  plane; rooms.events are the room events clients see), ``errors``

The media client that talks to it (bots for tests, benchmarks and operators' checks) is
``rooms.mediabot``, not part of the SFU.
"""

from .config import IceServer, SfuConfig
from .errors import (
    InvalidCandidate,
    NegotiationError,
    RoomClosed,
    ScreenShareBusy,
    ScreenShareForbidden,
    SfuError,
    UnknownParticipant,
)
from .reports import (
    ActiveSpeakersChanged,
    EventSink,
    PeerStateChanged,
    PeerStats,
    RenegotiationNeeded,
    SfuEvent,
    SlotSourceChanged,
    as_dict,
)
from .room import SfuRoom
from .sfu import Sfu
from .speakers import SpeakerConfig

__all__ = [
    "ActiveSpeakersChanged",
    "EventSink",
    "IceServer",
    "InvalidCandidate",
    "NegotiationError",
    "PeerStateChanged",
    "PeerStats",
    "RenegotiationNeeded",
    "RoomClosed",
    "ScreenShareBusy",
    "ScreenShareForbidden",
    "Sfu",
    "SfuConfig",
    "SfuError",
    "SfuEvent",
    "SfuRoom",
    "SlotSourceChanged",
    "SpeakerConfig",
    "UnknownParticipant",
    "as_dict",
]

"""The media plane: a forwarding SFU on aiortc (no decoding, no encoding), and a bot client.

Plain asyncio, no Django. Modules, one concern each:

- ``sfu`` / ``room``: the API the control plane calls (``Sfu``, ``SfuRoom``)
- ``peer``: one participant's ``RTCPeerConnection``, offer checks, packet intake, RTCP in
- ``streams``: publisher ``Source`` and subscriber ``OutputSlot`` (the per-packet forwarding)
- ``hooks``: every private aiortc seam used (checked by a contract test)
- pure logic: ``rtp_header``, ``vp8``, ``rewriter``, ``speakers``, ``selection``,
  ``keyframes``, ``nack``, ``rtcp``
- ``config``, ``ice`` (which addresses ICE offers), ``events``, ``errors``
- ``clip`` (pre-encoded media) and ``bot`` (a media client for tests, benchmarks, the CLI)
"""

from .config import IceServer, SfuConfig
from .errors import (
    InvalidCandidate,
    NegotiationError,
    RoomClosed,
    ScreenShareForbidden,
    SfuError,
    UnknownParticipant,
)
from .events import (
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

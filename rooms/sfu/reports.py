"""What the SFU reports to the control plane (typed, JSON-safe through ``as_dict``): peer states,
speakers, slot owners, stats. Not to be confused with rooms.events, the room events clients see.

The SFU calls the ``EventSink`` synchronously from the event loop, never from the packet path
of another room's peer, and never awaits it: a sink must not block (put the event on a queue
or a channel-layer send task that the sink's owner manages).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal, Protocol

PeerState = Literal["connecting", "connected", "failed", "closed"]


@dataclass(frozen=True, slots=True)
class PeerStateChanged:
    """A peer's media connection changed state. ``failed``: tell the client to reconnect with
    a new peer connection (aiortc has no ICE restart); the SFU already cleaned the peer up."""

    type: ClassVar[str] = "sfu.peer_state"
    room_id: str
    participant_id: str
    state: PeerState
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ActiveSpeakersChanged:
    """The forwarded (loudest) speakers, in selection order, and the dominant one."""

    type: ClassVar[str] = "sfu.active_speakers"
    room_id: str
    speakers: tuple[str, ...]
    dominant: str | None


@dataclass(frozen=True, slots=True)
class RenegotiationNeeded:
    """The subscriber needs more receive slots, or a slot changed owner and the answer must
    name the new owner's stream (lip sync, see rooms.sfu.peer): its client should send a new
    offer with at least this many ``recvonly`` audio and video transceivers in total."""

    type: ClassVar[str] = "sfu.renegotiation_needed"
    room_id: str
    participant_id: str
    audio_slots: int
    video_slots: int


@dataclass(frozen=True, slots=True)
class SlotSourceChanged:
    """What a subscriber's receive slot (identified by its SDP mid) now carries.

    For video this is sent when the switch really happens, at the new source's keyframe.
    ``source_participant_id`` None means the slot is idle."""

    type: ClassVar[str] = "sfu.slot_source"
    room_id: str
    participant_id: str
    mid: str
    kind: Literal["audio", "video"]
    source_participant_id: str | None
    source_kind: Literal["audio", "camera", "screen"] | None


@dataclass(frozen=True, slots=True)
class PeerStats:
    """Counters for one peer since it was created (RTP only, SRTP overhead excluded)."""

    type: ClassVar[str] = "sfu.peer_stats"
    room_id: str
    participant_id: str
    state: PeerState
    packets_in: int
    bytes_in: int
    packets_out: int
    bytes_out: int
    packets_dropped: int
    nacks_answered: int
    keyframe_requests_sent: int


SfuEvent = (
    PeerStateChanged | ActiveSpeakersChanged | RenegotiationNeeded | SlotSourceChanged | PeerStats
)


def as_dict(event: SfuEvent) -> dict[str, Any]:
    data = asdict(event)
    data["type"] = event.type
    return data


class EventSink(Protocol):
    def __call__(self, event: SfuEvent) -> None: ...

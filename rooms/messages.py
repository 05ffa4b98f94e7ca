"""Schemas of the messages a client may send on the room socket, one model per type.

A message that does not fit its schema is answered with an error and changes nothing. Ids of
senders and rooms are never taken from messages: the connection knows who and where it is.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

from rooms.models import ReportReason

Id = Annotated[int, Field(ge=1, le=2**53)]
MAX_FRAME_BYTES = 64 * 1024

# JSON may spell out a NUL or half of a surrogate pair (lone surrogates are not text at all);
# neither can be stored (PostgreSQL text refuses NUL, UTF-8 has no surrogates) or forwarded.
# The API refuses the same characters (DRF's CharField).
_NOT_TEXT = re.compile(r"[\x00\ud800-\udfff]")


def _text(value: str) -> str:
    found = _NOT_TEXT.search(value)
    if found is None:
        return value
    if found.group() == "\x00":
        raise ValueError("Null characters are not allowed.")
    raise ValueError(f"Surrogate characters are not allowed: U+{ord(found.group()):X}.")


# Every string a client sends goes through this.
Text = Annotated[str, AfterValidator(_text)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Ping(_Message):
    type: Literal["ping"]


class SnapshotRequest(_Message):
    type: Literal["snapshot.request"]


class Leave(_Message):
    type: Literal["leave"]


class HandSet(_Message):
    type: Literal["hand.set"]
    raised: bool


class AudioSet(_Message):
    type: Literal["audio.set"]
    muted: bool


class Report(_Message):
    type: Literal["report"]
    reason: Literal[tuple(ReportReason.values)]  # type: ignore[valid-type]
    details: Annotated[Text, Field(max_length=2000)] = ""
    target_id: Id | None = None


class LobbyAdmit(_Message):
    type: Literal["lobby.admit"]
    participant_ids: Annotated[list[Id], Field(min_length=1, max_length=100)] | None = None
    all: bool = False


class LobbyDeny(_Message):
    type: Literal["lobby.deny"]
    participant_ids: Annotated[list[Id], Field(min_length=1, max_length=100)] | None = None
    all: bool = False


class ParticipantRemove(_Message):
    type: Literal["participant.remove"]
    participant_id: Id
    reason: Annotated[Text, Field(max_length=500)] = ""


class ParticipantMute(_Message):
    type: Literal["participant.mute"]
    participant_id: Id


class MuteAll(_Message):
    type: Literal["participant.mute_all"]


class AskUnmute(_Message):
    type: Literal["participant.ask_unmute"]
    participant_id: Id


class RoomLock(_Message):
    type: Literal["room.lock"]
    locked: bool


class RoomWaitingRoom(_Message):
    type: Literal["room.waiting_room"]
    enabled: bool


class RoomSignedInOnly(_Message):
    type: Literal["room.signed_in_only"]
    enabled: bool


class RoomCapacity(_Message):
    type: Literal["room.capacity"]
    capacity: Annotated[int, Field(ge=1, le=50)]


class RoomScreenShare(_Message):
    type: Literal["room.screen_share"]
    participants_allowed: bool


class RoomEnd(_Message):
    type: Literal["room.end"]


Sdp = Annotated[Text, Field(min_length=1, max_length=MAX_FRAME_BYTES)]


class MediaOffer(_Message):
    type: Literal["media.offer"]
    sdp: Sdp
    # The m-lines (by mid) that carry a screen share rather than the camera.
    screen_mids: Annotated[list[Annotated[Text, Field(max_length=32)]], Field(max_length=2)] = []
    # Echoed in the answer (or the error) to this offer, so a late reply to an earlier offer
    # is never taken for this one.
    offer_id: (
        Annotated[Text, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] | None
    ) = None


class MediaIce(_Message):
    type: Literal["media.ice"]
    candidate: Annotated[Text, Field(max_length=1024)]
    sdp_mid: Annotated[Text, Field(max_length=64)] | None = None
    sdp_mline_index: Annotated[int, Field(ge=0, le=64)] | None = None


TileSide = Annotated[int, Field(ge=0, le=8192)]


class MediaTiles(_Message):
    """The size (device pixels) the client shows each video receive slot (by mid) at."""

    type: Literal["media.tiles"]
    tiles: Annotated[
        dict[
            Annotated[Text, Field(min_length=1, max_length=32)],
            Annotated[list[TileSide], Field(min_length=2, max_length=2)],
        ],
        Field(max_length=32),
    ]


ClientMessage = Annotated[
    Ping
    | SnapshotRequest
    | Leave
    | HandSet
    | AudioSet
    | Report
    | LobbyAdmit
    | LobbyDeny
    | ParticipantRemove
    | ParticipantMute
    | MuteAll
    | AskUnmute
    | RoomLock
    | RoomWaitingRoom
    | RoomSignedInOnly
    | RoomCapacity
    | RoomScreenShare
    | RoomEnd
    | MediaOffer
    | MediaIce
    | MediaTiles,
    Field(discriminator="type"),
]

client_message: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)

# Types anyone admitted may send; everything else is for hosts and co-hosts. Lobby members may
# only ping, ask for their status and leave.
LOBBY_TYPES = frozenset({"ping", "snapshot.request", "leave"})
PARTICIPANT_TYPES = LOBBY_TYPES | {
    "hand.set",
    "audio.set",
    "report",
    "media.offer",
    "media.ice",
    "media.tiles",
}

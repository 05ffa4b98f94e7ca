"""Schemas of the messages a client may send on the room socket, one model per type.

A message that does not fit its schema is answered with an error and changes nothing. Ids of
senders and rooms are never taken from messages: the connection knows who and where it is.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)

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
Text = Annotated[
    str,
    AfterValidator(_text),
    # The same rule for JSON Schema validators (ECMA and Python regexes both read these).
    Field(json_schema_extra={"pattern": r"^[^\x00\ud800-\udfff]*$"}),
]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Ping(_Message):
    """Keeps the connection alive (the web client sends one every 20 s); answered with
    `pong`."""

    type: Literal["ping"]


class SnapshotRequest(_Message):
    """Ask for a fresh `snapshot` (after a version gap); in the lobby, your `lobby.status`
    again."""

    type: Literal["snapshot.request"]


class Leave(_Message):
    """End your visit: answered with `left`, then the socket closes with 4000."""

    type: Literal["leave"]


class HandSet(_Message):
    """Raise or lower your hand (the roster's `hand_raised`)."""

    type: Literal["hand.set"]
    raised: bool


class AudioSet(_Message):
    """Mute or unmute yourself (the roster's `audio_muted`); only you can unmute yourself."""

    type: Literal["audio.set"]
    muted: bool


class CameraSet(_Message):
    """Turn your camera off or on (the roster's `camera_off`): off, the SFU forwards none of
    it and everyone shows your initials. Send it before your first offer to join with the
    camera off."""

    type: Literal["camera.set"]
    off: bool


class Report(_Message):
    """Report the room, or someone in it (`target_id`, their participant `id`); answered
    with `report.received`."""

    type: Literal["report"]
    reason: Literal[tuple(ReportReason.values)]  # type: ignore[valid-type]
    details: Annotated[Text, Field(max_length=2000)] = ""
    target_id: Id | None = None


# Exactly one of `participant_ids` and `"all": true` (the REST API's lobby/admit and
# lobby/deny take the same).
_ONE_OF_IDS_OR_ALL: dict[str, Any] = {
    "oneOf": [
        {"required": ["participant_ids"], "properties": {"all": {"const": False}}},
        {
            "required": ["all"],
            "properties": {"all": {"const": True}},
            "not": {"required": ["participant_ids"]},
        },
    ]
}
ParticipantIds = Annotated[
    list[Id] | None,
    Field(min_length=1, max_length=100, description="The lobby members (their `id`)."),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": 2**53},
            "minItems": 1,
            "maxItems": 100,
        }
    ),
]


class _LobbyDecision(_Message):
    participant_ids: ParticipantIds = None
    all: Annotated[bool, Field(description="Everyone in the lobby.")] = False

    @model_validator(mode="before")
    @classmethod
    def _ids_present_means_not_null(cls, data: Any) -> Any:
        if isinstance(data, dict) and "participant_ids" in data and data["participant_ids"] is None:
            raise ValueError("participant_ids must be a list of ids.")
        return data

    @model_validator(mode="after")
    def _ids_or_all(self) -> Self:
        if (self.participant_ids is None) == (not self.all):
            raise ValueError('Give participant_ids or "all": true, not both.')
        return self


class LobbyAdmit(_LobbyDecision):
    """Hosts and co-hosts: let people in from the lobby."""

    model_config = ConfigDict(json_schema_extra=_ONE_OF_IDS_OR_ALL)
    type: Literal["lobby.admit"]


class LobbyDeny(_LobbyDecision):
    """Hosts and co-hosts: turn people away from the lobby."""

    model_config = ConfigDict(json_schema_extra=_ONE_OF_IDS_OR_ALL)
    type: Literal["lobby.deny"]


class ParticipantRemove(_Message):
    """Hosts and co-hosts: remove someone and ban them from this room."""

    type: Literal["participant.remove"]
    participant_id: Id
    reason: Annotated[Text, Field(max_length=500)] = ""


class ParticipantMute(_Message):
    """Hosts and co-hosts: mute someone (they alone can unmute)."""

    type: Literal["participant.mute"]
    participant_id: Id


class MuteAll(_Message):
    """Hosts and co-hosts: mute everyone but the hosts and co-hosts."""

    type: Literal["participant.mute_all"]


class AskUnmute(_Message):
    """Hosts and co-hosts: ask someone to unmute (they get `unmute.requested`)."""

    type: Literal["participant.ask_unmute"]
    participant_id: Id


class RoomLock(_Message):
    """Hosts and co-hosts: lock or unlock the room (REST: lock/, unlock/, `locked`)."""

    type: Literal["room.lock"]
    locked: bool


def _renamed(new: str, old: str) -> dict[str, Any]:
    """The JSON Schema of a setting message whose field was renamed to the REST API's name:
    exactly one of the two names."""
    return {"oneOf": [{"required": ["type", new]}, {"required": ["type", old]}]}


def _deprecated_name(new: str) -> Any:
    return Field(
        description=f"Deprecated: the old name of `{new}`, accepted until the next major version.",
        json_schema_extra={"deprecated": True},
    )


Flag = Annotated[bool | None, WithJsonSchema({"type": "boolean"})]


class _RenamedSetting(_Message):
    """A setting with the REST API's field name, also accepted under its old name."""

    _names: ClassVar[tuple[str, str]]

    @model_validator(mode="before")
    @classmethod
    def _one_name(cls, data: Any) -> Any:
        if isinstance(data, dict):
            new, old = cls._names
            given = [name for name in (new, old) if name in data]
            if not given:
                raise ValueError(f"Give {new} (true or false).")
            if len(given) > 1:
                raise ValueError(f"Give {new} only: {old} is its deprecated name.")
            if data[given[0]] is None:
                raise ValueError(f"{new} must be true or false.")
        return data

    @property
    def value(self) -> bool:
        new, old = self._names
        found = getattr(self, new)
        return bool(getattr(self, old) if found is None else found)


class RoomWaitingRoom(_RenamedSetting):
    """Hosts and co-hosts: turn the waiting room on or off (off lets in everyone who waits
    for admission)."""

    model_config = ConfigDict(json_schema_extra=_renamed("waiting_room", "enabled"))
    _names = ("waiting_room", "enabled")
    type: Literal["room.waiting_room"]
    waiting_room: Flag = None
    enabled: Annotated[Flag, _deprecated_name("waiting_room")] = None


class RoomSignedInOnly(_RenamedSetting):
    """Hosts and co-hosts: only people signed in to the site may join from now on."""

    model_config = ConfigDict(json_schema_extra=_renamed("signed_in_only", "enabled"))
    _names = ("signed_in_only", "enabled")
    type: Literal["room.signed_in_only"]
    signed_in_only: Flag = None
    enabled: Annotated[Flag, _deprecated_name("signed_in_only")] = None


class RoomCapacity(_Message):
    """Hosts and co-hosts: the number of seats (people already in keep theirs)."""

    type: Literal["room.capacity"]
    capacity: Annotated[int, Field(ge=1, le=50)]


class RoomScreenShare(_RenamedSetting):
    """Hosts and co-hosts: whether participants may share their screen (hosts always may)."""

    model_config = ConfigDict(
        json_schema_extra=_renamed("participants_can_share_screen", "participants_allowed")
    )
    _names = ("participants_can_share_screen", "participants_allowed")
    type: Literal["room.screen_share"]
    participants_can_share_screen: Flag = None
    participants_allowed: Annotated[Flag, _deprecated_name("participants_can_share_screen")] = None


class RoomEnd(_Message):
    """Hosts and co-hosts: end the room for everyone."""

    type: Literal["room.end"]


Sdp = Annotated[Text, Field(min_length=1, max_length=MAX_FRAME_BYTES)]


class MediaOffer(_Message):
    """Your SDP offer, first or renegotiation (one peer connection, max-bundle): answered
    with `media.answer`, or an error with the same `offer_id`."""

    type: Literal["media.offer"]
    sdp: Sdp
    # The m-lines (by mid) that carry a screen share rather than the camera.
    screen_mids: Annotated[list[Annotated[Text, Field(max_length=32)]], Field(max_length=2)] = []
    # Echoed in the answer (or the error) to this offer, so a late reply to an earlier offer
    # is never taken for this one.
    offer_id: (
        Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] | None
    ) = None


class MediaIce(_Message):
    """A trickled ICE candidate of your peer connection."""

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
        # pydantic states the key rule as patternProperties, which alone lets other keys
        # through: say that no other key is allowed.
        Field(max_length=32, json_schema_extra={"additionalProperties": False}),
    ]


ClientMessage = Annotated[
    Ping
    | SnapshotRequest
    | Leave
    | HandSet
    | AudioSet
    | CameraSet
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


def parse(raw: object) -> ClientMessage:
    """The message a client sent (its parsed JSON); ValidationError when it does not fit."""
    return client_message.validate_python(raw)


# Types anyone admitted may send; everything else is for hosts and co-hosts. Lobby members may
# only ping, ask for their status and leave.
LOBBY_TYPES = frozenset({"ping", "snapshot.request", "leave"})
PARTICIPANT_TYPES = LOBBY_TYPES | {
    "hand.set",
    "audio.set",
    "camera.set",
    "report",
    "media.offer",
    "media.ice",
    "media.tiles",
}

"""What the server sends on Rooms' two sockets, one typed dict per frame type.

The room socket (`rooms.consumers`) and the feed socket (`rooms.feed_socket`) build their frames
as these types, and the socket contract (`rooms.socket_schema`, served at `api/schema/socket/`,
rendered in docs/socket.md) is generated from them and from the client messages the server
validates with (`rooms.messages`). Pure and free of Django, like `rooms.snapshots`.

Clients ignore fields and frame types they do not know: new ones may be added.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field
from typing_extensions import TypedDict, get_type_hints

from rooms.snapshots import ParticipantPublic, RoomPublic

# --- the room socket: the visit -----------------------------------------------------------------


class Hello(TypedDict):
    """The first frame of every accepted connection. Keep `resume_token`: after a drop,
    reconnect within the grace period (15 s) with `?resume=<resume_token>` to keep the seat.
    Every hello carries a new token; the one before is spent."""

    type: Literal["hello"]
    resume_token: Annotated[str, Field(description="For `?resume=` after a drop.")]


LobbyReasonName = Literal["waiting_for_host", "waiting_room", "not_started"]


class LobbyStatus(TypedDict):
    """You wait in the lobby, and why; sent again whenever the reason changes. Lobby members
    hear nothing else about the room. Admission brings a `snapshot`; a refusal
    `lobby.denied`."""

    type: Literal["lobby.status"]
    reason: Annotated[
        LobbyReasonName,
        Field(
            description="`waiting_for_host`: no host or co-host is in; `not_started`: the "
            "scheduled start is still ahead; `waiting_room`: a host lets people in one by one."
        ),
    ]


class IceServer(TypedDict):
    """A TURN server for the client's RTCPeerConnection (`iceServers`)."""

    urls: list[str]
    username: str
    credential: str


class You(ParticipantPublic):
    """Your own visit: a roster entry, plus your rights and TURN servers."""

    can_share_screen: Annotated[
        bool, Field(description="Whether the SFU takes a screen share from you now.")
    ]
    ice_servers: Annotated[
        list[IceServer],
        Field(description="TURN credentials, short-lived; empty when the site runs no TURN."),
    ]


class SnapshotFrame(TypedDict):
    """The whole room as of `version`: on admission, when your role changes, after
    `snapshot.request`, and after the server lost events (it reconnected to Redis). Replace
    what you hold, then apply events from `version + 1`."""

    type: Literal["snapshot"]
    version: Annotated[int, Field(description="The room's version this snapshot is at.")]
    room: RoomPublic
    roster: Annotated[
        list[ParticipantPublic], Field(description="Everyone admitted, by `id`, you included.")
    ]
    you: You
    lobby: NotRequired[
        Annotated[
            list[ParticipantPublic],
            Field(description="Hosts and co-hosts only: who waits in the lobby, by `id`."),
        ]
    ]


class TurnCredentials(TypedDict):
    """Fresh TURN credentials, halfway through the lifetime of the last ones (only when the
    site runs TURN). Use them for the next peer connection you build."""

    type: Literal["turn.credentials"]
    ice_servers: list[IceServer]


class Pong(TypedDict):
    """The answer to `ping`."""

    type: Literal["pong"]


class ReportReceived(TypedDict):
    """Your `report` was recorded; the moderators will look at it."""

    type: Literal["report.received"]


class UnmuteRequested(TypedDict):
    """A host or co-host asks you to unmute. Only you can unmute yourself (`audio.set`)."""

    type: Literal["unmute.requested"]


class Problem(TypedDict):
    field: Annotated[str, Field(description="The field (dotted path) or `type`.")]
    problem: str


class Error(TypedDict):
    """A message was refused (and changed nothing), or something went wrong on the server.

    Codes: `invalid_message` (with `problems`), `bad_json`, `text_only`, `too_large`,
    `not_admitted`, `not_a_host`, `slow_down`, `flooding` (then the socket closes with 4029),
    `too_many_changes` and `unavailable` (with `retry_after`), `media_unavailable`,
    `server_error`, the REST API's error codes for the same action (`room_ended`,
    `participant_not_found`, ...), and for `regarding: "media"` the SFU's
    (`negotiation_error`, `screen_share_forbidden`, `invalid_candidate`,
    `unknown_participant`, `room_closed`)."""

    type: Literal["error"]
    code: str
    message: Annotated[str, Field(description="For people, in English.")]
    regarding: NotRequired[
        Annotated[
            str,
            Field(
                description="The `type` of the client message this answers (`media` for the "
                "SFU's errors about your media)."
            ),
        ]
    ]
    retry_after: NotRequired[
        Annotated[int, Field(ge=0, description="Seconds to wait before trying again.")]
    ]
    problems: NotRequired[Annotated[list[Problem], Field(max_length=5)]]
    offer_id: NotRequired[
        Annotated[str, Field(description="The `offer_id` of the offer this error answers.")]
    ]


# --- the room socket: the end of a visit --------------------------------------------------------
# Each is followed by a close with its code (the close code alone says the same).


ActedBy = Literal["host", "cohost", "moderator", ""]
_ACTED_BY = Field(
    description="Who did it: `host`, `cohost` or `moderator` (the site's staff, from the "
    "admin); empty when not known."
)


class Removed(TypedDict):
    """A host or co-host removed you (close code 4004). You are banned from this room until
    a host lifts the ban."""

    type: Literal["removed"]
    reason: Annotated[str, Field(description="The host's words, may be empty.")]
    by: NotRequired[Annotated[ActedBy, _ACTED_BY]]


class LobbyDenied(TypedDict):
    """A host turned you away from the lobby (close code 4003)."""

    type: Literal["lobby.denied"]
    by: NotRequired[Annotated[ActedBy, _ACTED_BY]]


class Left(TypedDict):
    """Your visit is over: you sent `leave`, left through the API, or your seat was released
    (close code 4000)."""

    type: Literal["left"]


class Replaced(TypedDict):
    """You opened this visit on another connection, which took over (close code 4009). The
    visit goes on there."""

    type: Literal["replaced"]
    message: str


EndedBy = Literal["host", "cohost", "moderator", "idle", "no_show", ""]


class RoomEndedData(TypedDict):
    ended_by: Annotated[
        EndedBy,
        Field(
            description="`host`, `cohost`, `moderator` (from the admin), `idle` (nobody was "
            "left), `no_show` (the host never came); empty when not known."
        ),
    ]
    by_staff: NotRequired[bool]
    reason: NotRequired[Literal["idle", "no_show"]]


# --- the room socket: the room's events --------------------------------------------------------


class _Event(TypedDict):
    version: Annotated[
        int, Field(ge=1, description="The room's version after this change: yours + 1.")
    ]
    room: Annotated[RoomPublic, Field(description="The room after this change.")]


class _PersonEvent(_Event):
    participant: Annotated[ParticipantPublic, Field(description="The person after this change.")]


class RoomEnded(_Event):
    """The room ended for everyone (close code 4005). Sent as the room's event and, to each
    person, as the frame before the close; both carry the same `version`, so applying the
    second changes nothing."""

    type: Literal["room.ended"]
    data: RoomEndedData
    ended_by: NotRequired[
        Annotated[
            EndedBy,
            Field(
                description="Deprecated: the same as `data.ended_by`, on the frame before the "
                "close only.",
                json_schema_extra={"deprecated": True},
            ),
        ]
    ]


class RoomVersion(TypedDict):
    """A change you may not hear about (the lobby, if you are not a host; reports;
    invitations): your version moves on, nothing else changes."""

    type: Literal["room.version"]
    version: Annotated[int, Field(ge=1)]


class RoomOpened(_Event):
    """A host or co-host came in: the room is open (`room.state` is `open`)."""

    type: Literal["room.opened"]


class RoomChanges(TypedDict, total=False):
    """The settings that changed, with their new values (the REST API's names)."""

    title: str
    description: str
    scheduled_start: str | None
    audience: Literal["friends", "invite_only"]
    password_set: Annotated[bool, Field(description="Whether the room has a password now.")]
    waiting_room: bool
    signed_in_only: bool
    participants_can_share_screen: bool
    several_screen_shares: bool
    capacity: int
    locked: bool


class RoomUpdatedData(TypedDict):
    changes: RoomChanges


class RoomUpdated(_Event):
    """Settings changed (`PATCH rooms/<token>/` or a host control on this socket)."""

    type: Literal["room.updated"]
    data: RoomUpdatedData


class ActedByData(TypedDict):
    by: Annotated[ActedBy, _ACTED_BY]


class RoomLockedData(TypedDict, total=False):
    """`by` when a person locked it; `reason` when it locked itself."""

    by: Annotated[ActedBy, _ACTED_BY]
    reason: Annotated[
        Literal["host_left"],
        Field(description="The room locked itself: its last host or co-host left."),
    ]


class RoomLocked(_Event):
    """Nobody new gets in (people who drop may still come back within the grace period)."""

    type: Literal["room.locked"]
    data: NotRequired[RoomLockedData]


class RoomUnlocked(_Event):
    """The room is unlocked."""

    type: Literal["room.unlocked"]
    data: NotRequired[ActedByData]


class LobbyWaitingData(TypedDict):
    reason: LobbyReasonName


class RoomLobbyWaiting(_PersonEvent):
    """Hosts and co-hosts: someone waits in the lobby (`participant.state` is `lobby`), or
    their reason changed."""

    type: Literal["room.lobby_waiting"]
    data: LobbyWaitingData


class RoomLobbyDenied(_PersonEvent):
    """Hosts and co-hosts: someone was turned away from the lobby."""

    type: Literal["room.lobby_denied"]
    data: NotRequired[ActedByData]


class RoomParticipantJoined(_PersonEvent):
    """Someone was admitted (`participant.state` is `admitted`)."""

    type: Literal["room.participant_joined"]


class ParticipantLeftData(TypedDict):
    vanished: Annotated[
        bool,
        Field(description="Their connection dropped and the grace period passed."),
    ]


class RoomParticipantLeft(_PersonEvent):
    """Someone left. About someone who only waited in the lobby: hosts and co-hosts only."""

    type: Literal["room.participant_left"]
    data: NotRequired[ParticipantLeftData]


class RoomParticipantRemoved(_PersonEvent):
    """A host or co-host removed someone (`participant.state` is `removed`)."""

    type: Literal["room.participant_removed"]
    data: NotRequired[ActedByData]


class ParticipantUpdatedData(TypedDict, total=False):
    """What changed: one of `connected`, `hand_raised`, `camera_off`, or `muted` (with
    `by_self`)."""

    connected: bool
    hand_raised: bool
    camera_off: Annotated[
        bool,
        Field(description="They turned their camera off (show their initials) or on again."),
    ]
    muted: bool
    by_self: Annotated[bool, Field(description="They muted or unmuted themselves.")]


class RoomParticipantUpdated(_PersonEvent):
    """Someone's hand, microphone, camera or connection changed."""

    type: Literal["room.participant_updated"]
    data: ParticipantUpdatedData


class RoomUnmuteRequested(_PersonEvent):
    """Hosts and co-hosts: a host or co-host asked this person to unmute."""

    type: Literal["room.unmute_requested"]


class CohostAddedData(TypedDict):
    user_id: int
    name: str


class RoomCohostAdded(_Event):
    """The host named a co-host; `participant` is their visit when they are in the room."""

    type: Literal["room.cohost_added"]
    participant: NotRequired[ParticipantPublic]
    data: CohostAddedData


class CohostRemovedData(TypedDict):
    user_id: int


class RoomCohostRemoved(_Event):
    """The host took a co-host's role away; `participant` is their visit when they are in."""

    type: Literal["room.cohost_removed"]
    participant: NotRequired[ParticipantPublic]
    data: CohostRemovedData


class BanLiftedData(TypedDict):
    name: Annotated[str, Field(description="The name the ban was recorded under.")]


class RoomBanLifted(_Event):
    """Hosts and co-hosts: a ban was lifted."""

    type: Literal["room.ban_lifted"]
    data: BanLiftedData


class InvitationsChangedData(TypedDict, total=False):
    user_ids: Annotated[list[int], Field(description="Invited now.")]
    user_id: Annotated[int, Field(description="No longer invited.")]


class RoomInvitationsChanged(_Event):
    """Hosts and co-hosts: people were invited, or an invitation was withdrawn."""

    type: Literal["room.invitations_changed"]
    data: InvitationsChangedData


# The room's versioned events, in the order docs/socket.md lists them.
ROOM_EVENTS: tuple[type, ...] = (
    RoomOpened,
    RoomUpdated,
    RoomLocked,
    RoomUnlocked,
    RoomEnded,
    RoomLobbyWaiting,
    RoomLobbyDenied,
    RoomParticipantJoined,
    RoomParticipantLeft,
    RoomParticipantRemoved,
    RoomParticipantUpdated,
    RoomUnmuteRequested,
    RoomCohostAdded,
    RoomCohostRemoved,
    RoomBanLifted,
    RoomInvitationsChanged,
    RoomVersion,
)


# --- the room socket: media ---------------------------------------------------------------------


class RoomSpeakers(TypedDict):
    """The loudest speakers whose audio the SFU forwards now (at most 3), loudest first.
    Unversioned: apply it as it comes."""

    type: Literal["room.speakers"]
    participant_ids: list[int]


class MediaAnswer(TypedDict):
    """The SFU's SDP answer to your `media.offer`."""

    type: Literal["media.answer"]
    sdp: str
    offer_id: NotRequired[
        Annotated[str, Field(description="The `offer_id` of the offer this answers.")]
    ]


class MediaRenegotiate(TypedDict):
    """Offer again with more receive slots. The counts are totals, not increments: your next
    offer should hold at least this many `recvonly` audio and video transceivers in all. Also
    sent with the counts unchanged when a slot changed owner: the answer to your new offer puts
    that person's audio and camera in one MediaStream (`a=msid`), so they play in sync."""

    type: Literal["media.renegotiate"]
    audio_slots: Annotated[int, Field(ge=0)]
    video_slots: Annotated[int, Field(ge=0)]


class SlotSource(TypedDict):
    """Whose media a receive slot carries, and what it is."""

    participant_id: Annotated[int, Field(description="The roster `id` of its owner.")]
    kind: Annotated[
        Literal["audio", "camera", "screen"],
        Field(description="A screen share comes from the m-line its owner named in screen_mids."),
    ]


class MediaSlots(TypedDict):
    """What each of your receive slots carries now, audio and video alike, by the slot's SDP
    `mid`: whose it is and whether it is audio, a camera or a screen share, or null when the
    slot is idle. Always the whole map, so the last one received is the truth. A video slot
    changes when the switch really happens (at the new source's keyframe); a stopped screen
    share empties its slot at once."""

    type: Literal["media.slots"]
    slots: dict[str, SlotSource | None]


class MediaState(TypedDict):
    """Your media connection's state. `failed` means build a new peer connection and offer
    again (reasons: `media_reset`: the server may have lost your peer; `worker_moved`: the
    room moved to another media worker). `moving` (reason `worker_draining`): the room moves
    to another worker that is ready; connect anew, then close the old connection."""

    type: Literal["media.state"]
    state: Literal["new", "connecting", "connected", "moving", "failed", "closed"]
    reason: NotRequired[str]


class MediaStats(TypedDict):
    """Your peer's packet counters in the SFU, RTP only: totals since this peer connection
    was made (not increments), sent every ten seconds."""

    type: Literal["media.stats"]
    packets_in: Annotated[int, Field(ge=0)]
    packets_out: Annotated[int, Field(ge=0)]
    bytes_in: Annotated[int, Field(ge=0)]
    bytes_out: Annotated[int, Field(ge=0)]
    packets_dropped: Annotated[int, Field(ge=0)]


# What the room socket sends (`RoomConsumer.send_json` takes nothing else).
RoomFrame = (
    Hello
    | LobbyStatus
    | SnapshotFrame
    | RoomOpened
    | RoomUpdated
    | RoomLocked
    | RoomUnlocked
    | RoomEnded
    | RoomLobbyWaiting
    | RoomLobbyDenied
    | RoomParticipantJoined
    | RoomParticipantLeft
    | RoomParticipantRemoved
    | RoomParticipantUpdated
    | RoomUnmuteRequested
    | RoomCohostAdded
    | RoomCohostRemoved
    | RoomBanLifted
    | RoomInvitationsChanged
    | RoomVersion
    | RoomSpeakers
    | MediaAnswer
    | MediaRenegotiate
    | MediaSlots
    | MediaState
    | MediaStats
    | TurnCredentials
    | Pong
    | ReportReceived
    | UnmuteRequested
    | Error
    | Removed
    | LobbyDenied
    | Left
    | Replaced
)

ROOM_FRAMES: tuple[type, ...] = (
    Hello,
    LobbyStatus,
    SnapshotFrame,
    *ROOM_EVENTS,
    RoomSpeakers,
    MediaAnswer,
    MediaRenegotiate,
    MediaSlots,
    MediaState,
    MediaStats,
    TurnCredentials,
    Pong,
    ReportReceived,
    UnmuteRequested,
    Error,
    Removed,
    LobbyDenied,
    Left,
    Replaced,
)


# --- the feed socket ----------------------------------------------------------------------------


class CardPerson(TypedDict):
    id: int
    display_name: str


class RoomCard(TypedDict):
    """A room as a feed shows it: exactly an entry of `GET rooms/feed/`."""

    token: str
    link: str
    title: str
    description: str
    host: CardPerson
    state: Literal["scheduled", "open"]
    scheduled_start: str | None
    participant_count: int
    host_present: bool
    friends_inside: list[CardPerson]
    audience: Literal["friends", "invite_only"]
    has_password: bool


class FeedRoom(TypedDict):
    """A room in your feed is new or changed: replace its card (by `room.token`)."""

    type: Literal["feed.room"]
    room: RoomCard


class FeedRoomRemoved(TypedDict):
    """A room left your feed (it ended, or you may no longer see it)."""

    type: Literal["feed.room_removed"]
    token: str


class FeedError(TypedDict):
    """The feed socket is read-only: anything you send is answered with `read_only`."""

    type: Literal["error"]
    code: Literal["read_only"]
    message: str


FEED_FRAMES: tuple[type, ...] = (FeedRoom, FeedRoomRemoved, FeedError)
FeedFrame = FeedRoom | FeedRoomRemoved | FeedError

# The host site's frames on the feed socket (`rooms.feed_socket.push`), by type: the site
# declares them with `register_push_frame` so that the contract lists them too.
PUSH_FRAMES: dict[str, type] = {}


def register_push_frame(frame: type) -> type:
    """Declare a frame the host site pushes to feed sockets: a TypedDict (or pydantic model)
    whose `type` field is a `Literal`. Use as a class decorator, in an app's `ready()`
    import path."""
    annotation: Any = get_type_hints(frame).get("type")
    kinds = getattr(annotation, "__args__", None)
    if not kinds or not all(isinstance(kind, str) for kind in kinds):
        raise TypeError(f"{frame.__name__} needs a `type: Literal[...]` field")
    for kind in kinds:
        PUSH_FRAMES[kind] = frame
    from rooms import socket_schema  # the contract is built once; this changes it

    socket_schema.forget()
    return frame

"""The live room state a client holds: a snapshot, moved on by versioned events.

Pure and free of Django, so out-of-process clients (the bot) use the same logic as tests; the
browser client mirrors `apply_event`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

# The values of the models' choices (rooms.models), spelled out for the socket contract.
RoomStateName = Literal["scheduled", "open", "ended"]
AudienceName = Literal["friends", "invite_only"]
RoleName = Literal["host", "cohost", "participant"]
ParticipantStateName = Literal["lobby", "admitted", "left", "denied", "removed"]
LobbyReasonOrNone = Literal["waiting_for_host", "waiting_room", "not_started", ""]


class RoomPublic(TypedDict):
    """The room as everyone in it sees it; the fields have the REST API's names."""

    token: str
    title: str
    description: str
    state: RoomStateName
    audience: AudienceName
    capacity: int
    locked: bool
    waiting_room: bool
    signed_in_only: bool
    participants_can_share_screen: bool
    several_screen_shares: bool
    has_password: bool
    scheduled_start: Annotated[str | None, Field(description="ISO 8601, or null.")]
    host_id: Annotated[int, Field(description="The host's user id.")]


class ParticipantPublic(TypedDict):
    """One visit to the room (a person in the roster or the lobby)."""

    id: Annotated[int, Field(description="The visit's id: the `participant_id` of messages.")]
    display_name: str
    role: RoleName
    state: ParticipantStateName
    lobby_reason: Annotated[
        LobbyReasonOrNone,
        Field(description="Why they wait (empty when not in the lobby)."),
    ]
    is_guest: bool
    user_id: Annotated[int | None, Field(description="Their account, null for a guest.")]
    audio_muted: bool
    camera_off: bool
    hand_raised: bool
    connected: Annotated[bool, Field(description="False while their connection is dropped.")]


class Snapshot(TypedDict):
    version: int
    room: RoomPublic
    roster: list[ParticipantPublic]
    lobby: NotRequired[list[ParticipantPublic]]


# --- the client's logic ---------------------------------------------------------------------


def apply_event(snapshot: Snapshot, event: dict[str, Any]) -> Snapshot | None:
    """Apply one event to a snapshot.

    Events the snapshot already contains (version not above it) change nothing: a socket joins
    the room group before its snapshot is read, so it may hear a few of those first. None means
    a version was missed: fetch a fresh snapshot.
    """
    version = event.get("version")
    if not isinstance(version, int):
        return snapshot
    if version <= snapshot["version"]:
        return snapshot
    if version != snapshot["version"] + 1:
        return None
    updated: Snapshot = {
        "version": event["version"],
        "room": event.get("room", snapshot["room"]),
        "roster": list(snapshot["roster"]),
    }
    if "lobby" in snapshot:
        updated["lobby"] = list(snapshot["lobby"])
    person: ParticipantPublic | None = event.get("participant")
    if person is not None:
        updated["roster"] = [p for p in updated["roster"] if p["id"] != person["id"]]
        if person["state"] == "admitted":
            updated["roster"].append(person)
            updated["roster"].sort(key=lambda p: p["id"])
        if "lobby" in updated:
            updated["lobby"] = [p for p in updated["lobby"] if p["id"] != person["id"]]
            if person["state"] == "lobby":
                updated["lobby"].append(person)
                updated["lobby"].sort(key=lambda p: p["id"])
    return updated

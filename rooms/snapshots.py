"""The live room state a client holds: a snapshot, moved on by versioned events.

Pure and free of Django, so out-of-process clients (the bot) use the same logic as tests; the
browser client mirrors `apply_event`.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class RoomPublic(TypedDict):
    token: str
    title: str
    description: str
    state: str
    audience: str
    capacity: int
    locked: bool
    waiting_room: bool
    signed_in_only: bool
    participants_can_share_screen: bool
    several_screen_shares: bool
    has_password: bool
    scheduled_start: str | None
    host_id: int


class ParticipantPublic(TypedDict):
    id: int
    display_name: str
    role: str
    state: str
    lobby_reason: str
    is_guest: bool
    user_id: int | None
    audio_muted: bool
    camera_off: bool
    hand_raised: bool
    connected: bool


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

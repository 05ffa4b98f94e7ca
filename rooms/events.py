"""Room events: what live clients are told, and the one way they are published.

Every audited change (`rooms.services._common._record`) is exactly one event with the room's next
version, published after the transaction commits. A client loads a snapshot, then applies
events; when an event's version is not its version + 1 it asks for a fresh snapshot (the channel
layer is at-most-once). `apply_event` is that client logic, shared by tests and the bot, and the
browser client mirrors it.

Audiences: people in the room (the room group) get every event, but events about the lobby are
for hosts and co-hosts only; everyone else gets a bare `room.version` tick for them, so their
version sequence has no gaps and they learn nothing about who waits.
"""

from __future__ import annotations

import enum
import logging
from typing import Any, NotRequired, TypedDict, cast

from rooms import outbox, publisher, snapshots
from rooms.models import Participant, Room
from rooms.sfu.protocol import participant_group, room_group
from rooms.snapshots import ParticipantPublic, RoomPublic, Snapshot, apply_event

__all__ = ["ParticipantPublic", "RoomPublic", "Snapshot", "apply_event"]

log = logging.getLogger(__name__)


# The channel groups: a room's people, one participant's sockets, one person's feed sockets.
# The first two are where the SFU workers send too, so their names are defined once, in the
# media contract (rooms.sfu.protocol), which cannot import Django.
__all__ += ["feed_group", "participant_group", "room_group"]


def feed_group(user_id: int) -> str:
    return f"feed.{user_id}"


class Audience(enum.StrEnum):
    ROOM = "room"  # everyone admitted
    MODERATORS = "moderators"  # hosts and co-hosts; the others get a version tick
    NOBODY = "nobody"  # a version tick for everyone (e.g. reports, invitations)


class RoomEvent(TypedDict):
    type: str  # e.g. "room.participant_joined"
    version: int
    room: RoomPublic
    participant: NotRequired[ParticipantPublic]
    data: NotRequired[dict[str, Any]]


# Audit kind -> (event type, audience). A kind missing here is a programming error.
EVENTS: dict[str, tuple[str, Audience]] = {
    "room.created": ("room.created", Audience.NOBODY),
    "room.opened": ("room.opened", Audience.ROOM),
    "room.updated": ("room.updated", Audience.ROOM),
    "room.locked": ("room.locked", Audience.ROOM),
    "room.unlocked": ("room.unlocked", Audience.ROOM),
    "room.ended": ("room.ended", Audience.ROOM),
    "participant.waiting": ("room.lobby_waiting", Audience.MODERATORS),
    "participant.denied": ("room.lobby_denied", Audience.MODERATORS),
    "participant.admitted": ("room.participant_joined", Audience.ROOM),
    "participant.left": ("room.participant_left", Audience.ROOM),
    "participant.removed": ("room.participant_removed", Audience.ROOM),
    "participant.updated": ("room.participant_updated", Audience.ROOM),
    "participant.muted": ("room.participant_updated", Audience.ROOM),
    "participant.unmute_requested": ("room.unmute_requested", Audience.MODERATORS),
    "cohost.added": ("room.cohost_added", Audience.ROOM),
    "cohost.removed": ("room.cohost_removed", Audience.ROOM),
    "ban.lifted": ("room.ban_lifted", Audience.MODERATORS),
    "invitations.added": ("room.invitations_changed", Audience.MODERATORS),
    "invitation.removed": ("room.invitations_changed", Audience.MODERATORS),
    "report.created": ("room.version", Audience.NOBODY),
    "report.resolved": ("room.version", Audience.NOBODY),
}


def for_participant(event: RoomEvent, audience: str, *, is_moderator: bool) -> dict[str, Any]:
    """What one socket receives of a room event (the audience was chosen when it was
    recorded: see `rooms.services._common._record`)."""
    if audience == Audience.ROOM or (audience == Audience.MODERATORS and is_moderator):
        return dict(event)
    return {"type": "room.version", "version": event["version"]}


# --- publishing -----------------------------------------------------------------------------


def _send(group: str, message: dict[str, Any]) -> None:
    try:
        publisher.group_send(group, message)
    except Exception:
        # Publishing is best effort: the database already holds the truth, and clients that
        # miss an event notice the version gap and ask for a snapshot.
        log.exception("could not publish to %s", group)


def publish_room_event(room_id: int, event: RoomEvent, audience: Audience) -> None:
    """Send after commit. MUST be called inside the transaction that made the change."""
    message = {"type": "room.event", "event": event, "audience": audience.value}
    outbox.after_commit("room event", lambda: _send(room_group(room_id), message))


def notify_participant(participant_id: int, **data: Any) -> None:
    """Tell one participant's sockets to re-read their own state (after commit)."""
    message = {"type": "participant.changed", **data}
    outbox.after_commit(
        "participant notice", lambda: _send(participant_group(participant_id), message)
    )


def send_now(group: str, message: dict[str, Any]) -> None:
    """Send outside any transaction (e.g. unversioned speaker updates)."""
    _send(group, message)


# --- building payloads ----------------------------------------------------------------------


def room_public(room: Room) -> RoomPublic:
    return {
        "token": room.token,
        "title": room.title,
        "description": room.description,
        "state": cast(snapshots.RoomStateName, room.state),
        "audience": cast(snapshots.AudienceName, room.audience),
        "capacity": room.capacity,
        "locked": room.locked,
        "waiting_room": room.waiting_room,
        "signed_in_only": room.signed_in_only,
        "participants_can_share_screen": room.participants_can_share_screen,
        "several_screen_shares": room.several_screen_shares,
        "has_password": room.has_password,
        "scheduled_start": room.scheduled_start.isoformat() if room.scheduled_start else None,
        "host_id": room.host_id,
    }


def participant_public(participant: Participant) -> ParticipantPublic:
    return {
        "id": participant.pk,
        "display_name": participant.display_name,
        "role": cast(snapshots.RoleName, participant.role),
        "state": cast(snapshots.ParticipantStateName, participant.state),
        "lobby_reason": cast(snapshots.LobbyReasonOrNone, participant.lobby_reason),
        "is_guest": participant.user_id is None,
        "user_id": participant.user_id,
        "audio_muted": participant.audio_muted,
        "camera_off": participant.camera_off,
        "hand_raised": participant.hand_raised,
        "connected": participant.disconnected_at is None,
    }

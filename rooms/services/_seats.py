"""Seats shared by several concerns: a person's active visit, whether a host or co-host still
holds a seat, and freeing the seats of people whose connection vanished. Internal to
`rooms.services`; call with the room row locked where a function says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from rooms.errors import NotFound
from rooms.models import ACTIVE_STATES, LobbyReason, Participant, ParticipantState, Role, Room
from rooms.services._common import Identity, _record


def _active_visit(room: Room, identity: Identity) -> Participant | None:
    visits = Participant.objects.filter(room=room, state__in=ACTIVE_STATES)
    if identity.user is not None:
        return visits.filter(user=identity.user).first()
    if identity.guest_id:
        return visits.filter(guest_id=identity.guest_id, user__isnull=True).first()
    return None


def _moderator_seated(room: Room) -> bool:
    """A host or co-host still holds a seat (connected, or dropped within the grace period).

    The room locks itself only when this becomes false: a dropped connection is not a leave.
    """
    return Participant.objects.filter(
        room=room, state=ParticipantState.ADMITTED, role__in=(Role.HOST, Role.COHOST)
    ).exists()


def _release_vanished(room: Room, now: datetime) -> None:
    """Free the seats of people whose socket has been gone longer than the grace period.

    Their leave time is when they vanished. Call with the room row locked.
    """
    cutoff = now - timedelta(seconds=settings.ROOMS_RESUME_GRACE_SECONDS)
    gone = list(
        Participant.objects.filter(
            room=room, state__in=ACTIVE_STATES, disconnected_at__lt=cutoff
        ).order_by("disconnected_at", "pk")
    )
    if not gone:
        return
    had_moderator = _moderator_seated(room)
    for participant in gone:
        participant.state = ParticipantState.LEFT
        participant.left_at = participant.disconnected_at
        participant.ticket_nonce = ""
        participant.resume_nonce = ""
        participant.save(update_fields=["state", "left_at", "ticket_nonce", "resume_nonce"])
        _record(room, "participant.left", target=participant, vanished=True)
    if had_moderator and not _moderator_seated(room):
        _on_moderators_gone(room)


def _admitted(room: Room, participant_id: int) -> Participant:
    participant = Participant.objects.filter(
        room=room, pk=participant_id, state=ParticipantState.ADMITTED
    ).first()
    if participant is None:
        raise NotFound("participant_not_found", _("That person is not in this room."))
    return participant


def _room_id_of(participant_id: int) -> int:
    room_id = (
        Participant.objects.filter(pk=participant_id).values_list("room_id", flat=True).first()
    )
    if room_id is None:
        raise NotFound("not_in_room", _("You are not in this room."))
    return room_id


def _on_moderators_gone(room: Room) -> None:
    if not room.locked:
        room.locked = True
        room.save(update_fields=["locked"])
        _record(room, "room.locked", reason="host_left")
    Participant.objects.filter(
        room=room, state=ParticipantState.LOBBY, lobby_reason=LobbyReason.WAITING_ROOM
    ).update(lobby_reason=LobbyReason.WAITING_FOR_HOST)

"""Being in the room: sockets connect, drop and resume; web-process leases; releasing seats
whose connection vanished; hands and one's own microphone; leaving.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from rooms import media_control
from rooms.adapter import get_adapter
from rooms.errors import Forbidden, NotFound
from rooms.models import ACTIVE_STATES, Participant, ParticipantState, Room, SocketServer
from rooms.services._common import Identity, _lock_room, _now, _record
from rooms.services._seats import (
    _active_visit,
    _admitted,
    _moderator_seated,
    _on_moderators_gone,
    _release_vanished,
    _room_id_of,
)
from rooms.services.admission import _host_arrived, _resume_token


@dataclass(frozen=True, slots=True)
class Connection:
    participant: Participant
    resume_token: str
    was_disconnected: bool = False


def participant_connected(
    *,
    participant_id: int,
    resume_nonce: str | None = None,
    server: str = "",
    now: datetime | None = None,
) -> Connection:
    """A socket for this visit is up (after a ticket or resume token was checked).

    With `resume_nonce` (from `participant_resume`), the resume token is spent here, in the
    same transaction that marks the seat connected: a connect that fails before this point
    (the channel layer or the database down) leaves the token usable for the next attempt.
    `server` names the web process holding the socket (`rooms.lease`): its lease keeps the
    seat counted as connected. Returns a fresh resume token: the previous one stops working,
    so a token is good for one reconnect only.
    """
    now = _now(now)
    with transaction.atomic():
        room = _lock_room(_room_id_of(participant_id))
        participant = (
            Participant.objects.select_related("user")
            .filter(pk=participant_id, state__in=ACTIVE_STATES)
            .first()
        )
        if participant is None:
            raise Forbidden("not_in_room", _("You are no longer in this room. Join again."))
        # Under the room lock: of two connections presenting the same token, one wins.
        if resume_nonce is not None and not (
            participant.resume_nonce
            and secrets.compare_digest(participant.resume_nonce, resume_nonce)
        ):
            raise Forbidden("resume_expired", _("This connection can't be resumed. Join again."))
        if participant.user is not None and not get_adapter().can_join_rooms(participant.user):
            raise Forbidden("suspended", _("Your account is suspended."))
        was_disconnected = participant.disconnected_at is not None
        participant.disconnected_at = None
        participant.server = server
        participant.save(update_fields=["disconnected_at", "server"])
        token = _resume_token(participant)
        if was_disconnected:
            _record(room, "participant.updated", target=participant, connected=True)
        if participant.is_moderator and participant.state == ParticipantState.ADMITTED:
            _host_arrived(room, participant.user, now)
        participant.refresh_from_db()
        return Connection(
            participant=participant, resume_token=token, was_disconnected=was_disconnected
        )


def participant_disconnected(*, participant_id: int, now: datetime | None = None) -> bool:
    """A socket dropped without a goodbye: the seat is kept for the grace period.

    Returns True when the visit is still active (a release check should follow).
    """
    now = _now(now)
    with transaction.atomic():
        room_id = (
            Participant.objects.filter(pk=participant_id).values_list("room_id", flat=True).first()
        )
        if room_id is None:
            return False
        room = _lock_room(room_id)
        participant = Participant.objects.filter(
            pk=participant_id, state__in=ACTIVE_STATES, disconnected_at__isnull=True
        ).first()
        if participant is None:
            return False
        _mark_disconnected(room, participant, now)
        return True


def _mark_disconnected(room: Room, participant: Participant, at: datetime) -> None:
    """The socket is gone: the seat is held from `at` for the grace period. Call with the
    room row locked."""
    participant.disconnected_at = at
    participant.server = ""
    participant.save(update_fields=["disconnected_at", "server"])
    _record(room, "participant.updated", target=participant, connected=False)
    media_control.remove_peer(room.pk, participant.pk)


def socket_server_renew(*, server: str, now: datetime | None = None) -> None:
    """The web process `server` is alive and holds its sockets (rooms.lease)."""
    SocketServer.objects.update_or_create(id=server, defaults={"last_seen": _now(now)})


def socket_servers_expire(*, lease_seconds: float, now: datetime | None = None) -> list[int]:
    """Web processes that stopped renewing their lease are gone, and so are their sockets:
    each of their seats counts as dropped from the process's last renewal, so the grace
    period (and the release after it) runs from the moment they vanished. Returns the rooms
    whose seats changed (a release check should follow for each)."""
    cutoff = _now(now) - timedelta(seconds=lease_seconds)
    rooms: set[int] = set()
    for server in SocketServer.objects.filter(last_seen__lt=cutoff):
        with transaction.atomic():
            # Whoever deletes the row handles it, so two live processes don't both do it.
            if not SocketServer.objects.filter(pk=server.pk, last_seen=server.last_seen).delete()[
                0
            ]:
                continue
            room_ids = set(
                Participant.objects.filter(
                    server=server.pk, state__in=ACTIVE_STATES, disconnected_at__isnull=True
                ).values_list("room_id", flat=True)
            )
            for room_id in sorted(room_ids):
                room = _lock_room(room_id)
                ghosts = Participant.objects.filter(
                    room=room,
                    server=server.pk,
                    state__in=ACTIVE_STATES,
                    disconnected_at__isnull=True,
                )
                for participant in ghosts:
                    _mark_disconnected(room, participant, server.last_seen)
                rooms.add(room_id)
    return sorted(rooms)


def release_vanished_seats(*, room_id: int, now: datetime | None = None) -> None:
    with transaction.atomic():
        room = _lock_room(room_id)
        _release_vanished(room, _now(now))


@transaction.atomic
def participant_set_hand(*, participant_id: int, raised: bool) -> Participant:
    room = _lock_room(_room_id_of(participant_id))
    participant = _admitted(room, participant_id)
    if participant.hand_raised != raised:
        participant.hand_raised = raised
        participant.save(update_fields=["hand_raised"])
        _record(room, "participant.updated", target=participant, hand_raised=raised)
    return participant


@transaction.atomic
def participant_set_muted(*, participant_id: int, muted: bool) -> Participant:
    """Mute or unmute yourself. Unmuting is only ever done by the person themselves."""
    room = _lock_room(_room_id_of(participant_id))
    participant = _admitted(room, participant_id)
    if participant.audio_muted != muted:
        participant.audio_muted = muted
        participant.save(update_fields=["audio_muted"])
        _record(room, "participant.muted", target=participant, muted=muted, by_self=True)
        media_control.set_muted(room.pk, participant.pk, muted=muted)
    return participant


@transaction.atomic
def participant_set_camera(*, participant_id: int, off: bool) -> Participant:
    """Turn your own camera off or on: the SFU stops (or resumes) forwarding it, and the
    roster tells everyone, who then show your initials and a camera-off mark."""
    room = _lock_room(_room_id_of(participant_id))
    participant = _admitted(room, participant_id)
    if participant.camera_off != off:
        participant.camera_off = off
        participant.save(update_fields=["camera_off"])
        _record(room, "participant.updated", target=participant, camera_off=off)
        media_control.set_camera_off(room.pk, participant.pk, off=off)
    return participant


def participant_for(*, room: Room, identity: Identity) -> Participant:
    """The caller's active visit to `room`."""
    visit = _active_visit(room, identity)
    if visit is None:
        raise NotFound("not_in_room", _("You are not in this room."))
    return visit


@transaction.atomic
def room_leave(*, room: Room, identity: Identity, now: datetime | None = None) -> Participant:
    """Leave. When the last host or co-host leaves, the room locks itself; nobody is promoted."""
    room = _lock_room(room.pk)
    return _leave(room, participant_for(room=room, identity=identity), _now(now))


@transaction.atomic
def room_leave_visit(*, participant_id: int, now: datetime | None = None) -> Participant:
    """Leave, from the visit's own socket."""
    room = _lock_room(_room_id_of(participant_id))
    participant = Participant.objects.filter(
        room=room, pk=participant_id, state__in=ACTIVE_STATES
    ).first()
    if participant is None:
        raise NotFound("not_in_room", _("You are not in this room."))
    return _leave(room, participant, _now(now))


def _leave(room: Room, participant: Participant, now: datetime) -> Participant:
    was_admitted = participant.state == ParticipantState.ADMITTED
    participant.state = ParticipantState.LEFT
    participant.left_at = now
    participant.ticket_nonce = ""
    participant.save(update_fields=["state", "left_at", "ticket_nonce"])
    participant.resume_nonce = ""
    Participant.objects.filter(pk=participant.pk).update(resume_nonce="")
    media_control.remove_peer(room.pk, participant.pk)  # first: media stops before any fan-out
    _record(room, "participant.left", actor=participant.user, target=participant)
    if was_admitted and participant.is_moderator and not _moderator_seated(room):
        _on_moderators_gone(room)
    return participant

"""Rules about time: "I'll be there", the start of a scheduled room, no-shows, idle rooms.

Services like the others in this package (same lock, same audit log); the periodic sweep
(`rooms.sweep.rooms_sweep`, run by Celery beat or by the embedded sweeper) is their main
caller. Every function takes `now`, so tests control the clock, and every one is idempotent:
running the sweep twice, or two sweeps at once, changes nothing the second time, because each
decision is re-checked under the room lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from rooms import selectors
from rooms.errors import Conflict, Gone, InvalidInput, NotFound
from rooms.models import LobbyReason, Participant, ParticipantState, Room, RoomState, Rsvp
from rooms.services._common import _lock_room, _now
from rooms.services._seats import _release_vanished
from rooms.services.admission import _admit_lobby
from rooms.services.rooms import _end_room
from rooms.users import User

# --- "I'll be there" ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RsvpState:
    going: bool
    count: int


def rsvp_set(*, room: Room, user: User, going: bool) -> RsvpState:
    """Say (or take back) "I'll be there" to a scheduled room that has not started.

    Only people who may see the room (its feed audience) can; to anyone else it does not exist,
    exactly like an unknown link. Saying it twice, or taking it back twice, is not an error.
    """
    if not selectors.rooms_visible_to(user=user).filter(pk=room.pk).exists():
        raise NotFound("room_not_found", _("This room doesn't exist."))
    with transaction.atomic():
        # Racing the host starting or ending the room: under the lock the state is final.
        room = _lock_room(room.pk)
        if going:
            if room.state == RoomState.ENDED:
                raise Gone("room_ended", _("This room has ended."))
            if room.host_id == user.pk:
                raise InvalidInput("host_rsvp", _("You are the host: you'll be there."))
            if room.state != RoomState.SCHEDULED or room.scheduled_start is None:
                raise Conflict(
                    "not_scheduled", _("Only a room that has not started takes replies.")
                )
            Rsvp.objects.get_or_create(room=room, user=user)
        else:
            Rsvp.objects.filter(room=room, user=user).delete()
        return RsvpState(going=going, count=Rsvp.objects.filter(room=room).count())


# --- the clock moves on ------------------------------------------------------------------------


def room_start_reached(*, room_id: int, now: datetime | None = None) -> bool:
    """At the start time, people who came early now wait for the host (or get in)."""
    now = _now(now)
    with transaction.atomic():
        room = _lock_room(room_id)
        start = room.scheduled_start
        if room.state == RoomState.ENDED or start is None or now < start:
            return False
        _admit_lobby(room, reason=LobbyReason.NOT_STARTED, now=now)
        return True


def room_expire_no_show(*, room_id: int, now: datetime | None = None) -> bool:
    """A scheduled room whose host never came within ROOMS_NO_SHOW_MINUTES of its start ends.

    True when it ended now. The host arriving and this expiry race for the room lock: whichever
    comes first wins, and a host who comes after the expiry finds the room ended.
    """
    now = _now(now)
    with transaction.atomic():
        room = _lock_room(room_id)
        start = room.scheduled_start
        if room.state != RoomState.SCHEDULED or start is None:
            return False
        if now < start + timedelta(minutes=settings.ROOMS_NO_SHOW_MINUTES):
            return False
        _end_room(room, now, actor=None, reason="no_show", ended_by="no_show")
        return True


def room_end_if_idle(*, room_id: int, now: datetime | None = None) -> bool:
    """An open room with nobody admitted for ROOMS_IDLE_MINUTES ends. True when it ended now.

    Seats of people whose connection vanished are released first (their leave time is when
    they vanished), so a room full of dead sockets counts as empty.
    """
    now = _now(now)
    with transaction.atomic():
        room = _lock_room(room_id)
        if room.state != RoomState.OPEN:
            return False
        _release_vanished(room, now)
        visits = Participant.objects.filter(room=room)
        if visits.filter(state=ParticipantState.ADMITTED).exists():
            return False
        last_left = visits.aggregate(last=Max("left_at"))["last"]
        empty_since = max(t for t in (room.opened_at, last_left, room.created_at) if t is not None)
        if now - empty_since < timedelta(minutes=settings.ROOMS_IDLE_MINUTES):
            return False
        _end_room(room, now, actor=None, reason="idle", ended_by="idle")
        return True

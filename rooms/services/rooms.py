"""Rooms themselves: create, change their settings, end them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rooms import events, media_control
from rooms.adapter import get_adapter
from rooms.errors import Conflict, Forbidden, InvalidInput
from rooms.models import (
    ACTIVE_STATES,
    Audience,
    LobbyReason,
    Participant,
    ParticipantState,
    Role,
    Room,
    RoomState,
)
from rooms.services._common import (
    PASSWORD_MAX,
    _lock_room,
    _now,
    _record,
    _require_moderator,
    _require_not_ended,
    _validate_text,
    _within_hourly_limit,
)
from rooms.services.admission import _admit_lobby
from rooms.services.moderation import _invite
from rooms.users import User

TITLE_MAX = 120


DESCRIPTION_MAX = 2000


def _validate_capacity(capacity: int) -> int:
    maximum = settings.ROOMS_MAX_CAPACITY
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= maximum:
        raise InvalidInput(
            "invalid_capacity",
            _("Capacity must be between 1 and %(maximum)s.") % {"maximum": maximum},
        )
    return capacity


def _validate_start(start: datetime | None, now: datetime) -> datetime | None:
    if start is None:
        return None
    if timezone.is_naive(start):
        raise InvalidInput("start_needs_timezone", _("The start time must include a time zone."))
    grace = timedelta(seconds=settings.ROOMS_START_GRACE_SECONDS)
    if start < now - grace:
        raise InvalidInput("start_in_past", _("The start time is in the past."))
    if start > now + timedelta(days=366):
        raise InvalidInput("start_too_far", _("The start time may be at most a year ahead."))
    return start


def _password_hash(password: str) -> str:
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(
            "password_too_long",
            _("The password may be at most %(limit)s characters.") % {"limit": PASSWORD_MAX},
        )
    shortest = settings.ROOMS_PASSWORD_MIN_LENGTH
    if password and len(password) < shortest:
        raise InvalidInput(
            "password_too_short",
            ngettext(
                "A room password needs at least %(count)s character.",
                "A room password needs at least %(count)s characters.",
                shortest,
            )
            % {"count": shortest},
        )
    return make_password(password) if password else ""


@transaction.atomic
def room_create(
    *,
    host: User,
    title: str,
    description: str = "",
    scheduled_start: datetime | None = None,
    audience: str = Audience.FRIENDS,
    capacity: int | None = None,
    password: str = "",
    waiting_room: bool = True,
    signed_in_only: bool = False,
    participants_can_share_screen: bool = True,
    invitee_ids: Iterable[int] = (),
    now: datetime | None = None,
) -> Room:
    """Create a room. It opens when its host joins it (`room_join`). At most
    ROOMS_CREATED_PER_HOUR per host (TooManyRequests)."""
    now = _now(now)
    if not get_adapter().can_create_rooms(host):
        raise Forbidden("suspended", _("Your account is suspended, so you can't create rooms."))
    _within_hourly_limit(
        action="room-create",
        actor=str(host.pk),
        per_hour=settings.ROOMS_CREATED_PER_HOUR,
        what=_("You have created rooms too often. Try again %(when)s."),
    )
    if audience not in Audience.values:
        raise InvalidInput("invalid_audience", _("Audience must be 'friends' or 'invite_only'."))
    room = Room.objects.create(
        host=host,
        title=_validate_text(title, field="title", limit=TITLE_MAX, required=True),
        description=_validate_text(description, field="description", limit=DESCRIPTION_MAX),
        scheduled_start=_validate_start(scheduled_start, now),
        audience=audience,
        capacity=_validate_capacity(
            settings.ROOMS_DEFAULT_CAPACITY if capacity is None else capacity
        ),
        password_hash=_password_hash(password),
        waiting_room=waiting_room,
        signed_in_only=signed_in_only,
        participants_can_share_screen=participants_can_share_screen,
    )
    _record(room, "room.created", actor=host)
    ids = set(invitee_ids)
    if ids:
        _invite(room, host, ids)
    return room


_UPDATABLE = {
    "title",
    "description",
    "scheduled_start",
    "audience",
    "password",
    "waiting_room",
    "signed_in_only",
    "participants_can_share_screen",
    "several_screen_shares",
    "capacity",
    "locked",
}


@transaction.atomic
def room_update(*, room: Room, actor: User, now: datetime | None = None, **changes: Any) -> Room:
    """Change a room's settings (host or co-host). Unknown fields are refused."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise InvalidInput(
            "unknown_field", _("Can't change: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    now = _now(now)
    room = _lock_room(room.pk)
    _require_moderator(room, actor)
    _require_not_ended(room)
    applied: dict[str, Any] = {}
    if "title" in changes:
        room.title = _validate_text(changes["title"], field="title", limit=TITLE_MAX, required=True)
        applied["title"] = room.title
    if "description" in changes:
        room.description = _validate_text(
            changes["description"], field="description", limit=DESCRIPTION_MAX
        )
        applied["description"] = room.description
    if "scheduled_start" in changes:
        if room.state != RoomState.SCHEDULED:
            raise Conflict("already_started", _("A room that has started can't be rescheduled."))
        room.scheduled_start = _validate_start(changes["scheduled_start"], now)
        applied["scheduled_start"] = (
            room.scheduled_start.isoformat() if room.scheduled_start else None
        )
    if "audience" in changes:
        if changes["audience"] not in Audience.values:
            raise InvalidInput(
                "invalid_audience", _("Audience must be 'friends' or 'invite_only'.")
            )
        room.audience = changes["audience"]
        applied["audience"] = room.audience
    if "password" in changes:
        room.password_hash = _password_hash(changes["password"] or "")
        applied["password_set"] = room.has_password
    flags = (
        "waiting_room",
        "signed_in_only",
        "participants_can_share_screen",
        "several_screen_shares",
        "locked",
    )
    for flag in flags:
        if flag in changes:
            if not isinstance(changes[flag], bool):
                raise InvalidInput(
                    f"invalid_{flag}", _("%(field)s must be true or false.") % {"field": flag}
                )
            setattr(room, flag, changes[flag])
            applied[flag] = changes[flag]
    if "capacity" in changes:
        capacity = _validate_capacity(changes["capacity"])
        inside = Participant.objects.filter(room=room, state=ParticipantState.ADMITTED).count()
        if capacity < inside:
            raise InvalidInput(
                "capacity_below_inside",
                ngettext(
                    "%(count)s person is in the room now: capacity can't be lower than that.",
                    "%(count)s people are in the room now: capacity can't be lower than that.",
                    inside,
                )
                % {"count": inside},
            )
        room.capacity = capacity
        applied["capacity"] = room.capacity
    if not applied:
        return room
    room.save()
    _record(room, "room.updated", actor=actor, changes=applied)
    if "participants_can_share_screen" in applied:
        for participant_id in Participant.objects.filter(
            room=room, state=ParticipantState.ADMITTED, role=Role.PARTICIPANT
        ).values_list("pk", flat=True):
            media_control.set_screen_allowed(
                room.pk, participant_id, allowed=room.participants_can_share_screen
            )
    if applied.get("waiting_room") is False:
        # Turning the waiting room off lets in everyone who was only waiting for admission.
        _admit_lobby(room, reason=LobbyReason.WAITING_ROOM, now=now)
    return room


def room_set_capacity(*, room: Room, actor: User, capacity: int) -> Room:
    """Not below the number of people inside (capacity_below_inside); at it, new joins are
    refused."""
    return room_update(room=room, actor=actor, capacity=capacity)


def room_set_waiting_room(*, room: Room, actor: User, enabled: bool) -> Room:
    return room_update(room=room, actor=actor, waiting_room=enabled)


def room_set_signed_in_only(*, room: Room, actor: User, enabled: bool) -> Room:
    """Only people signed in to the site may join from now on. Whoever is already in the room or
    its lobby stays until the host removes them or turns them away."""
    return room_update(room=room, actor=actor, signed_in_only=enabled)


def room_set_screen_share(*, room: Room, actor: User, participants_allowed: bool) -> Room:
    return room_update(room=room, actor=actor, participants_can_share_screen=participants_allowed)


@transaction.atomic
def room_end(
    *, room: Room, actor: User, as_staff: bool = False, now: datetime | None = None
) -> Room:
    """End the room for everyone: every active visit ends now."""
    now = _now(now)
    room = _lock_room(room.pk)
    _require_moderator(room, actor, as_staff=as_staff)
    if room.state == RoomState.ENDED:
        return room
    ended_by = "moderator" if as_staff else "host" if actor.pk == room.host_id else "cohost"
    _end_room(room, now, actor=actor, by_staff=as_staff, ended_by=ended_by)
    return room


def _end_room(room: Room, now: datetime, *, actor: User | None, **data: Any) -> None:
    """Every active visit ends now. Call with the room row locked."""
    room.state = RoomState.ENDED
    room.ended_at = now
    room.save(update_fields=["state", "ended_at"])
    active = Participant.objects.filter(room=room, state__in=ACTIVE_STATES)
    for participant_id in active.values_list("pk", flat=True):
        events.notify_participant(participant_id, kind="room.ended")
    active.update(state=ParticipantState.LEFT, left_at=now, ticket_nonce="", resume_nonce="")
    media_control.close_room(room.pk)
    _record(room, "room.ended", actor=actor, **data)

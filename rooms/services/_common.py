"""What every room service shares: the room lock, the audit log, who is asking, the checks.

Each service runs in one transaction and locks the room row first (`_lock_room`): that
serialises everything that changes a room, which is what keeps capacity exact when many people
join at once and keeps the room version a gap-free sequence. Each change is written to the
audit log (`_record`), which bumps the version.

Internal to `rooms.services`: the package re-exports the public names (`Identity`,
`is_moderator`, `PASSWORD_MAX`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from rooms import announce, cards, events, ratelimit
from rooms.adapter import get_adapter
from rooms.errors import Forbidden, Gone, InvalidInput, NotFound, TooManyRequests
from rooms.models import AuditEvent, CoHost, Participant, Room, RoomState
from rooms.users import User

PASSWORD_MAX = 128


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is asking: an account, or a guest known by a signed guest id.

    `device_id` comes from a long-lived signed cookie every browser gets, so a ban can also
    match a person who comes back under a new account or guest identity on the same device.
    """

    user: User | None = None
    guest_id: str = ""
    device_id: str = ""
    display_name: str = ""
    client_key: str = ""  # e.g. the client address; scopes the password attempt counter

    @property
    def key(self) -> str:
        return f"u{self.user.pk}" if self.user is not None else f"g{self.guest_id}"


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def _lock_room(room_id: int) -> Room:
    # The lock every room service takes first; see the module docstring for the races it closes.
    room = Room.objects.select_for_update().filter(pk=room_id).first()
    if room is None:
        raise NotFound("room_not_found", _("This room doesn't exist."))
    return room


def _record(
    room: Room,
    kind: str,
    *,
    actor: User | None = None,
    actor_name: str = "",
    target: Participant | None = None,
    **data: Any,
) -> AuditEvent:
    """Write the audit log, bump the room version and publish the event after commit.

    Call with the room row locked. This is the only place room events come from, so every
    version a client sees is exactly one change.
    """
    room.version += 1
    Room.objects.filter(pk=room.pk).update(version=room.version, updated_at=timezone.now())
    audit = AuditEvent.objects.create(
        room=room,
        kind=kind,
        actor=actor,
        actor_name=actor_name or (get_adapter().display_name(actor) if actor is not None else ""),
        target=target,
        data=data,
        version=room.version,
    )
    event_type, audience = events.EVENTS[kind]
    never_admitted = target is not None and target.joined_at is None
    if never_admitted and audience == events.Audience.ROOM:
        # People in the room only ever hear of those who have been in it: whatever happens to
        # someone who only waited in the lobby (left, removed, dropped) is for hosts only.
        audience = events.Audience.MODERATORS
    event: events.RoomEvent = {
        "type": event_type,
        "version": room.version,
        "room": events.room_public(room),
    }
    if target is not None:
        event["participant"] = events.participant_public(target)
    public_data = {k: v for k, v in data.items() if k not in _PRIVATE_DATA.get(kind, ())}
    if public_data:
        event["data"] = public_data
    events.publish_room_event(room.pk, event, audience)
    if target is not None:
        events.notify_participant(target.pk, kind=kind, **data)
    # Last: on-commit callbacks run in order, and feeds can wait; the people in the room and
    # the person concerned (e.g. someone removed) should not wait behind them.
    if kind in cards.CARD_KINDS and not never_admitted:
        cards.publish_after_commit(room)
    if kind in announce.ANNOUNCE_KINDS:
        announce.after_commit(room.pk)
    return audit


# Said to the person concerned (why they were removed), never to the whole room.
_PRIVATE_DATA = {"participant.removed": frozenset({"reason"})}


def is_moderator(*, room: Room, user: User | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if room.host_id == user.pk:
        return True
    return CoHost.objects.filter(room=room, user=user).exists()


def _require_moderator(room: Room, actor: User, *, as_staff: bool = False) -> None:
    if as_staff and _is_staff(actor):
        return
    if not is_moderator(room=room, user=actor):
        raise Forbidden("not_a_host", _("Only the host or a co-host can do that."))


def _actor_kind(room: Room, actor: User, *, as_staff: bool = False) -> str:
    """Who acted, as the people affected are told: "host", "cohost" or "moderator" (the site's
    staff, from the admin)."""
    if actor.pk == room.host_id:
        return "host"
    if as_staff and not is_moderator(room=room, user=actor):
        return "moderator"
    return "cohost"


def _is_staff(user: User) -> bool:
    # The site's moderators: Django admin's notion of staff, for user models that have it.
    return bool(getattr(user, "is_staff", False))


def _require_not_ended(room: Room) -> None:
    if room.state == RoomState.ENDED:
        raise Gone("room_ended", _("This room has ended."))


def _within_hourly_limit(
    *, action: str, actor: str, per_hour: int, what: str, cost: int = 1
) -> None:
    """Count a write against its actor's hourly budget (README "Limits"), or refuse it."""
    retry_after = ratelimit.hourly(action=action, actor=actor, per_hour=per_hour, cost=cost)
    if retry_after:
        raise TooManyRequests(
            "rate_limited",
            what % {"when": ratelimit.retry_phrase(retry_after)},
            retry_after=retry_after,
        )


# The human names of the text fields _validate_text checks (the codes keep the field's name).
_FIELD_LABELS = {
    "title": gettext_lazy("Title"),
    "description": gettext_lazy("Description"),
    "reason": gettext_lazy("Reason"),
    "details": gettext_lazy("Details"),
    "note": gettext_lazy("Note"),
    "display_name": gettext_lazy("Your name"),
}


def _field_label(field: str) -> str:
    return str(_FIELD_LABELS.get(field, field))


def _validate_text(value: str, *, field: str, limit: int, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput(
            f"{field}_required", _("%(field)s is required.") % {"field": _field_label(field)}
        )
    if len(value) > limit:
        raise InvalidInput(
            f"{field}_too_long",
            ngettext(
                "%(field)s may be at most %(limit)s character.",
                "%(field)s may be at most %(limit)s characters.",
                limit,
            )
            % {"field": _field_label(field), "limit": limit},
        )
    return value


def _blocked_with_host(room: Room, user: User) -> bool:
    return get_adapter().is_blocked(user, room.host)

"""Telling the host site about news: invitations, rooms going live, reminders (`rooms.signals`).

A service that changes a room (going live, inviting people) calls `after_commit`, which enqueues
`rooms.tasks.announce_room` once the change has committed. The task works out for itself what
is due about that room and not yet announced (`room_announce`); the periodic sweep
(`rooms.tasks.sweep_announcements` -> `announce_sweep`) runs the same work for every room that
may have something due, so news lost between commit and enqueue (a broker hiccup, a crash) and
reminders (due at a time, not on a change) are announced too.

Exactly once per (room, person, kind, occurrence), whatever runs at once or is retried: the
database decides. An invitation is announced by setting `Invitation.announced_at` on the rows
still unset (locked); a fan-out (going live, reminders) by inserting its `Announcement` row
(unique). The signal is sent inside that transaction, so what its receivers write commits with
the record, or neither does and the sweep tries again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.dispatch import Signal
from django.utils import timezone

from rooms import outbox, signals
from rooms.adapter import get_adapter
from rooms.models import (
    Announcement,
    AnnouncementKind,
    Audience,
    CoHost,
    Invitation,
    Room,
    RoomState,
    Rsvp,
)

log = logging.getLogger(__name__)

# Audit kinds that may make announcements due: a room went live, people were invited.
ANNOUNCE_KINDS = frozenset({"room.opened", "invitations.added"})

# How long after the fact a lost announcement is still worth making.
CATCH_UP = timedelta(days=1)


def _enqueue(room_id: int) -> None:
    from rooms.tasks import announce_room  # the tasks import the services, which import this

    try:
        announce_room.delay(room_id)
    except Exception:
        # The sweep will announce it; a failed enqueue must not fail the request that committed.
        log.exception("could not enqueue the announcement of room %s", room_id)


def after_commit(room_id: int) -> None:
    """MUST be called inside the transaction that made the news."""
    outbox.after_commit("announcement", lambda: _enqueue(room_id))


# --- who hears what (reads) -------------------------------------------------------------------
#
# The host site's social graph comes from its adapter: friends of the host, blocks either way.


def _accounts(ids: Any) -> Any:
    """The site's accounts whose primary keys are `ids` (a list or an adapter's subquery)."""
    return get_user_model()._default_manager.filter(pk__in=ids)


def _reachable(room: Room, ids: Any) -> list[Any]:
    """Of `ids` (a list, or an adapter's subquery), the active accounts that are not the host
    and not across a block with them, loaded in one query (the signal's `recipients`)."""
    users = (
        _accounts(ids)
        .exclude(pk=room.host_id)
        .exclude(pk__in=get_adapter().blocked_ids(room.host))
        .order_by("pk")
    )
    # `is_active` in Python: a site's user model need not have it as a column.
    return [user for user in users if user.is_active]


def live_audience(*, room: Room) -> list[Any]:
    """Who hears that a room went live: the host's friends for an "all friends" room, the
    invitees for an invite-only one."""
    if room.audience == Audience.FRIENDS:
        return _reachable(room, get_adapter().friend_ids(room.host))
    return _reachable(room, Invitation.objects.filter(room=room).values("user_id"))


def reminder_audience(*, room: Room) -> list[Any]:
    """Who is reminded of a scheduled start: invitees, and people who said "I'll be there"
    and may still see the room."""
    invited = set(Invitation.objects.filter(room=room).values_list("user_id", flat=True))
    coming = set(Rsvp.objects.filter(room=room).values_list("user_id", flat=True))
    may_see = invited | set(CoHost.objects.filter(room=room).values_list("user_id", flat=True))
    if room.audience == Audience.FRIENDS:
        friends = _accounts(get_adapter().friend_ids(room.host)).values_list("pk", flat=True)
        may_see |= set(friends)
    return _reachable(room, invited | (coming & may_see))


def reminder_key(start: datetime) -> str:
    """The occurrence of a reminder: a moved start time is a new reminder."""
    return start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _reminders_due(room: Room, now: datetime) -> bool:
    start = room.scheduled_start
    if room.state != RoomState.SCHEDULED or start is None:
        return False
    lead = timedelta(minutes=settings.ROOMS_REMINDER_MINUTES)
    no_show = timedelta(minutes=settings.ROOMS_NO_SHOW_MINUTES)
    return start - lead <= now < start + no_show


def rooms_with_due_announcements(*, now: datetime) -> list[int]:
    """Rooms the sweep must look at: invitations not yet announced, live rooms not yet
    announced, scheduled rooms whose reminder is due and not yet sent.

    A room whose only unannounced invitee is across a block with the host is looked at again
    by each sweep for CATCH_UP, and announces nothing.
    """
    lead = timedelta(minutes=settings.ROOMS_REMINDER_MINUTES)
    no_show = timedelta(minutes=settings.ROOMS_NO_SHOW_MINUTES)
    ids = set(
        Invitation.objects.filter(announced_at__isnull=True, created_at__gte=now - CATCH_UP)
        .exclude(room__state=RoomState.ENDED)
        .values_list("room_id", flat=True)
    )
    ids.update(
        Room.objects.filter(state=RoomState.OPEN, opened_at__gte=now - CATCH_UP)
        .exclude(
            Exists(
                Announcement.objects.filter(room=OuterRef("pk"), kind=AnnouncementKind.ROOM_LIVE)
            )
        )
        .values_list("pk", flat=True)
    )
    for room_id, start in Room.objects.filter(
        state=RoomState.SCHEDULED,
        scheduled_start__lte=now + lead,
        scheduled_start__gt=now - no_show,
    ).values_list("pk", "scheduled_start"):
        if start is None:
            continue
        done = Announcement.objects.filter(
            room_id=room_id, kind=AnnouncementKind.ROOM_REMINDER, occurrence=reminder_key(start)
        ).exists()
        if not done:
            ids.add(room_id)
    return sorted(ids)


# --- announcing (writes) ----------------------------------------------------------------------


def _send(signal: Signal, room: Room, recipients: list[Any], kind: str, occurrence: str) -> int:
    if recipients:
        signal.send(sender=Room, room=room, recipients=recipients, kind=kind, occurrence=occurrence)
    return len(recipients)


def _announce_invitations(room: Room, now: datetime) -> int:
    """MUST run inside a transaction. Announces the invitations not announced yet."""
    # Locked: a second announcer waits here, then finds these rows announced and skips them.
    pending = list(
        Invitation.objects.select_for_update()
        .filter(room=room, announced_at__isnull=True)
        .values_list("pk", "user_id")
    )
    recipients = _reachable(room, [user_id for _, user_id in pending]) if pending else []
    told = {user.pk for user in recipients}
    Invitation.objects.filter(pk__in=[pk for pk, user_id in pending if user_id in told]).update(
        announced_at=now
    )
    return _send(signals.room_invitation, room, recipients, AnnouncementKind.ROOM_INVITATION, "")


def _fan_out(
    room: Room, signal: Signal, kind: AnnouncementKind, occurrence: str, recipients: list[Any]
) -> int:
    """MUST run inside a transaction. Claims the fan-out, then signals its recipients.

    Returns how many were told; none when another task already claimed this fan-out (on
    PostgreSQL a concurrent claimer waits on the unique index until the first one commits).
    """
    _, claimed = Announcement.objects.get_or_create(
        room=room, kind=kind, occurrence=occurrence, defaults={"recipients": len(recipients)}
    )
    if not claimed:
        return 0
    return _send(signal, room, recipients, kind, occurrence)


def room_announce(*, room_id: int, now: datetime | None = None) -> int:
    """Announce everything about this room that is due and not yet announced; returns how many
    (room, person, kind) were told.

    Idempotent and safe to run concurrently (see the module's docstring). Each kind is its own
    transaction, so a failure in one leaves the others announced; the sweep retries the rest.
    """
    now = now or timezone.now()
    room = Room.objects.select_related("host").filter(pk=room_id).first()
    if room is None or room.state == RoomState.ENDED:
        return 0
    told = 0
    with transaction.atomic():
        told += _announce_invitations(room, now)
    if room.state == RoomState.OPEN:
        with transaction.atomic():
            told += _fan_out(
                room, signals.room_live, AnnouncementKind.ROOM_LIVE, "", live_audience(room=room)
            )
    if _reminders_due(room, now):
        assert room.scheduled_start is not None  # noqa: S101 (checked by _reminders_due)
        key = reminder_key(room.scheduled_start)
        with transaction.atomic():
            told += _fan_out(
                room,
                signals.room_reminder,
                AnnouncementKind.ROOM_REMINDER,
                key,
                reminder_audience(room=room),
            )
            told += _fan_out(
                room, signals.room_reminder, AnnouncementKind.HOST_REMINDER, key, [room.host]
            )
    return told


def announce_sweep(*, now: datetime | None = None) -> int:
    """Announce whatever is due for every room (the periodic catch-up). Returns how many."""
    now = now or timezone.now()
    told = 0
    for room_id in rooms_with_due_announcements(now=now):
        try:
            told += room_announce(room_id=room_id, now=now)
        except Exception:
            log.exception("announcing room %s failed; the next sweep tries again", room_id)
    return told

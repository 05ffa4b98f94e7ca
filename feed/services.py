"""Writes for the feed. Every function runs in one transaction; errors are DomainErrors."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from config.errors import InvalidInput, NotFound, TooManyRequests
from feed import selectors
from feed.models import POST_MAX, Announcement, Notification, NotificationKind, Post
from feed.notifications import notification_public
from rooms import events, ratelimit
from rooms.models import Room, RoomState

log = logging.getLogger(__name__)


@transaction.atomic
def post_create(*, author: User, body: str) -> Post:
    """Publish a post. Surrounding whitespace is dropped; 1..POST_MAX characters remain. At
    most POSTS_PER_HOUR per author (TooManyRequests)."""
    body = body.strip()
    if not body:
        raise InvalidInput("post_empty", "Write something before posting.")
    if len(body) > POST_MAX:
        raise InvalidInput("post_too_long", f"A post may be at most {POST_MAX} characters.")
    retry_after = ratelimit.hourly(
        action="post", actor=str(author.pk), per_hour=settings.POSTS_PER_HOUR
    )
    if retry_after:
        raise TooManyRequests(
            "rate_limited",
            f"You have posted too often. Try again {ratelimit.retry_phrase(retry_after)}.",
            retry_after=retry_after,
        )
    return Post.objects.create(author=author, body=body)


# --- notifications ----------------------------------------------------------------------------
#
# Every path that delivers a notification (the task enqueued after a room changed, the periodic
# sweep, a retry, two workers at once) goes through `room_announce`, and the database's unique
# constraints decide who delivers: a notification (recipient, room, kind, occurrence) and a
# fan-out (room, kind, occurrence, the Announcement row) can each be inserted once. The live
# push happens after commit and is best effort: the rows are the truth, the header and
# GET /api/notifications/ always show them.

MARK_READ_MAX = 200


def _push_after_commit(notifications: list[Notification]) -> None:
    if not notifications:
        return
    ids = [n.pk for n in notifications]

    def push() -> None:
        fresh = list(Notification.objects.filter(pk__in=ids).select_related("room", "room__host"))
        counts = selectors.unread_counts(user_ids={n.recipient_id for n in fresh})
        for notification in fresh:
            events.send_now(
                events.feed_group(notification.recipient_id),
                {
                    "type": "feed.notification",
                    "notification": notification_public(notification),
                    "unread_count": counts.get(notification.recipient_id, 0),
                },
            )

    transaction.on_commit(push, robust=True)


def _announce(
    room: Room, kind: NotificationKind, occurrence: str, recipient_ids: list[int]
) -> list[Notification]:
    """Claim the fan-out, then create its notifications. MUST run inside a transaction.

    Returns the notifications created; none when another task already claimed this fan-out.
    """
    _, claimed = Announcement.objects.get_or_create(
        room=room, kind=kind, occurrence=occurrence, defaults={"recipients": len(recipient_ids)}
    )
    if not claimed:
        return []
    Notification.objects.bulk_create(
        [
            Notification(recipient_id=uid, room=room, kind=kind, occurrence=occurrence)
            for uid in recipient_ids
        ],
        # Belt and braces: a notification that somehow exists already is not sent again.
        ignore_conflicts=True,
    )
    created = list(
        Notification.objects.filter(
            room=room, kind=kind, occurrence=occurrence, recipient_id__in=recipient_ids
        )
    )
    _push_after_commit(created)
    return created


def _tell_invitees(room: Room) -> list[Notification]:
    created = []
    for user_id in selectors.pending_invitation_ids(room=room):
        notification, new = Notification.objects.get_or_create(
            recipient_id=user_id, room=room, kind=NotificationKind.ROOM_INVITATION, occurrence=""
        )
        if new:
            created.append(notification)
    _push_after_commit(created)
    return created


def _reminders_due(room: Room, now: datetime) -> bool:
    start = room.scheduled_start
    if room.state != RoomState.SCHEDULED or start is None:
        return False
    lead = timedelta(minutes=settings.ROOMS_REMINDER_MINUTES)
    no_show = timedelta(minutes=settings.ROOMS_NO_SHOW_MINUTES)
    return start - lead <= now < start + no_show


def room_announce(*, room_id: int, now: datetime | None = None) -> list[Notification]:
    """Deliver every notification about this room that is due and not yet delivered.

    Idempotent and safe to run concurrently (see above). Each kind is its own transaction, so
    a failure in one leaves the others delivered; what failed is tried again by the sweep.
    """
    now = now or timezone.now()
    room = Room.objects.select_related("host").filter(pk=room_id).first()
    if room is None or room.state == RoomState.ENDED:
        return []
    created: list[Notification] = []
    with transaction.atomic():
        created += _tell_invitees(room)
    if room.state == RoomState.OPEN:
        with transaction.atomic():
            created += _announce(
                room, NotificationKind.ROOM_LIVE, "", selectors.live_audience_ids(room=room)
            )
    if _reminders_due(room, now):
        assert room.scheduled_start is not None  # noqa: S101 (checked by _reminders_due)
        key = selectors.reminder_key(room.scheduled_start)
        with transaction.atomic():
            created += _announce(
                room,
                NotificationKind.ROOM_REMINDER,
                key,
                selectors.reminder_audience_ids(room=room),
            )
            created += _announce(room, NotificationKind.HOST_REMINDER, key, [room.host_id])
    return created


def notifications_sweep(*, now: datetime | None = None) -> int:
    """Deliver whatever is due for every room (the periodic catch-up). Returns how many."""
    now = now or timezone.now()
    delivered = 0
    for room_id in selectors.rooms_with_due_notifications(now=now):
        try:
            delivered += len(room_announce(room_id=room_id, now=now))
        except Exception:
            log.exception("announcing room %s failed; the next sweep tries again", room_id)
    return delivered


@transaction.atomic
def notifications_mark_read(
    *, user: User, ids: Iterable[int] | None, now: datetime | None = None
) -> int:
    """Mark some of the user's notifications read (`ids`), or all of them (None).

    Someone else's notification is answered like one that does not exist. Returns the unread
    count after the change; it is pushed to the user's other open pages too.
    """
    now = now or timezone.now()
    mine = Notification.objects.filter(recipient=user)
    if ids is not None:
        wanted = set(ids)
        if not wanted:
            raise InvalidInput("no_notifications", "Name at least one notification.")
        if len(wanted) > MARK_READ_MAX:
            raise InvalidInput("too_many_notifications", f"Mark at most {MARK_READ_MAX} at a time.")
        mine = mine.filter(pk__in=wanted)
        if mine.count() != len(wanted):
            raise NotFound("notification_not_found", "No such notification.")
    mine.filter(read_at__isnull=True).update(read_at=now)
    unread = selectors.unread_count(user=user)
    user_id = user.pk
    transaction.on_commit(
        lambda: events.send_now(
            events.feed_group(user_id), {"type": "feed.notifications_read", "unread_count": unread}
        ),
        robust=True,
    )
    return unread

"""Writes for the feed. Every function runs in one transaction; errors are DomainErrors."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from config.errors import InvalidInput, NotFound, TooManyRequests
from feed import selectors
from feed.models import POST_MAX, Notification, Post
from feed.notifications import notification_public
from rooms import feed_socket, ratelimit
from rooms.i18n import override_for
from rooms.models import Room


@transaction.atomic
def post_create(*, author: User, body: str) -> Post:
    """Publish a post. Surrounding whitespace is dropped; 1..POST_MAX characters remain. At
    most POSTS_PER_HOUR per author (TooManyRequests)."""
    body = body.strip()
    if not body:
        raise InvalidInput("post_empty", _("Write something before posting."))
    if len(body) > POST_MAX:
        raise InvalidInput(
            "post_too_long",
            ngettext(
                "A post may be at most %(limit)s character.",
                "A post may be at most %(limit)s characters.",
                POST_MAX,
            )
            % {"limit": POST_MAX},
        )
    retry_after = ratelimit.hourly(
        action="post", actor=str(author.pk), per_hour=settings.POSTS_PER_HOUR
    )
    if retry_after:
        raise TooManyRequests(
            "rate_limited",
            _("You have posted too often. Try again %(when)s.")
            % {"when": ratelimit.retry_phrase(retry_after)},
            retry_after=retry_after,
        )
    return Post.objects.create(author=author, body=body)


# --- notifications ----------------------------------------------------------------------------
#
# Rooms tells this app what to notify through `rooms.signals` (feed/receivers.py), once per
# (room, person, kind, occurrence), inside the transaction that records it as told: the rows
# created here commit with that record. The live push happens after commit and is best effort:
# the rows are the truth, the header and GET /api/notifications/ always show them.

MARK_READ_MAX = 200


def _push_after_commit(notifications: list[Notification]) -> None:
    if not notifications:
        return
    ids = [n.pk for n in notifications]

    def push() -> None:
        fresh = list(
            Notification.objects.filter(pk__in=ids).select_related(
                "room", "room__host", "recipient"
            )
        )
        counts = selectors.unread_counts(user_ids={n.recipient_id for n in fresh})
        for notification in fresh:
            # In the recipient's language, not that of whoever's request made it.
            with override_for(notification.recipient):
                public = notification_public(notification)
            feed_socket.push(
                notification.recipient_id,
                {
                    "type": "notification",
                    "notification": public,
                    "unread_count": counts.get(notification.recipient_id, 0),
                },
            )

    transaction.on_commit(push, robust=True)


@transaction.atomic
def notifications_create(
    *, room: Room, recipients: Iterable[User], kind: str, occurrence: str = ""
) -> list[Notification]:
    """Notify `recipients` about `room` (one notification each) and push them to their open
    pages after commit. A notification that exists already is not made again."""
    ids = [user.pk for user in recipients]
    Notification.objects.bulk_create(
        [
            Notification(recipient_id=uid, room=room, kind=kind, occurrence=occurrence)
            for uid in ids
        ],
        ignore_conflicts=True,
    )
    created = list(
        Notification.objects.filter(
            room=room, kind=kind, occurrence=occurrence, recipient_id__in=ids
        )
    )
    _push_after_commit(created)
    return created


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
            raise InvalidInput("no_notifications", _("Name at least one notification."))
        if len(wanted) > MARK_READ_MAX:
            raise InvalidInput(
                "too_many_notifications",
                _("Mark at most %(count)s at a time.") % {"count": MARK_READ_MAX},
            )
        mine = mine.filter(pk__in=wanted)
        if mine.count() != len(wanted):
            raise NotFound("notification_not_found", _("No such notification."))
    mine.filter(read_at__isnull=True).update(read_at=now)
    unread = selectors.unread_count(user=user)
    user_id = user.pk
    transaction.on_commit(
        lambda: feed_socket.push(user_id, {"type": "notifications.read", "unread_count": unread}),
        robust=True,
    )
    return unread

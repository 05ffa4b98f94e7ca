"""Reads for the feed. Nothing here writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import Block, User
from accounts.selectors import block_relation_q, friend_ids
from feed.models import Announcement, Notification, NotificationKind, Post
from rooms.models import Audience, CoHost, Invitation, Room, RoomState, Rsvp

# Newest first; the id breaks ties between posts created in the same instant, so every post
# has one place in the order and cursor pagination neither skips nor repeats one.
FEED_ORDERING = ("-created_at", "-id")


def feed_posts(*, user: User) -> QuerySet[Post]:
    """The user's own posts and their friends' posts, newest first, in one query."""
    return (
        Post.objects.filter(Q(author=user) | Q(author__in=friend_ids(user=user)))
        .select_related("author")
        .order_by(*FEED_ORDERING)
    )


# --- notifications ----------------------------------------------------------------------------

NOTIFICATIONS_PAGE = 50


def notifications_for(*, user: User, limit: int = NOTIFICATIONS_PAGE) -> list[Notification]:
    """The user's notifications, newest first; never about a room across a block."""
    return list(
        Notification.objects.filter(recipient=user)
        .exclude(block_relation_q(user=user, field="room__host"))
        .select_related("room", "room__host")
        .order_by("-created_at", "-id")[:limit]
    )


def unread_counts(*, user_ids: Iterable[int]) -> dict[int, int]:
    """Unread notifications per recipient, in one query (for pushing to many at once)."""
    rows = (
        Notification.objects.filter(recipient_id__in=list(user_ids), read_at__isnull=True)
        .values("recipient_id")
        .annotate(n=Count("id"))
    )
    return {row["recipient_id"]: row["n"] for row in rows}


def unread_count(*, user: User) -> int:
    return (
        Notification.objects.filter(recipient=user, read_at__isnull=True)
        .exclude(block_relation_q(user=user, field="room__host"))
        .count()
    )


def _reachable(room: Room, ids: Iterable[int]) -> list[int]:
    """Of `ids`, the active accounts that are not the host and not across a block with them."""
    return sorted(
        User.objects.filter(pk__in=list(ids), is_active=True)
        .exclude(pk=room.host_id)
        .exclude(block_relation_q(user=room.host, field="id"))
        .values_list("pk", flat=True)
    )


def live_audience_ids(*, room: Room) -> list[int]:
    """Who hears that a room went live: the host's friends for an "all friends" room, the
    invitees for an invite-only one."""
    if room.audience == Audience.FRIENDS:
        return _reachable(room, friend_ids(user=room.host))
    return _reachable(room, Invitation.objects.filter(room=room).values_list("user_id", flat=True))


def reminder_audience_ids(*, room: Room) -> list[int]:
    """Who is reminded of a scheduled start: invitees, and people who said "I'll be there"
    and may still see the room."""
    invited = set(Invitation.objects.filter(room=room).values_list("user_id", flat=True))
    coming = set(Rsvp.objects.filter(room=room).values_list("user_id", flat=True))
    may_see = invited | set(CoHost.objects.filter(room=room).values_list("user_id", flat=True))
    if room.audience == Audience.FRIENDS:
        may_see |= set(friend_ids(user=room.host))
    return _reachable(room, invited | (coming & may_see))


def pending_invitation_ids(*, room: Room) -> list[int]:
    """Invitees of a room not yet told of their invitation (and not across a block)."""
    told = Notification.objects.filter(
        room=room, kind=NotificationKind.ROOM_INVITATION
    ).values_list("recipient_id", flat=True)
    invited = Invitation.objects.filter(room=room).exclude(user_id__in=told)
    return _reachable(room, invited.values_list("user_id", flat=True))


def reminder_key(start: datetime) -> str:
    """The occurrence of a reminder: a moved start time is a new reminder."""
    return start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# How long after the fact a lost notification is still worth delivering.
CATCH_UP = timedelta(days=1)


def rooms_with_due_notifications(*, now: datetime) -> list[int]:
    """Rooms the notifications sweep must look at: invitations not yet told, live rooms not
    yet announced, scheduled rooms whose reminder is due and not yet sent."""
    lead = timedelta(minutes=settings.ROOMS_REMINDER_MINUTES)
    no_show = timedelta(minutes=settings.ROOMS_NO_SHOW_MINUTES)
    not_told = ~Exists(
        Notification.objects.filter(
            room_id=OuterRef("room_id"),
            recipient_id=OuterRef("user_id"),
            kind=NotificationKind.ROOM_INVITATION,
        )
    )
    ids = set(
        Invitation.objects.filter(not_told, created_at__gte=now - CATCH_UP)
        .exclude(room__state=RoomState.ENDED)
        .exclude(
            Exists(
                Block.objects.filter(
                    Q(blocker_id=OuterRef("user_id"), blocked_id=OuterRef("room__host_id"))
                    | Q(blocker_id=OuterRef("room__host_id"), blocked_id=OuterRef("user_id"))
                )
            )
        )
        .values_list("room_id", flat=True)
    )
    ids.update(
        Room.objects.filter(state=RoomState.OPEN, opened_at__gte=now - CATCH_UP)
        .exclude(
            Exists(
                Announcement.objects.filter(room=OuterRef("pk"), kind=NotificationKind.ROOM_LIVE)
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
            room_id=room_id, kind=NotificationKind.ROOM_REMINDER, occurrence=reminder_key(start)
        ).exists()
        if not done:
            ids.add(room_id)
    return sorted(ids)

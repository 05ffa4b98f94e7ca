"""Reads for the feed. Nothing here writes."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from accounts.selectors import block_relation_q, friend_ids
from feed.models import Notification, Post

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


def notifications_queryset(*, user: User) -> QuerySet[Notification]:
    """The user's notifications, newest first; never about a room across a block."""
    return (
        Notification.objects.filter(recipient=user)
        .exclude(block_relation_q(user=user, field="room__host"))
        .select_related("room", "room__host")
        .order_by("-created_at", "-id")
    )


def notifications_for(*, user: User, limit: int = NOTIFICATIONS_PAGE) -> list[Notification]:
    return list(notifications_queryset(user=user)[:limit])


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

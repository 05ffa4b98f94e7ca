"""Reads for the feed. Nothing here writes."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.selectors import friend_ids
from feed.models import Post

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

"""How Rooms learns about this site's people: the only Rooms-specific code the site writes.

Friends, for Rooms, are members who follow each other: a one-way follower is someone holding
the link like anyone else (the lobby when the waiting room is on). Blocks count either way.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from people.models import Block, Follow, Member
from rooms.adapter import RoomsAdapter


def _pk(user: Any) -> int | None:
    """The member's pk, or None for anyone who is not a signed-in member."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    pk: int | None = user.pk
    return pk


class PeopleAdapter(RoomsAdapter):
    def friend_ids(self, user: Any) -> QuerySet[Any]:
        pk = _pk(user)
        if pk is None:
            return Member.objects.none().values_list("pk", flat=True)
        # Followers of `user` whom `user` follows back: one query, usable inside another.
        followed_back = Follow.objects.filter(follower_id=pk).values("followed_id")
        return Follow.objects.filter(followed_id=pk, follower_id__in=followed_back).values_list(
            "follower_id", flat=True
        )

    def are_friends(self, a: Any, b: Any) -> bool:
        first, second = _pk(a), _pk(b)
        if first is None or second is None or first == second:
            return False
        both_ways = Q(follower_id=first, followed_id=second) | Q(
            follower_id=second, followed_id=first
        )
        return Follow.objects.filter(both_ways).count() == 2

    def blocked_ids(self, user: Any) -> QuerySet[Any]:
        pk = _pk(user)
        if pk is None:
            return Member.objects.none().values_list("pk", flat=True)
        blocked_by_them = Block.objects.filter(blocker_id=OuterRef("pk"), blocked_id=pk)
        blocked_by_user = Block.objects.filter(blocker_id=pk, blocked_id=OuterRef("pk"))
        return Member.objects.filter(Exists(blocked_by_them) | Exists(blocked_by_user)).values_list(
            "pk", flat=True
        )

    def is_blocked(self, a: Any, b: Any) -> bool:
        first, second = _pk(a), _pk(b)
        if first is None or second is None:
            return False
        either_way = Q(blocker_id=first, blocked_id=second) | Q(blocker_id=second, blocked_id=first)
        return Block.objects.filter(either_way).exists()

    def display_name(self, user: Any) -> str:
        name: str = user.full_name or user.email.split("@", 1)[0]
        return name

    def avatar_url(self, user: Any) -> str:
        photo: str = user.photo
        return photo

    def can_create_rooms(self, user: Any) -> bool:
        return bool(user.is_active and not user.suspended)

    def can_join_rooms(self, user: Any) -> bool:
        return bool(user.is_active and not user.suspended)

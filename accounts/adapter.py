"""The reference site's answer to Rooms' social-graph adapter (ROOMS_ADAPTER in config/settings.py).

Every answer comes from this app's own rules: mutual friendships, blocks either way, the
display name, and suspension (a suspended account can log in and read, but may neither create
nor join rooms).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts import selectors
from accounts.models import User
from rooms.adapter import RoomsAdapter


class AccountsAdapter(RoomsAdapter):
    def friend_ids(self, user: User) -> QuerySet[Any, Any]:
        return selectors.friend_ids(user=user)

    def are_friends(self, a: User, b: User) -> bool:
        return selectors.are_friends(a=a, b=b)

    def blocked_ids(self, user: User) -> QuerySet[Any, Any]:
        return User.objects.filter(selectors.block_relation_q(user=user, field="id")).values("pk")

    def is_blocked(self, a: User, b: User) -> bool:
        return selectors.blocked_either_way(a=a, b=b)

    def display_name(self, user: User) -> str:
        return user.name

    def language(self, user: User) -> str | None:
        return user.language or None

    def can_create_rooms(self, user: User) -> bool:
        return user.is_active and not user.is_suspended

    def can_join_rooms(self, user: User) -> bool:
        return user.is_active and not user.is_suspended

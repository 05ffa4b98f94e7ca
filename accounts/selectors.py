from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Block, FriendRequest, Friendship, User
from config.errors import NotFound


def friend_ids(*, user: User) -> QuerySet[Friendship, int]:
    """A subquery of the user's friends' ids (usable inside other queries)."""
    return Friendship.objects.filter(user=user).values_list("friend_id", flat=True)


def friends(*, user: User) -> QuerySet[User]:
    return User.objects.filter(id__in=friend_ids(user=user)).order_by("username")


def are_friends(*, a: User, b: User) -> bool:
    return Friendship.objects.filter(user=a, friend=b).exists()


def blocked_either_way(*, a: User, b: User) -> bool:
    return Block.objects.filter(Q(blocker=a, blocked=b) | Q(blocker=b, blocked=a)).exists()


def block_relation_q(*, user: User, field: str) -> Q:
    """Matches rows whose `field` (a user foreign key) is on either side of a block with `user`.

    Two indexed subqueries, so a caller can exclude blocked relations in the same query.
    """
    return Q(**{f"{field}__in": Block.objects.filter(blocker=user).values("blocked_id")}) | Q(
        **{f"{field}__in": Block.objects.filter(blocked=user).values("blocker_id")}
    )


def user_by_username(*, username: str) -> User:
    """An active user by exact username; unknown and inactive look the same."""
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound("user_not_found", _("No such user."))
    return user


def active_user(*, user_id: int) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound("user_not_found", _("No such user."))
    return user


def incoming_requests(*, user: User) -> QuerySet[FriendRequest]:
    return (
        FriendRequest.objects.filter(to_user=user)
        .select_related("from_user")
        .order_by("-created_at", "-id")
    )


def outgoing_requests(*, user: User) -> QuerySet[FriendRequest]:
    return (
        FriendRequest.objects.filter(from_user=user)
        .select_related("to_user")
        .order_by("-created_at", "-id")
    )


def blocked_users(*, user: User) -> QuerySet[User]:
    return User.objects.filter(
        id__in=Block.objects.filter(blocker=user).values("blocked_id")
    ).order_by("username")


def user_search(*, user: User, query: str, limit: int = 20) -> QuerySet[User]:
    """People the user may look up: never those on either side of a block."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(username__istartswith=query) | Q(display_name__istartswith=query))
        .exclude(id=user.id)
        .exclude(block_relation_q(user=user, field="id"))
        .order_by("username")[:limit]
    )

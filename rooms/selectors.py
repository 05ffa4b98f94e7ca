"""Reads about rooms. Nothing here writes."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import User
from accounts.selectors import block_relation_q, blocked_either_way, friend_ids
from config.errors import NotFound
from rooms.models import (
    Audience,
    Ban,
    CoHost,
    Invitation,
    Participant,
    ParticipantState,
    Room,
    RoomState,
)


def room_by_token(*, token: str, user: User | None) -> Room:
    """The room behind a link. A room whose host is on either side of a block with `user`
    is answered exactly like an unknown token."""
    room = Room.objects.select_related("host").filter(token=token).first()
    if room is None:
        raise NotFound("room_not_found", "This room doesn't exist.")
    if (
        user is not None
        and user.is_authenticated
        and room.host_id != user.pk
        and blocked_either_way(a=user, b=room.host)
    ):
        raise NotFound("room_not_found", "This room doesn't exist.")
    return room


def rooms_visible_to(*, user: User) -> QuerySet[Room]:
    """Rooms that appear in `user`'s feed: their own, co-hosted, invited, and friends' rooms
    open to all friends; never a room whose host is on either side of a block with them."""
    return (
        Room.objects.filter(
            Q(host=user)
            | Q(cohosts__user=user)
            | Q(invitations__user=user)
            | Q(audience=Audience.FRIENDS, host__in=friend_ids(user=user))
        )
        .exclude(block_relation_q(user=user, field="host"))
        .exclude(state=RoomState.ENDED)
        .distinct()
    )


def feed_rooms(*, user: User, now: datetime, limit: int = 20) -> tuple[list[Room], list[Room]]:
    """Live rooms (most people first) and upcoming rooms (soonest first) for the feed.

    Each room carries `participant_count` and `friends_inside` (admitted friends of `user`);
    the number of queries does not depend on how many rooms or friends there are.
    """
    friends_inside = Prefetch(
        "participants",
        queryset=Participant.objects.filter(
            state=ParticipantState.ADMITTED, user__in=friend_ids(user=user)
        )
        .select_related("user")
        .order_by("joined_at"),
        to_attr="friends_inside",
    )
    base = (
        rooms_visible_to(user=user)
        .select_related("host")
        .annotate(
            participant_count=Count(
                "participants",
                filter=Q(participants__state=ParticipantState.ADMITTED),
                distinct=True,
            )
        )
        .prefetch_related(friends_inside)
    )
    live: list[Room] = list(
        base.filter(state=RoomState.OPEN).order_by("-participant_count", "-opened_at")[:limit]
    )
    upcoming: list[Room] = list(
        base.filter(state=RoomState.SCHEDULED, scheduled_start__isnull=False).order_by(
            "scheduled_start"
        )[:limit]
    )
    return live, upcoming


def roster(*, room: Room) -> QuerySet[Participant]:
    return (
        Participant.objects.filter(room=room, state=ParticipantState.ADMITTED)
        .select_related("user")
        .order_by("joined_at", "pk")
    )


def lobby(*, room: Room) -> QuerySet[Participant]:
    return (
        Participant.objects.filter(room=room, state=ParticipantState.LOBBY)
        .select_related("user")
        .order_by("created_at", "pk")
    )


def cohosts(*, room: Room) -> QuerySet[CoHost]:
    return CoHost.objects.filter(room=room).select_related("user").order_by("created_at", "pk")


def invitations(*, room: Room) -> QuerySet[Invitation]:
    return Invitation.objects.filter(room=room).select_related("user").order_by("created_at", "pk")


def bans(*, room: Room) -> QuerySet[Ban]:
    return Ban.objects.filter(room=room).order_by("-created_at")


def hosted_rooms(*, user: User) -> QuerySet[Room]:
    return (
        Room.objects.filter(Q(host=user) | Q(cohosts__user=user)).distinct().order_by("-created_at")
    )

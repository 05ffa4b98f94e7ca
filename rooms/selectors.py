"""Reads about rooms. Nothing here writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypedDict, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from rooms import events, frames, turn
from rooms.adapter import get_adapter
from rooms.errors import Forbidden, NotFound
from rooms.models import (
    Audience,
    AuditEvent,
    Ban,
    CoHost,
    Invitation,
    LobbyReason,
    Participant,
    ParticipantState,
    Role,
    Room,
    RoomState,
    Rsvp,
)
from rooms.users import User


def room_by_token(*, token: str, user: User | None) -> Room:
    """The room behind a link. A room whose host is on either side of a block with `user`
    is answered exactly like an unknown token."""
    room = Room.objects.select_related("host").filter(token=token).first()
    if room is None:
        raise NotFound("room_not_found", _("This room doesn't exist."))
    if (
        user is not None
        and user.is_authenticated
        and room.host_id != user.pk
        and get_adapter().is_blocked(user, room.host)
    ):
        raise NotFound("room_not_found", _("This room doesn't exist."))
    return room


def rooms_visible_to(*, user: User) -> QuerySet[Room]:
    """Rooms that appear in `user`'s feed: their own, co-hosted, invited, and friends' rooms
    open to all friends; never a room whose host is on either side of a block with them."""
    adapter = get_adapter()
    return (
        Room.objects.filter(
            Q(host=user)
            | Q(cohosts__user=user)
            | Q(invitations__user=user)
            | Q(audience=Audience.FRIENDS, host__in=adapter.friend_ids(user))
        )
        .exclude(host__in=adapter.blocked_ids(user))
        .exclude(state=RoomState.ENDED)
        .distinct()
    )


def _feed_rooms(*, user: User) -> Any:  # a QuerySet of rooms with annotations
    friends_inside = Prefetch(
        "participants",
        queryset=Participant.objects.filter(
            state=ParticipantState.ADMITTED, user__in=get_adapter().friend_ids(user)
        )
        .select_related("user")
        .order_by("joined_at"),
        to_attr="friends_inside",
    )
    return (
        rooms_visible_to(user=user)
        .select_related("host")
        .annotate(
            participant_count=Count(
                "participants",
                filter=Q(participants__state=ParticipantState.ADMITTED),
                distinct=True,
            ),
            # A host or co-host inside with a live connection: otherwise the card says the
            # host is away (the room let nobody new in until one is back).
            host_present=Exists(
                Participant.objects.filter(
                    room=OuterRef("pk"),
                    state=ParticipantState.ADMITTED,
                    role__in=(Role.HOST, Role.COHOST),
                    disconnected_at__isnull=True,
                )
            ),
        )
        .prefetch_related(friends_inside)
    )


# A scheduled room whose host has not come this long after its start leaves "upcoming".
UPCOMING_OVERDUE = timedelta(hours=2)


def feed_rooms(*, user: User, now: datetime, limit: int = 20) -> tuple[list[Room], list[Room]]:
    """Live rooms (most people first) and upcoming rooms (soonest first) for the feed.

    Public (the feed integration): the rooms `user` may enter, at most `limit` of each, as the
    strip tag, GET rooms/feed/ and a site's own feed show them; serialize them with
    `rooms.serializers.RoomCardSerializer`. Each room carries `participant_count`,
    `host_present` and `friends_inside` (admitted Participants who are friends of `user`); the
    number of queries does not depend on how many rooms or friends there are.
    """
    base = _feed_rooms(user=user)
    # Live means someone is there: an open room nobody is in is not shown as live (it ends by
    # itself after ROOMS_IDLE_MINUTES).
    live: list[Room] = list(
        base.filter(state=RoomState.OPEN, participant_count__gt=0).order_by(
            "-participant_count", "-opened_at"
        )[:limit]
    )
    upcoming: list[Room] = list(
        base.filter(
            state=RoomState.SCHEDULED, scheduled_start__gte=now - UPCOMING_OVERDUE
        ).order_by("scheduled_start")[:limit]
    )
    return live, upcoming


def feed_room_card(*, user: User, room_id: int, now: datetime) -> Room | None:
    """One room as it appears in `user`'s feed, or None when it does not appear there."""
    room = _feed_rooms(user=user).filter(pk=room_id).first()
    if room is None:
        return None
    if room.state == RoomState.OPEN and room.participant_count == 0:
        return None
    if room.state == RoomState.SCHEDULED and (
        room.scheduled_start is None or room.scheduled_start < now - UPCOMING_OVERDUE
    ):
        return None
    return room


def room_audience_ids(*, room: Room) -> list[int]:
    """Everyone whose feed may show this room, whatever its state."""
    ids = {room.host_id}
    ids.update(CoHost.objects.filter(room=room).values_list("user_id", flat=True))
    ids.update(Invitation.objects.filter(room=room).values_list("user_id", flat=True))
    adapter = get_adapter()
    accounts = get_user_model()._default_manager
    if room.audience == Audience.FRIENDS:
        friends = accounts.filter(pk__in=adapter.friend_ids(room.host))
        ids.update(friends.values_list("pk", flat=True))
    blocked = accounts.filter(pk__in=adapter.blocked_ids(room.host)).values_list("pk", flat=True)
    return sorted(ids - set(blocked))


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


def active_account(*, user_id: int) -> User:
    """An active account of the site by id (to name as a co-host, say); an unknown id and an
    inactive account look the same."""
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None or not user.is_active:
        raise NotFound("user_not_found", _("No such user."))
    return user


def participant_with_room(*, participant_id: int) -> Participant:
    return Participant.objects.select_related("room").get(pk=participant_id)


def participant_account(*, participant_id: int) -> User | None:
    """The account behind a visit (None for guests)."""
    participant = Participant.objects.select_related("user").get(pk=participant_id)
    return participant.user


def ended_by(*, room_id: int) -> str:
    """Who ended the room: "host", "cohost", "moderator" (from the admin), "idle" (nobody was
    left) or "no_show" (the host never came); "" when not known."""
    who = (
        AuditEvent.objects.filter(room_id=room_id, kind="room.ended")
        .values_list("data__ended_by", flat=True)
        .first()
    )
    return who if isinstance(who, str) else ""


def room_ended_notice(*, room_id: int) -> frames.RoomEnded:
    """The `room.ended` frame a socket closes with: the room's event (same version, room and
    data), plus `ended_by` at the top as before."""
    room = Room.objects.get(pk=room_id)
    data = (
        AuditEvent.objects.filter(room_id=room_id, kind="room.ended")
        .values_list("data", flat=True)
        .first()
    )
    data = data if isinstance(data, dict) else {}
    who = data.get("ended_by")
    who = who if isinstance(who, str) else ""
    # The audit row holds what `_record` published as the event's data.
    ended_data = cast(frames.RoomEndedData, {**data, "ended_by": who})
    return {
        "type": "room.ended",
        "version": room.version,
        "room": events.room_public(room),
        "data": ended_data,
        "ended_by": ended_data["ended_by"],
    }


def acted_by(*, participant_id: int, kind: str) -> str:
    """Who removed ("participant.removed") or turned away ("participant.denied") this person:
    "host", "cohost" or "moderator"; "" when not known."""
    by = (
        AuditEvent.objects.filter(target_id=participant_id, kind=kind)
        .order_by("-version")
        .values_list("data__by", flat=True)
        .first()
    )
    return by if isinstance(by, str) else ""


def removal_reason(*, participant_id: int) -> str:
    reason = (
        AuditEvent.objects.filter(target_id=participant_id, kind="participant.removed")
        .values_list("data__reason", flat=True)
        .first()
    )
    return reason if isinstance(reason, str) else ""


def _admitted_visit(participant_id: int) -> Participant:
    """The visit, if it is in a live room right now (media and snapshots are for them only)."""
    participant = Participant.objects.select_related("room").get(pk=participant_id)
    if participant.state != ParticipantState.ADMITTED or participant.room.state == RoomState.ENDED:
        raise Forbidden("not_in_room", _("You are not in this room."))
    return participant


class MediaRights(TypedDict):
    can_share_screen: bool
    muted: bool
    camera_off: bool
    max_screen_shares: int


# "Several" screen shares: as many as a room can hold people.
SEVERAL_SCREEN_SHARES = 50


def media_rights(*, participant_id: int) -> MediaRights:
    participant = _admitted_visit(participant_id)
    room = participant.room
    return {
        "can_share_screen": participant.is_moderator or room.participants_can_share_screen,
        "muted": participant.audio_muted,
        "camera_off": participant.camera_off,
        "max_screen_shares": SEVERAL_SCREEN_SHARES if room.several_screen_shares else 1,
    }


def turn_credentials(*, participant_id: int) -> list[turn.IceServerConfig] | None:
    """Fresh TURN credentials, or None once the person is no longer admitted to a live room
    (in the lobby, removed, denied, gone, or the room ended)."""
    admitted = (
        Participant.objects.filter(pk=participant_id, state=ParticipantState.ADMITTED)
        .exclude(room__state=RoomState.ENDED)
        .exists()
    )
    return turn.ice_servers(participant_id=participant_id) if admitted else None


def room_snapshot(*, participant_id: int) -> dict[str, Any]:
    """Everything a socket needs to draw the room, consistent with one room version.

    The room row is locked while reading: services take the same lock to change a room, so the
    roster and the version cannot come from two different moments.
    """
    with transaction.atomic():
        room_id = _admitted_visit(participant_id).room_id
        room = Room.objects.select_for_update().get(pk=room_id)
        people = list(
            Participant.objects.filter(
                room=room, state__in=(ParticipantState.ADMITTED, ParticipantState.LOBBY)
            ).order_by("pk")
        )
        you = Participant.objects.get(pk=participant_id)
    snapshot: dict[str, Any] = {
        "version": room.version,
        "room": events.room_public(room),
        "roster": [
            events.participant_public(p) for p in people if p.state == ParticipantState.ADMITTED
        ],
        "you": {
            **events.participant_public(you),
            "can_share_screen": you.is_moderator or room.participants_can_share_screen,
            # Only admitted people get snapshots, so only they ever see TURN credentials.
            "ice_servers": turn.ice_servers(participant_id=you.pk),
        },
    }
    if you.is_moderator:
        snapshot["lobby"] = [
            events.participant_public(p) for p in people if p.state == ParticipantState.LOBBY
        ]
    return snapshot


# --- what the sweep has to do (rooms.sweep.rooms_sweep) ----------------------------------


def rooms_with_vanished_seats(*, now: datetime) -> list[int]:
    cutoff = now - timedelta(seconds=settings.ROOMS_RESUME_GRACE_SECONDS)
    return list(
        Participant.objects.filter(
            state__in=(ParticipantState.LOBBY, ParticipantState.ADMITTED),
            disconnected_at__lt=cutoff,
        )
        .values_list("room_id", flat=True)
        .distinct()
    )


def rooms_start_reached_with_early_lobby(*, now: datetime) -> list[int]:
    return list(
        Participant.objects.filter(
            state=ParticipantState.LOBBY,
            lobby_reason=LobbyReason.NOT_STARTED,
            room__scheduled_start__lte=now,
        )
        .values_list("room_id", flat=True)
        .distinct()
    )


def rooms_past_no_show(*, now: datetime) -> list[int]:
    cutoff = now - timedelta(minutes=settings.ROOMS_NO_SHOW_MINUTES)
    return list(
        Room.objects.filter(state=RoomState.SCHEDULED, scheduled_start__lte=cutoff).values_list(
            "pk", flat=True
        )
    )


def open_rooms_without_anyone() -> list[int]:
    """Open rooms with nobody admitted (the idle rule then looks at how long for)."""
    return list(
        Room.objects.filter(state=RoomState.OPEN)
        .exclude(participants__state=ParticipantState.ADMITTED)
        .values_list("pk", flat=True)
    )


def live_counts() -> dict[str, int]:
    """Rooms live now, the people admitted to them and those waiting in lobbies (two indexed
    queries: rooms by state, then their participants by room and state)."""
    current = (RoomState.OPEN, RoomState.SCHEDULED)
    people = Participant.objects.filter(
        room__state__in=current, state__in=(ParticipantState.ADMITTED, ParticipantState.LOBBY)
    ).aggregate(
        admitted=Count("pk", filter=Q(state=ParticipantState.ADMITTED, room__state=RoomState.OPEN)),
        lobby=Count("pk", filter=Q(state=ParticipantState.LOBBY)),
    )
    return {
        "rooms_live": Room.objects.filter(state=RoomState.OPEN).count(),
        "participants": int(people["admitted"] or 0),
        "lobby": int(people["lobby"] or 0),
    }


def rsvp_tokens(*, user: User, tokens: list[str]) -> list[str]:
    """Of these rooms, the ones `user` said "I'll be there" to (one query)."""
    return list(
        Rsvp.objects.filter(user=user, room__token__in=tokens).values_list("room__token", flat=True)
    )


def rsvp_state(*, room: Room, user: User) -> dict[str, Any]:
    """Whether `user` said "I'll be there" to `room`, and how many people did."""
    going = Rsvp.objects.filter(room=room, user=user).exists()
    return {"going": going, "count": Rsvp.objects.filter(room=room).count()}

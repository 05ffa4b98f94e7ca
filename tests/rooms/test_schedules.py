"""Time-driven rules with a controllable clock: the start-time lobby, no-shows, idle rooms,
vanished connections, and the sweep that applies them (idempotent)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from rooms import services, sweep
from rooms.models import AuditEvent, LobbyReason, Participant, ParticipantState, Room, RoomState
from rooms.policy import Outcome, Reason
from rooms.services import Identity
from tests.factories import host_arrives

pytestmark = pytest.mark.django_db


def me(user: User) -> Identity:
    return Identity(user=user, device_id=f"dev-{user.pk}")


def scheduled_room(host: User, minutes: int = 60) -> tuple[Room, datetime]:
    now = timezone.now()
    room = services.room_create(
        host=host, title="Later", scheduled_start=now + timedelta(minutes=minutes), now=now
    )
    assert room.scheduled_start is not None
    return room, room.scheduled_start


def connect(participant: Participant, now: datetime) -> None:
    services.participant_connected(participant_id=participant.pk, now=now)


def test_before_the_start_people_wait_for_the_start_then_for_the_host(
    alice: User, bob: User, friends: None
) -> None:
    room, start = scheduled_room(alice)
    early = services.room_join(token=room.token, identity=me(bob), now=start - timedelta(minutes=5))
    assert (early.decision.outcome, early.decision.reason) == (Outcome.LOBBY, Reason.NOT_STARTED)
    connect(early.participant, start - timedelta(minutes=5))
    result = sweep.rooms_sweep(now=start + timedelta(seconds=1))
    assert result.started == [room.pk]
    early.participant.refresh_from_db()
    assert early.participant.lobby_reason == LobbyReason.WAITING_FOR_HOST
    assert sweep.rooms_sweep(now=start + timedelta(seconds=2)).started == []


def test_a_host_who_comes_early_lets_in_those_waiting_for_the_start(
    alice: User, bob: User, friends: None
) -> None:
    room, start = scheduled_room(alice)
    early = services.room_join(token=room.token, identity=me(bob), now=start - timedelta(minutes=5))
    host_arrives(room, alice)
    early.participant.refresh_from_db()
    assert early.participant.state == ParticipantState.ADMITTED


def test_a_room_whose_host_never_came_expires_after_the_no_show_time(
    alice: User, bob: User, friends: None, settings: Any
) -> None:
    settings.ROOMS_NO_SHOW_MINUTES = 30
    room, start = scheduled_room(alice)
    waiting = services.room_join(token=room.token, identity=me(bob), now=start).participant
    connect(waiting, start)
    assert sweep.rooms_sweep(now=start + timedelta(minutes=29)).expired == []
    assert sweep.rooms_sweep(now=start + timedelta(minutes=30)).expired == [room.pk]
    assert sweep.rooms_sweep(now=start + timedelta(minutes=31)).expired == []
    room.refresh_from_db()
    waiting.refresh_from_db()
    assert room.state == RoomState.ENDED
    assert waiting.state == ParticipantState.LEFT
    ended = AuditEvent.objects.get(room=room, kind="room.ended")
    assert ended.data == {"reason": "no_show", "ended_by": "no_show"}


def test_a_room_the_host_opened_does_not_expire_as_a_no_show(alice: User, settings: Any) -> None:
    settings.ROOMS_NO_SHOW_MINUTES = 30
    room, start = scheduled_room(alice, minutes=1)
    host_arrives(room, alice)
    assert services.room_expire_no_show(room_id=room.pk, now=start + timedelta(hours=2)) is False


def test_an_empty_open_room_ends_after_the_idle_time(alice: User, settings: Any) -> None:
    settings.ROOMS_IDLE_MINUTES = 15
    room = services.room_create(host=alice, title="Now")
    seat = host_arrives(room, alice)
    t0 = timezone.now()
    assert sweep.rooms_sweep(now=t0 + timedelta(hours=1)).idle_ended == []  # host inside
    services.room_leave(room=room, identity=me(alice), now=t0)
    assert sweep.rooms_sweep(now=t0 + timedelta(minutes=14)).idle_ended == []
    assert sweep.rooms_sweep(now=t0 + timedelta(minutes=15)).idle_ended == [room.pk]
    assert sweep.rooms_sweep(now=t0 + timedelta(minutes=16)).idle_ended == []
    room.refresh_from_db()
    assert room.state == RoomState.ENDED
    assert AuditEvent.objects.get(room=room, kind="room.ended").data == {
        "reason": "idle",
        "ended_by": "idle",
    }
    seat.refresh_from_db()
    assert seat.left_at == t0  # the minutes stay true: the end did not move the leave time


def test_vanished_connections_are_marked_left_at_the_moment_they_vanished(
    alice: User, bob: User, friends: None, settings: Any
) -> None:
    settings.ROOMS_RESUME_GRACE_SECONDS = 15
    settings.ROOMS_IDLE_MINUTES = 15
    room = services.room_create(host=alice, title="Now")
    host_arrives(room, alice)
    t0 = timezone.now()
    bob_seat = services.room_join(token=room.token, identity=me(bob), now=t0).participant
    connect(bob_seat, t0)
    services.participant_disconnected(participant_id=bob_seat.pk, now=t0 + timedelta(minutes=1))
    assert sweep.rooms_sweep(now=t0 + timedelta(minutes=1, seconds=10)).released == []
    swept = sweep.rooms_sweep(now=t0 + timedelta(minutes=1, seconds=16))
    assert swept.released == [room.pk]
    bob_seat.refresh_from_db()
    assert (bob_seat.state, bob_seat.left_at) == (
        ParticipantState.LEFT,
        t0 + timedelta(minutes=1),
    )


def test_a_room_of_dead_sockets_is_released_and_ended_in_one_sweep(
    alice: User, settings: Any
) -> None:
    settings.ROOMS_IDLE_MINUTES = 15
    room = services.room_create(host=alice, title="Now")
    seat = host_arrives(room, alice)
    t0 = timezone.now()
    services.participant_disconnected(participant_id=seat.pk, now=t0)
    swept = sweep.rooms_sweep(now=t0 + timedelta(minutes=20))
    assert (swept.released, swept.idle_ended) == ([room.pk], [room.pk])


def test_the_sweep_twice_changes_nothing_the_second_time(alice: User, settings: Any) -> None:
    room, start = scheduled_room(alice)
    later = start + timedelta(hours=3)
    sweep.rooms_sweep(now=later)
    version = Room.objects.get(pk=room.pk).version
    again = sweep.rooms_sweep(now=later)
    assert (again.expired, again.idle_ended, again.released, again.failed) == ([], [], [], [])
    assert Room.objects.get(pk=room.pk).version == version

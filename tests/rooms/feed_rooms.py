"""Rooms as feeds show them: live and upcoming rooms of a viewer's friends, for the tests of
Rooms' feed (selector, API, strip tag, socket) and of the reference site's feed page and API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.models import User
from rooms.models import Room, RoomState
from tests.factories import ParticipantFactory, RoomFactory, UserFactory, befriend


def live_room(host: User, *inside: User, **fields: Any) -> Room:
    fields = {"state": RoomState.OPEN, "opened_at": timezone.now(), **fields}
    room = RoomFactory(host=host, **fields)
    ParticipantFactory(room=room, user=host, role="host")
    for user in inside:
        ParticipantFactory(room=room, user=user)
    return room


def upcoming_room(host: User, hours: int = 1, **fields: Any) -> Room:
    start = timezone.now() + timedelta(hours=hours)
    return RoomFactory(host=host, scheduled_start=start, **fields)


def build_world(alice: User, n: int) -> list[User]:
    """n friends of alice (returned), each hosting a live room (with other friends and
    strangers inside) and an upcoming room."""
    pals = [UserFactory(username=f"pal{n}_{i}") for i in range(n)]
    for pal in pals:
        befriend(alice, pal)
    for i, pal in enumerate(pals):
        stranger = UserFactory(username=f"stranger{n}_{i}")
        live_room(pal, pals[(i + 1) % n] if n > 1 else alice, stranger)
        upcoming_room(pal, hours=i + 1)
    return pals

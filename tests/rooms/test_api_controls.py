"""POST /api/rooms/<token>/lock/, /unlock/ and /end/."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from rooms import services
from rooms.models import CoHost, Participant, ParticipantState, RoomState
from tests.conftest import as_user
from tests.factories import open_room

pytestmark = pytest.mark.django_db


def test_it_locks_and_unlocks(alice: User) -> None:
    room = open_room(alice)
    client = as_user(alice)

    r = client.post(f"/api/rooms/{room.token}/lock/", format="json")
    assert r.status_code == 200
    assert r.json()["locked"] is True
    room.refresh_from_db()
    assert room.locked is True

    r = client.post(f"/api/rooms/{room.token}/unlock/", format="json")
    assert r.status_code == 200
    room.refresh_from_db()
    assert room.locked is False


def test_a_cohost_may_lock(alice: User, bob: User) -> None:
    room = open_room(alice)
    CoHost.objects.create(room=room, user=bob)

    assert as_user(bob).post(f"/api/rooms/{room.token}/lock/").status_code == 200
    room.refresh_from_db()
    assert room.locked is True


def test_it_ends_the_room_for_everyone(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    services.room_join(token=room.token, identity=services.Identity(user=bob))

    r = as_user(alice).post(f"/api/rooms/{room.token}/end/")

    assert r.status_code == 200
    assert r.json()["state"] == "ended"
    room.refresh_from_db()
    assert room.state == RoomState.ENDED
    assert not Participant.objects.filter(room=room, state=ParticipantState.ADMITTED).exists()


@pytest.mark.parametrize("action", ["lock", "unlock", "end"])
def test_controls_validate_ownership(
    api: APIClient, alice: User, bob: User, charlie: User, friends: None, action: str
) -> None:
    room = open_room(alice)
    services.room_join(token=room.token, identity=services.Identity(user=bob))
    if action == "unlock":
        services.room_set_locked(room=room, actor=alice, locked=True)
    room.refresh_from_db()
    before = (room.locked, room.state, room.version)

    for client in (as_user(charlie), as_user(bob)):  # an outsider, a participant
        r = client.post(f"/api/rooms/{room.token}/{action}/")
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "not_a_host"
    assert api.post(f"/api/rooms/{room.token}/{action}/").status_code == 401

    room.refresh_from_db()
    assert (room.locked, room.state, room.version) == before


def test_locking_an_ended_room_is_gone(alice: User) -> None:
    room = open_room(alice)
    services.room_end(room=room, actor=alice)

    r = as_user(alice).post(f"/api/rooms/{room.token}/lock/")

    assert r.status_code == 410
    assert r.json()["error"]["code"] == "room_ended"


def test_controls_on_an_unknown_room_are_a_404(alice: User) -> None:
    r = as_user(alice).post("/api/rooms/nope/lock/")

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "room_not_found"

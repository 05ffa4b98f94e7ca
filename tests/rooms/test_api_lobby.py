"""POST /api/rooms/<token>/lobby/admit/ and /lobby/deny/."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from rooms import services
from rooms.models import CoHost, Participant, ParticipantState, Room
from tests.conftest import as_user
from tests.factories import open_room

pytestmark = pytest.mark.django_db


def _waiting_guest(room: Room, name: str) -> int:
    r = APIClient().post(f"/api/rooms/{room.token}/join/", {"display_name": name}, format="json")
    assert r.json()["participant"]["state"] == "lobby"
    return int(r.json()["participant"]["id"])


def _state(participant_id: int) -> str:
    return Participant.objects.get(pk=participant_id).state


def test_it_admits_by_id(alice: User) -> None:
    room = open_room(alice)
    dora, eve = _waiting_guest(room, "Dora"), _waiting_guest(room, "Eve")

    r = as_user(alice).post(
        f"/api/rooms/{room.token}/lobby/admit/", {"participant_ids": [dora]}, format="json"
    )

    assert r.status_code == 200, r.json()
    assert [p["id"] for p in r.json()["participants"]] == [dora]
    assert r.json()["participants"][0]["state"] == "admitted"
    assert (_state(dora), _state(eve)) == (ParticipantState.ADMITTED, ParticipantState.LOBBY)


def test_it_admits_everyone(alice: User, bob: User) -> None:
    room = open_room(alice)
    CoHost.objects.create(room=room, user=bob)
    ids = [_waiting_guest(room, "Dora"), _waiting_guest(room, "Eve")]

    r = as_user(bob).post(f"/api/rooms/{room.token}/lobby/admit/", {"all": True}, format="json")

    assert r.status_code == 200
    assert [p["id"] for p in r.json()["participants"]] == ids
    assert all(_state(i) == ParticipantState.ADMITTED for i in ids)


def test_it_denies(alice: User) -> None:
    room = open_room(alice)
    dora, eve = _waiting_guest(room, "Dora"), _waiting_guest(room, "Eve")

    r = as_user(alice).post(
        f"/api/rooms/{room.token}/lobby/deny/", {"participant_ids": [eve]}, format="json"
    )
    assert r.status_code == 200
    assert (_state(dora), _state(eve)) == (ParticipantState.LOBBY, ParticipantState.DENIED)

    r = as_user(alice).post(f"/api/rooms/{room.token}/lobby/deny/", {"all": True}, format="json")
    assert r.status_code == 200
    assert _state(dora) == ParticipantState.DENIED


@pytest.mark.parametrize("action", ["admit", "deny"])
def test_lobby_validates_ownership(
    api: APIClient, alice: User, bob: User, charlie: User, friends: None, action: str
) -> None:
    room = open_room(alice)
    dora = _waiting_guest(room, "Dora")
    services.room_join(token=room.token, identity=services.Identity(user=bob))  # a participant
    url = f"/api/rooms/{room.token}/lobby/{action}/"

    for client in (as_user(charlie), as_user(bob)):
        r = client.post(url, {"all": True}, format="json")
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "not_a_host"
    r = api.post(url, {"all": True}, format="json")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"
    assert _state(dora) == ParticipantState.LOBBY


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"all": False},
        {"all": True, "participant_ids": [1]},
        {"participant_ids": []},
        {"participant_ids": "1,2"},
        {"participant_ids": [1.5]},
        {"participant_ids": [None]},
        {"participant_ids": [2**64]},
        {"all": "yes please"},
    ],
)
def test_lobby_validates_input(alice: User, body: dict[str, Any]) -> None:
    room = open_room(alice)
    dora = _waiting_guest(room, "Dora")

    r = as_user(alice).post(f"/api/rooms/{room.token}/lobby/admit/", body, format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid"
    assert _state(dora) == ParticipantState.LOBBY


def test_admitting_someone_not_waiting_changes_nothing(alice: User) -> None:
    room = open_room(alice)
    dora = _waiting_guest(room, "Dora")

    r = as_user(alice).post(
        f"/api/rooms/{room.token}/lobby/admit/",
        {"participant_ids": [dora, 987_654]},
        format="json",
    )

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_in_lobby"
    assert _state(dora) == ParticipantState.LOBBY

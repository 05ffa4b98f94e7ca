"""GET /participants/, POST /participants/<id>/remove/ and POST /leave/."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from rooms import services
from rooms.identity import DEVICE_COOKIE
from rooms.models import Ban, CoHost, Participant, ParticipantState, Room
from tests.conftest import as_user
from tests.factories import open_room

pytestmark = pytest.mark.django_db


def _join(client: APIClient, room: Room, name: str = "Dora") -> dict[str, Any]:
    r = client.post(f"/api/rooms/{room.token}/join/", {"display_name": name}, format="json")
    assert r.status_code == 200, r.json()
    return dict(r.json())


def _remove_url(room: Room, participant_id: int | str) -> str:
    return f"/api/rooms/{room.token}/participants/{participant_id}/remove/"


# --- roster -----------------------------------------------------------------------------------


def test_admitted_people_see_the_roster(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    bob_client = as_user(bob)
    _join(bob_client, room)
    guest = APIClient()
    _join(guest, room, "Dora")  # waits in the lobby

    r = bob_client.get(f"/api/rooms/{room.token}/participants/")

    assert r.status_code == 200
    body = r.json()
    assert [p["display_name"] for p in body["participants"]] == ["Alice", "Bob"]
    assert body["participants"][0]["role"] == "host"
    assert "lobby" not in body  # only moderators see who is waiting


def test_moderators_also_see_the_lobby(alice: User) -> None:
    room = open_room(alice)
    _join(APIClient(), room, "Dora")

    r = as_user(alice).get(f"/api/rooms/{room.token}/participants/")

    assert r.status_code == 200
    assert [p["display_name"] for p in r.json()["lobby"]] == ["Dora"]
    assert r.json()["lobby"][0]["is_guest"] is True


def test_an_admitted_guest_sees_the_roster(alice: User) -> None:
    room = open_room(alice, waiting_room=False)
    guest = APIClient()
    _join(guest, room)

    r = guest.get(f"/api/rooms/{room.token}/participants/")

    assert r.status_code == 200
    assert len(r.json()["participants"]) == 2


def test_a_lobby_member_cannot_read_the_roster(alice: User, charlie: User) -> None:
    room = open_room(alice)
    guest = APIClient()
    assert _join(guest, room)["participant"]["state"] == "lobby"
    charlie_client = as_user(charlie)
    assert _join(charlie_client, room)["participant"]["state"] == "lobby"

    for client in (guest, charlie_client):
        r = client.get(f"/api/rooms/{room.token}/participants/")
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "not_in_room"
        assert "Alice" not in r.content.decode()


def test_roster_validates_ownership(api: APIClient, alice: User, charlie: User) -> None:
    room = open_room(alice)

    for client in (as_user(charlie), api):
        r = client.get(f"/api/rooms/{room.token}/participants/")
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "not_in_room"


# --- remove -----------------------------------------------------------------------------------


def test_it_removes_and_bans(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    bob_id = _join(as_user(bob), room)["participant"]["id"]

    r = as_user(alice).post(_remove_url(room, bob_id), {"reason": "trolling"}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["display_name"] == "Bob"
    assert r.json()["reason"] == "trolling"
    assert Participant.objects.get(pk=bob_id).state == ParticipantState.REMOVED
    assert Ban.objects.filter(room=room, user=bob).exists()
    r = as_user(bob).post(f"/api/rooms/{room.token}/join/", {}, format="json")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "banned"


def test_a_guest_ban_sticks_to_the_guest_and_the_device(alice: User) -> None:
    room = open_room(alice, waiting_room=False)
    guest = APIClient()
    guest_id = _join(guest, room)["participant"]["id"]
    as_user(alice).post(_remove_url(room, guest_id), {}, format="json")

    same_guest = guest.post(f"/api/rooms/{room.token}/join/", {"display_name": "D"}, format="json")
    new_guest_same_device = APIClient()
    new_guest_same_device.cookies[DEVICE_COOKIE] = guest.cookies[DEVICE_COOKIE].value
    same_device = new_guest_same_device.post(
        f"/api/rooms/{room.token}/join/", {"display_name": "Not Dora"}, format="json"
    )

    for r in (same_guest, same_device):
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "banned"
    assert Participant.objects.filter(room=room, state=ParticipantState.ADMITTED).count() == 1
    # Someone else entirely (no cookies) is not affected by the ban.
    assert _join(APIClient(), room, "Eve")["participant"]["state"] == "admitted"


def test_a_participant_cannot_remove(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    guest = APIClient()
    services.room_update(room=room, actor=alice, waiting_room=False)
    guest_id = _join(guest, room)["participant"]["id"]
    _join(as_user(bob), room)

    r = as_user(bob).post(_remove_url(room, guest_id), {}, format="json")

    assert r.status_code == 403
    assert r.json()["error"]["code"] == "not_a_host"
    assert Participant.objects.get(pk=guest_id).state == ParticipantState.ADMITTED
    assert not Ban.objects.exists()


def test_remove_validates_ownership(api: APIClient, alice: User, charlie: User) -> None:
    room = open_room(alice)
    host_visit = Participant.objects.get(room=room, user=alice)

    for client, status in ((as_user(charlie), 403), (api, 401)):
        r = client.post(_remove_url(room, host_visit.pk), {}, format="json")
        assert r.status_code == status
    assert not Ban.objects.exists()


def test_the_host_cannot_be_removed_by_a_cohost(alice: User, bob: User) -> None:
    room = open_room(alice)
    CoHost.objects.create(room=room, user=bob)
    host_visit = Participant.objects.get(room=room, user=alice)

    r = as_user(bob).post(_remove_url(room, host_visit.pk), {}, format="json")

    assert r.status_code == 403
    assert r.json()["error"]["code"] == "cannot_remove_host"


@pytest.mark.parametrize("participant_id", ["999999", "99999999999999999999999999", "0"])
def test_remove_of_nobody_is_a_404(alice: User, participant_id: str) -> None:
    room = open_room(alice)

    r = as_user(alice).post(_remove_url(room, participant_id), {}, format="json")

    assert r.status_code == 404
    assert r.json()["error"]["code"] in {"participant_not_found", "not_found"}


def test_remove_validates_the_reason(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    bob_id = _join(as_user(bob), room)["participant"]["id"]

    for body in ({"reason": "x" * 501}, {"reason": {"nested": 1}}):
        r = as_user(alice).post(_remove_url(room, bob_id), body, format="json")
        assert r.status_code == 400
        assert "reason" in r.json()["error"]["fields"]
    assert Participant.objects.get(pk=bob_id).state == ParticipantState.ADMITTED


# --- leave ------------------------------------------------------------------------------------


def test_a_user_leaves(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    bob_id = _join(as_user(bob), room)["participant"]["id"]

    r = as_user(bob).post(f"/api/rooms/{room.token}/leave/", format="json")

    assert r.status_code == 200
    assert r.json()["id"] == bob_id
    assert r.json()["state"] == "left"
    assert Participant.objects.get(pk=bob_id).state == ParticipantState.LEFT


def test_a_guest_leaves_with_the_cookie(alice: User) -> None:
    room = open_room(alice)
    guest = APIClient()
    guest_id = _join(guest, room)["participant"]["id"]

    r = guest.post(f"/api/rooms/{room.token}/leave/", format="json")

    assert r.status_code == 200
    assert Participant.objects.get(pk=guest_id).state == ParticipantState.LEFT


def test_leave_only_ends_your_own_visit(api: APIClient, alice: User, charlie: User) -> None:
    room = open_room(alice)
    _join(APIClient(), room)

    for client in (as_user(charlie), api):
        r = client.post(f"/api/rooms/{room.token}/leave/", format="json")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_in_room"
    assert not Participant.objects.filter(room=room, state=ParticipantState.LEFT).exists()


def test_the_last_host_leaving_locks_the_room(alice: User) -> None:
    room = open_room(alice)

    as_user(alice).post(f"/api/rooms/{room.token}/leave/", format="json")

    room.refresh_from_db()
    assert room.locked is True

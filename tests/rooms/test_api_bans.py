"""GET /api/rooms/<token>/bans/ and DELETE /bans/<id>/."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from rooms import services
from rooms.models import Ban, CoHost, Room
from tests.conftest import as_user
from tests.factories import host_arrives

pytestmark = pytest.mark.django_db


def _room_with_banned_guest(host: User) -> tuple[Room, APIClient, Ban]:
    room = services.room_create(host=host, title="Standup", waiting_room=False)
    host_arrives(room, host)
    guest = APIClient()
    r = guest.post(f"/api/rooms/{room.token}/join/", {"display_name": "Dora"}, format="json")
    ban = services.participant_remove(
        room=room, actor=host, participant_id=r.json()["participant"]["id"], reason="spam"
    )
    return room, guest, ban


def test_it_lists_bans(alice: User, bob: User) -> None:
    room, _, ban = _room_with_banned_guest(alice)
    CoHost.objects.create(room=room, user=bob)

    for user in (alice, bob):
        r = as_user(user).get(f"/api/rooms/{room.token}/bans/")
        assert r.status_code == 200
        assert r.json()["next"] is None
        assert r.json()["results"] == [
            {
                "id": ban.pk,
                "user_id": None,
                "display_name": "Dora",
                "is_guest": True,
                "reason": "spam",
                "created_at": r.json()["results"][0]["created_at"],
            }
        ]


def test_lifting_a_ban_lets_the_person_back(alice: User) -> None:
    room, guest, ban = _room_with_banned_guest(alice)

    r = as_user(alice).delete(f"/api/rooms/{room.token}/bans/{ban.pk}/")

    assert r.status_code == 204
    assert not Ban.objects.exists()
    r = guest.post(f"/api/rooms/{room.token}/join/", {"display_name": "Dora"}, format="json")
    assert r.status_code == 200


def test_bans_validate_ownership(api: APIClient, alice: User, charlie: User) -> None:
    room, guest, ban = _room_with_banned_guest(alice)

    # A stranger is refused; nobody signed in (a guest neither) is asked for credentials.
    for client, status in ((as_user(charlie), 403), (api, 401), (guest, 401)):
        assert client.get(f"/api/rooms/{room.token}/bans/").status_code == status
        assert client.delete(f"/api/rooms/{room.token}/bans/{ban.pk}/").status_code == status
    assert Ban.objects.filter(pk=ban.pk).exists()


def test_a_ban_of_another_room_cannot_be_lifted(alice: User, charlie: User) -> None:
    _, _, alices_ban = _room_with_banned_guest(alice)
    charlies_room = services.room_create(host=charlie, title="Charlie's")

    r = as_user(charlie).delete(f"/api/rooms/{charlies_room.token}/bans/{alices_ban.pk}/")

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "ban_not_found"
    assert Ban.objects.filter(pk=alices_ban.pk).exists()

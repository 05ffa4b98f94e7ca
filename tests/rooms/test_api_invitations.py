"""GET/POST /api/rooms/<token>/invitations/ and DELETE /invitations/<user_id>/."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_block
from feed.models import Notification
from rooms import services
from rooms.models import CoHost, Invitation, Room
from tests.conftest import as_user
from tests.factories import UserFactory, befriend, host_arrives

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _alice_knows_everyone(alice: User, bob: User, charlie: User) -> None:
    """Invitations go to friends of the host: alice's friends are bob and charlie."""
    befriend(alice, bob)
    befriend(alice, charlie)


def test_it_invites_and_lists(alice: User, bob: User, charlie: User) -> None:
    room = services.room_create(host=alice, title="Standup", audience="invite_only")
    url = f"/api/rooms/{room.token}/invitations/"

    r = as_user(alice).post(url, {"user_ids": [bob.pk, charlie.pk]}, format="json")

    assert r.status_code == 201, r.json()
    assert {i["user_id"] for i in r.json()} == {bob.pk, charlie.pk}
    r = as_user(alice).post(url, {"user_ids": [bob.pk]}, format="json")
    assert r.status_code == 201
    assert r.json() == []  # already invited
    r = as_user(alice).get(url)
    assert r.status_code == 200
    assert sorted(i["display_name"] for i in r.json()["results"]) == ["Bob", "Charlie"]


def test_an_invited_person_is_admitted(alice: User, charlie: User) -> None:
    room = services.room_create(host=alice, title="Standup", audience="invite_only")
    host_arrives(room, alice)
    as_user(alice).post(
        f"/api/rooms/{room.token}/invitations/", {"user_ids": [charlie.pk]}, format="json"
    )

    r = as_user(charlie).post(f"/api/rooms/{room.token}/join/", {}, format="json")

    assert r.json()["decision"] == {"outcome": "admit", "reason": "audience"}


def test_it_withdraws_an_invitation(alice: User, bob: User) -> None:
    room = services.room_create(host=alice, title="Standup", invitee_ids=[bob.pk])

    r = as_user(alice).delete(f"/api/rooms/{room.token}/invitations/{bob.pk}/")

    assert r.status_code == 204
    assert not Invitation.objects.exists()


def test_a_cohost_may_invite(alice: User, bob: User, charlie: User) -> None:
    room = services.room_create(host=alice, title="Standup")
    CoHost.objects.create(room=room, user=bob)

    r = as_user(bob).post(
        f"/api/rooms/{room.token}/invitations/", {"user_ids": [charlie.pk]}, format="json"
    )

    assert r.status_code == 201
    assert Invitation.objects.filter(room=room, user=charlie).exists()


def test_invitations_validate_ownership(
    api: APIClient, alice: User, bob: User, charlie: User
) -> None:
    room = services.room_create(host=alice, title="Standup", invitee_ids=[bob.pk])
    url = f"/api/rooms/{room.token}/invitations/"

    for client, status in ((as_user(charlie), 403), (api, 401)):
        assert client.get(url).status_code == status
        r = client.post(url, {"user_ids": [charlie.pk]}, format="json")
        assert r.status_code == status
        assert client.delete(f"{url}{bob.pk}/").status_code == status

    assert list(Invitation.objects.values_list("user_id", flat=True)) == [bob.pk]


@pytest.mark.parametrize(
    "body",
    [{}, {"user_ids": []}, {"user_ids": [True]}, {"user_ids": ["x"]}, {"user_ids": {"a": 1}}],
)
def test_invitations_validate_input(alice: User, body: dict[str, object]) -> None:
    room = services.room_create(host=alice, title="Standup")

    r = as_user(alice).post(f"/api/rooms/{room.token}/invitations/", body, format="json")

    assert r.status_code == 400
    assert "user_ids" in r.json()["error"]["fields"]
    assert not Invitation.objects.exists()


def test_an_unknown_invitee_invites_nobody(alice: User, bob: User) -> None:
    room = services.room_create(host=alice, title="Standup")

    r = as_user(alice).post(
        f"/api/rooms/{room.token}/invitations/", {"user_ids": [bob.pk, 987_654]}, format="json"
    )

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "user_not_found"
    assert not Invitation.objects.exists()


def test_withdrawing_a_missing_invitation_is_a_404(alice: User, bob: User) -> None:
    room = services.room_create(host=alice, title="Standup")

    r = as_user(alice).delete(f"/api/rooms/{room.token}/invitations/{bob.pk}/")

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "invitation_not_found"


def test_only_friends_of_the_host_can_be_invited(alice: User, bob: User) -> None:
    room = services.room_create(host=alice, title="Standup", audience="invite_only")
    stranger = UserFactory(username="stranger")
    url = f"/api/rooms/{room.token}/invitations/"

    r = as_user(alice).post(url, {"user_ids": [bob.pk, stranger.pk]}, format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "not_a_friend"
    assert not Invitation.objects.exists()
    assert not Notification.objects.exists()  # the stranger hears nothing


def test_a_cohost_invites_friends_of_the_host_only(alice: User, bob: User) -> None:
    room = services.room_create(host=alice, title="Standup")
    CoHost.objects.create(room=room, user=bob)
    bobs_friend = UserFactory(username="dora")
    befriend(bob, bobs_friend)

    r = as_user(bob).post(
        f"/api/rooms/{room.token}/invitations/", {"user_ids": [bobs_friend.pk]}, format="json"
    )

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "not_a_friend"


def test_a_blocked_person_looks_like_any_stranger(alice: User, bob: User) -> None:
    room = services.room_create(host=alice, title="Standup")
    user_block(blocker=bob, blocked=alice)  # ends the friendship

    r = as_user(alice).post(
        f"/api/rooms/{room.token}/invitations/", {"user_ids": [bob.pk]}, format="json"
    )

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "not_a_friend"


def test_creating_a_room_invites_friends_only(alice: User, bob: User) -> None:
    stranger = UserFactory(username="stranger")
    body = {"title": "Book club", "audience": "invite_only", "invitee_ids": [stranger.pk]}

    r = as_user(alice).post("/api/rooms/", body, format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "not_a_friend"
    assert not Room.objects.exists()


def test_invitations_are_limited_per_account(alice: User, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_INVITATIONS_PER_HOUR = 3
    friends = [UserFactory(username=f"friend{i}") for i in range(4)]
    for friend in friends:
        befriend(alice, friend)
    room = services.room_create(host=alice, title="Standup", audience="invite_only")
    url = f"/api/rooms/{room.token}/invitations/"

    r = as_user(alice).post(url, {"user_ids": [f.pk for f in friends[:3]]}, format="json")
    assert r.status_code == 201
    r = as_user(alice).post(url, {"user_ids": [friends[3].pk]}, format="json")

    assert r.status_code == 429
    assert r.json()["error"]["code"] == "rate_limited"
    assert int(r["Retry-After"]) > 0
    assert Invitation.objects.count() == 3
    # Inviting someone already invited is no new invitation and costs nothing.
    assert as_user(alice).post(url, {"user_ids": [friends[0].pk]}, format="json").status_code == 201

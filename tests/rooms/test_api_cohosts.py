"""GET/POST /api/rooms/<token>/cohosts/ and DELETE /cohosts/<user_id>/."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Block, User
from rooms import services
from rooms.models import CoHost, Participant, Role
from tests.conftest import as_user
from tests.factories import UserFactory, host_arrives

pytestmark = pytest.mark.django_db


def test_it_names_and_lists_cohosts(alice: User, bob: User) -> None:
    room = services.room_create(host=alice, title="Standup")

    r = as_user(alice).post(f"/api/rooms/{room.token}/cohosts/", {"user_id": bob.pk}, format="json")

    assert r.status_code == 201, r.json()
    assert r.json()["user_id"] == bob.pk
    assert r.json()["display_name"] == "Bob"
    assert CoHost.objects.filter(room=room, user=bob).exists()
    r = as_user(bob).get(f"/api/rooms/{room.token}/cohosts/")  # co-hosts see the list too
    assert r.status_code == 200
    assert [c["user_id"] for c in r.json()["results"]] == [bob.pk]


def test_a_cohost_in_the_room_gets_the_role(alice: User, bob: User, friends: None) -> None:
    room = services.room_create(host=alice, title="Standup")
    host_arrives(room, alice)
    services.room_join(token=room.token, identity=services.Identity(user=bob))

    as_user(alice).post(f"/api/rooms/{room.token}/cohosts/", {"user_id": bob.pk}, format="json")

    assert Participant.objects.get(room=room, user=bob).role == Role.COHOST


def test_it_removes_a_cohost(alice: User, bob: User) -> None:
    room = services.room_create(host=alice, title="Standup")
    CoHost.objects.create(room=room, user=bob)

    r = as_user(alice).delete(f"/api/rooms/{room.token}/cohosts/{bob.pk}/")

    assert r.status_code == 204
    assert not CoHost.objects.filter(room=room).exists()


def test_cohosts_validate_ownership(api: APIClient, alice: User, bob: User, charlie: User) -> None:
    room = services.room_create(host=alice, title="Standup")
    CoHost.objects.create(room=room, user=bob)
    url = f"/api/rooms/{room.token}/cohosts/"

    r = as_user(charlie).get(url)
    assert r.status_code == 403
    r = as_user(charlie).post(url, {"user_id": charlie.pk}, format="json")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "not_a_host"
    r = as_user(charlie).delete(f"{url}{bob.pk}/")
    assert r.status_code == 403
    # Only the host names or removes co-hosts; a co-host can't.
    r = as_user(bob).post(url, {"user_id": charlie.pk}, format="json")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "only_host"
    for response in (api.get(url), api.post(url, {"user_id": 1}, format="json")):
        assert response.status_code == 401

    assert list(CoHost.objects.values_list("user_id", flat=True)) == [bob.pk]


def test_an_outsider_learns_nothing_about_accounts(alice: User, charlie: User) -> None:
    room = services.room_create(host=alice, title="Standup")
    url = f"/api/rooms/{room.token}/cohosts/"

    unknown = as_user(charlie).post(url, {"user_id": 987_654}, format="json")
    known = as_user(charlie).post(url, {"user_id": alice.pk}, format="json")

    assert unknown.status_code == known.status_code == 403
    assert unknown.content == known.content


def test_unknown_or_blocked_users_cannot_be_named(alice: User, charlie: User) -> None:
    room = services.room_create(host=alice, title="Standup")
    Block.objects.create(blocker=charlie, blocked=alice)
    inactive = UserFactory(username="gone", is_active=False)
    url = f"/api/rooms/{room.token}/cohosts/"

    for user_id in (987_654, charlie.pk, inactive.pk):
        r = as_user(alice).post(url, {"user_id": user_id}, format="json")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "user_not_found"
    assert not CoHost.objects.exists()


@pytest.mark.parametrize("body", [{}, {"user_id": None}, {"user_id": "bob"}, {"user_id": 2**63}])
def test_cohosts_validate_input(alice: User, body: dict[str, object]) -> None:
    room = services.room_create(host=alice, title="Standup")

    r = as_user(alice).post(f"/api/rooms/{room.token}/cohosts/", body, format="json")

    assert r.status_code == 400
    assert "user_id" in r.json()["error"]["fields"]


def test_removing_someone_who_is_not_a_cohost_is_a_404(alice: User, bob: User) -> None:
    room = services.room_create(host=alice, title="Standup")

    r = as_user(alice).delete(f"/api/rooms/{room.token}/cohosts/{bob.pk}/")

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "cohost_not_found"

from __future__ import annotations

from rest_framework.test import APIClient

from accounts.models import Friendship, User
from accounts.selectors import are_friends
from tests.conftest import as_user

URL = "/api/friends/"


def test_it_lists_friends(alice: User, bob: User, charlie: User, friends: None) -> None:
    r = as_user(alice).get(URL)
    assert r.status_code == 200
    assert r.json() == {
        "next": None,
        "previous": None,
        "results": [{"id": bob.id, "username": "bob", "display_name": "Bob"}],
    }
    assert as_user(charlie).get(URL).json()["results"] == []


def test_it_unfriends(alice: User, bob: User, friends: None) -> None:
    r = as_user(bob).delete(f"{URL}{alice.id}/")
    assert r.status_code == 204
    assert not are_friends(a=alice, b=bob)
    assert not are_friends(a=bob, b=alice)


def test_it_validates_ownership(alice: User, bob: User, charlie: User, friends: None) -> None:
    # Charlie can't end a friendship he is not part of.
    r = as_user(charlie).delete(f"{URL}{bob.id}/")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_friends"
    assert Friendship.objects.count() == 2


def test_it_validates_the_id(alice: User) -> None:
    r = as_user(alice).delete(f"{URL}{'9' * 30}/")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid"
    assert as_user(alice).delete(f"{URL}0/").status_code == 400


def test_it_refuses_anonymous(api: APIClient, alice: User, bob: User, friends: None) -> None:
    assert api.get(URL).status_code in (401, 403)
    assert api.delete(f"{URL}{bob.id}/").status_code in (401, 403)
    assert Friendship.objects.count() == 2

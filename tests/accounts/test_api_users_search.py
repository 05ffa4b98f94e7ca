from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from tests.conftest import as_user
from tests.factories import UserFactory

URL = "/api/users/"


def test_it_works(alice: User, bob: User, charlie: User) -> None:
    UserFactory(username="bobby", display_name="Robert")
    r = as_user(alice).get(URL, {"q": "bo"})
    assert r.status_code == 200
    assert [u["username"] for u in r.json()] == ["bob", "bobby"]
    assert r.json()[0] == {"id": bob.id, "username": "bob", "display_name": "Bob"}


def test_it_matches_display_names_and_never_returns_yourself(alice: User, charlie: User) -> None:
    UserFactory(username="zed", display_name="Charles")
    r = as_user(charlie).get(URL, {"q": "cha"})
    assert [u["username"] for u in r.json()] == ["zed"]


def test_it_hides_both_sides_of_a_block(alice: User, bob: User, charlie: User) -> None:
    services.user_block(blocker=alice, blocked=bob)
    assert as_user(bob).get(URL, {"q": "alice"}).json() == []
    assert as_user(alice).get(URL, {"q": "bob"}).json() == []
    # Charlie is not part of the block and still finds both.
    assert len(as_user(charlie).get(URL, {"q": "alice"}).json()) == 1
    assert len(as_user(charlie).get(URL, {"q": "bob"}).json()) == 1


def test_it_hides_inactive_users(alice: User) -> None:
    UserFactory(username="ghost", is_active=False)
    assert as_user(alice).get(URL, {"q": "ghost"}).json() == []


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "x" * 51}])
def test_it_validates_the_query(alice: User, params: dict[str, str]) -> None:
    r = as_user(alice).get(URL, params)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid"
    assert "q" in r.json()["error"]["fields"]


def test_it_refuses_anonymous(api: APIClient, alice: User) -> None:
    assert api.get(URL, {"q": "alice"}).status_code in (401, 403)

from __future__ import annotations

from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import as_user
from tests.factories import UserFactory

URL = "/api/me/"


def test_it_works(alice: User) -> None:
    r = as_user(alice).get(URL)
    assert r.status_code == 200
    assert r.json() == {
        "id": alice.id,
        "username": "alice",
        "display_name": "Alice",
        "is_suspended": False,
        "is_staff": False,
    }


def test_it_falls_back_to_the_username(db: None) -> None:
    dora = UserFactory(username="dora", display_name="")
    assert as_user(dora).get(URL).json()["display_name"] == "dora"


def test_it_refuses_anonymous(api: APIClient) -> None:
    r = api.get(URL)
    assert r.status_code in (401, 403)
    assert r.json()["error"]["code"] == "not_authenticated"

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import PASSWORD

URL = "/api/auth/token/"


def test_it_works(api: APIClient, alice: User) -> None:
    r = api.post(URL, {"username": "alice", "password": PASSWORD}, format="json")
    assert r.status_code == 200
    token = r.json()["token"]
    assert Token.objects.get(user=alice).key == token

    r = api.get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert r.status_code == 200
    assert r.json()["username"] == "alice"


def test_it_refuses_a_wrong_password(api: APIClient, alice: User) -> None:
    r = api.post(URL, {"username": "alice", "password": "nope"}, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid"
    assert not Token.objects.exists()


def test_it_validates_input(api: APIClient, alice: User) -> None:
    for body in (
        {},
        {"username": ["alice"], "password": PASSWORD},
        {"username": "a" * 151, "password": PASSWORD},
        {"username": "alice", "password": "x" * 5000},
    ):
        r = api.post(URL, body, format="json")
        assert r.status_code == 400, body
        assert r.json()["error"]["code"] == "invalid"


def test_it_refuses_malformed_json(api: APIClient) -> None:
    r = api.post(URL, "{not json", content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed_request"


def test_token_endpoint_is_rate_limited(alice: User) -> None:
    client = APIClient()
    codes = [
        client.post(
            "/api/auth/token/", {"username": "alice", "password": "wrong"}, format="json"
        ).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [400] * 10
    assert codes[10] == 429

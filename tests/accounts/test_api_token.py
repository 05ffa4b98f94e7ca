from __future__ import annotations

from typing import Any

from rest_framework.authtoken.models import Token
from rest_framework.response import Response
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


def post(client: APIClient, username: str, password: str, **headers: str) -> Response:
    response: Response = client.post(
        URL, {"username": username, "password": password}, format="json", **headers
    )
    return response


def test_wrong_passwords_are_limited_per_account_whatever_x_forwarded_for(alice: User) -> None:
    """The attack of issue 15: a new X-Forwarded-For for every guess got 30 of 30 checked."""
    client = APIClient()
    codes = [
        post(client, "alice", f"guess-{n}", HTTP_X_FORWARDED_FOR=f"10.0.{n}.1").status_code
        for n in range(30)
    ]
    assert codes == [400] * 10 + [429] * 20

    r = post(client, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert r.status_code == 429  # no password is checked any more, not even the right one
    assert r.json()["error"]["code"] == "too_many_attempts"
    assert 0 < int(r["Retry-After"]) <= 900
    assert not Token.objects.exists()


def test_the_address_limit_ignores_x_forwarded_for(db: None) -> None:
    # Thirty accounts guessed once each, from one connection that claims thirty addresses.
    client = APIClient()
    codes = [
        post(client, f"user{n}", "guess", HTTP_X_FORWARDED_FOR=f"10.0.{n}.1").status_code
        for n in range(31)
    ]
    assert codes == [400] * 30 + [429]


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(alice: User, settings: Any) -> None:
    settings.ROOMS_TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_ATTEMPTS_PER_ADDRESS = 3
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")
    # The proxy appends the client's address; what the client wrote in front is ignored.
    codes = [
        post(proxy, f"user{n}", "guess", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 203.0.113.7").status_code
        for n in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    # Another client behind the same proxy is not affected.
    assert post(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200


def test_honest_people_on_other_accounts_are_unaffected(alice: User, bob: User) -> None:
    attacker = APIClient()
    for n in range(30):
        post(attacker, "alice", f"guess-{n}")
    assert post(attacker, "alice", PASSWORD).status_code == 429

    # bob, on the attacker's very address (an office, a carrier's NAT) and elsewhere.
    assert post(APIClient(), "bob", PASSWORD).status_code == 200
    assert post(APIClient(REMOTE_ADDR="198.51.100.4"), "bob", PASSWORD).status_code == 200


def test_successful_log_ins_are_not_counted(alice: User) -> None:
    client = APIClient()
    for _ in range(15):
        assert post(client, "alice", PASSWORD).status_code == 200
    for _ in range(9):
        assert post(client, "alice", "typo").status_code == 400
    assert post(client, "alice", PASSWORD).status_code == 200

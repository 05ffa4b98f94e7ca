from __future__ import annotations

from django.http import HttpResponse
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import PASSWORD


def test_it_renders(client: Client, db: None) -> None:
    r = client.get("/accounts/login/")
    assert r.status_code == 200
    assert b'<label for="id_username">' in r.content
    assert b'href="/accounts/signup/"' in r.content


def test_it_logs_in_and_out(client: Client, alice: User) -> None:
    r = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert r.status_code == 302
    assert r["Location"] == "/"
    assert client.get("/").status_code == 200

    r = client.post("/accounts/logout/")
    assert r.status_code == 302
    assert r["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_logout_needs_post(client: Client, alice: User) -> None:
    client.force_login(alice)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200


def test_it_refuses_a_wrong_password(client: Client, alice: User) -> None:
    r = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert r.status_code == 200
    assert r.context["form"].errors
    assert client.get("/").status_code == 302


def log_in(client: Client, username: str, password: str, **headers: str) -> HttpResponse:
    response: HttpResponse = client.post(
        "/accounts/login/", {"username": username, "password": password}, **headers
    )
    return response


def test_the_form_is_limited(client: Client, alice: User) -> None:
    """Issue 15: the form had no limit (30 wrong passwords checked, then logged in)."""
    codes = [log_in(client, "alice", f"guess-{n}").status_code for n in range(30)]
    assert codes == [200] * 10 + [429] * 20

    r = log_in(client, "alice", PASSWORD)
    assert r.status_code == 429
    assert 0 < int(r["Retry-After"]) <= 900
    page = r.content.decode()
    assert 'role="alert"' in page
    assert "Too many failed log-ins for this account or from this network" in page
    assert client.get("/").status_code == 302  # not logged in


def test_the_form_and_the_token_endpoint_share_one_limiter(client: Client, alice: User) -> None:
    api = APIClient()
    for n in range(5):
        assert log_in(client, "alice", f"form-{n}").status_code == 200
        api_guess = {"username": "alice", "password": f"api-{n}"}
        assert api.post("/api/auth/token/", api_guess, format="json").status_code == 400

    assert log_in(client, "alice", PASSWORD).status_code == 429
    right = {"username": "alice", "password": PASSWORD}
    assert api.post("/api/auth/token/", right, format="json").status_code == 429


def test_rotating_x_forwarded_for_buys_nothing(client: Client, db: None) -> None:
    codes = [
        log_in(client, f"user{n}", "guess", HTTP_X_FORWARDED_FOR=f"10.0.{n}.1").status_code
        for n in range(31)
    ]
    assert codes == [200] * 30 + [429]


def test_honest_people_on_other_accounts_are_unaffected(alice: User, bob: User) -> None:
    attacker = Client()
    for n in range(30):
        log_in(attacker, "alice", f"guess-{n}")

    neighbour = Client()  # same address as the attacker
    r = log_in(neighbour, "bob", PASSWORD)
    assert r.status_code == 302
    assert neighbour.get("/").status_code == 200

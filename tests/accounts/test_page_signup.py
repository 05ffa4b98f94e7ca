from __future__ import annotations

from django.http import HttpResponse
from django.test import Client

from accounts.models import User

URL = "/accounts/signup/"


def test_it_renders(client: Client, db: None) -> None:
    r = client.get(URL)
    assert r.status_code == 200
    assert b'name="display_name"' in r.content
    assert b'name="password2"' in r.content


def test_it_creates_a_user_and_logs_in(client: Client, db: None) -> None:
    r = client.post(
        URL,
        {
            "username": "dora",
            "display_name": "Dora Explorer",
            "password1": "map and backpack 42",
            "password2": "map and backpack 42",
        },
    )
    assert r.status_code == 302
    assert r["Location"] == "/"
    dora = User.objects.get(username="dora")
    assert dora.display_name == "Dora Explorer"
    assert dora.check_password("map and backpack 42")
    assert client.get("/").context["user"] == dora


def test_it_applies_the_password_validators(client: Client, db: None) -> None:
    r = client.post(
        URL, {"username": "dora", "display_name": "", "password1": "123", "password2": "123"}
    )
    assert r.status_code == 200
    assert r.context["form"].errors["password2"]
    assert not User.objects.exists()


def test_it_refuses_mismatched_passwords_and_taken_usernames(client: Client, alice: User) -> None:
    r = client.post(
        URL,
        {
            "username": "ALICE",
            "password1": "map and backpack 42",
            "password2": "map and backpack 42",
        },
    )
    assert r.status_code == 200
    assert "username" in r.context["form"].errors
    r = client.post(
        URL, {"username": "eve", "password1": "map and backpack 42", "password2": "different 42!"}
    )
    assert "password2" in r.context["form"].errors
    assert User.objects.count() == 1


def test_it_refuses_overlong_names(client: Client, db: None) -> None:
    r = client.post(
        URL,
        {
            "username": "u" * 151,
            "display_name": "d" * 81,
            "password1": "map and backpack 42",
            "password2": "map and backpack 42",
        },
    )
    assert r.status_code == 200
    assert set(r.context["form"].errors) >= {"username", "display_name"}
    assert not User.objects.exists()


def sign_up(client: Client, username: str) -> HttpResponse:
    password = "map and backpack 42"
    response: HttpResponse = client.post(
        URL, {"username": username, "password1": password, "password2": password}
    )
    return response


def test_sign_ups_are_limited_per_address(db: None) -> None:
    for n in range(10):
        assert sign_up(Client(), f"bot{n}").status_code == 302
    # A new cookie jar and a made-up X-Forwarded-For are the same address.
    r = Client(HTTP_X_FORWARDED_FOR="10.1.2.3").post(
        URL,
        {
            "username": "bot10",
            "password1": "map and backpack 42",
            "password2": "map and backpack 42",
        },
    )

    assert r.status_code == 429
    assert int(r["Retry-After"]) > 0
    assert "Too many new accounts from this network" in r.content.decode()
    assert User.objects.count() == 10
    # Someone on another network signs up as usual.
    assert sign_up(Client(REMOTE_ADDR="198.51.100.4"), "dora").status_code == 302

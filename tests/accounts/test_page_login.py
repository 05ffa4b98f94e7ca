from __future__ import annotations

from django.test import Client

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

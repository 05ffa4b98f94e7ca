from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from feed.models import Post
from tests.conftest import as_user

URL = "/api/posts/"


def test_it_works(alice: User, bob: User, friends: None) -> None:
    r = as_user(alice).post(URL, {"body": "  Anyone up for a call?  "}, format="json")
    assert r.status_code == 201
    body = r.json()
    assert body["body"] == "Anyone up for a call?"
    assert body["author"] == {"id": alice.id, "display_name": "Alice"}
    post = Post.objects.get()
    assert post.author == alice and body["id"] == post.id
    # It shows up in a friend's feed.
    assert as_user(bob).get("/api/feed/").json()["results"][0]["id"] == post.id


def test_it_validates_ownership(alice: User, charlie: User) -> None:
    # Whatever the body says, the author is the signed-in user.
    r = as_user(charlie).post(URL, {"body": "hi", "author": alice.id}, format="json")
    assert r.status_code == 201
    assert Post.objects.get().author == charlie
    assert as_user(alice).get("/api/feed/").json()["results"] == []


@pytest.mark.parametrize(
    "body",
    [{}, {"body": ""}, {"body": "   "}, {"body": "x" * 5001}, {"body": ["x"]}, {"body": None}],
)
def test_it_validates_input(alice: User, body: Any) -> None:
    r = as_user(alice).post(URL, body, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid"
    assert "body" in r.json()["error"]["fields"]
    assert not Post.objects.exists()


def test_it_refuses_anonymous(api: APIClient, db: None) -> None:
    assert api.post(URL, {"body": "hi"}, format="json").status_code in (401, 403)
    assert not Post.objects.exists()

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


def test_posting_is_limited_per_account(alice: User, bob: User, settings: Any) -> None:
    """Issue 15: 60 posts in 1.8 s. The default is 60 an hour; here 5."""
    settings.POSTS_PER_HOUR = 5
    client = as_user(alice)
    codes = [client.post(URL, {"body": f"post {n}"}, format="json").status_code for n in range(6)]

    assert codes == [201] * 5 + [429]
    r = client.post(URL, {"body": "again"}, format="json")
    assert r.json()["error"]["code"] == "rate_limited"
    assert int(r["Retry-After"]) > 0
    assert Post.objects.filter(author=alice).count() == 5
    assert as_user(bob).post(URL, {"body": "hi"}, format="json").status_code == 201


def test_the_page_says_so_and_keeps_the_draft(client: Any, alice: User, settings: Any) -> None:
    settings.POSTS_PER_HOUR = 1
    client.force_login(alice)
    assert client.post("/posts/", {"body": "first"}).status_code == 302

    r = client.post("/posts/", {"body": "my long thought"})

    assert r.status_code == 429
    page = r.content.decode()
    assert "You have posted too often." in page
    assert "my long thought" in page
    assert Post.objects.count() == 1

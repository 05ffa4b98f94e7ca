from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from feed.models import Post
from tests.conftest import as_user
from tests.rooms import feed_rooms
from tests.rooms.feed_rooms import live_room, upcoming_room

URL = "/api/feed/"


def build_world(alice: User, n: int) -> None:
    """Rooms' world of n friends of alice with their rooms, and two posts from each."""
    for i, pal in enumerate(feed_rooms.build_world(alice, n)):
        Post.objects.create(author=pal, body=f"hello {i}")
        Post.objects.create(author=pal, body=f"again {i}")


def feed_titles(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    rooms = body["rooms"]
    return [r["title"] for r in rooms["live"]], [r["title"] for r in rooms["upcoming"]]


# --- posts ------------------------------------------------------------------------------------


def test_it_works(alice: User, bob: User, charlie: User, friends: None) -> None:
    Post.objects.create(author=alice, body="mine")
    Post.objects.create(author=bob, body="from bob")
    Post.objects.create(author=charlie, body="from charlie")
    r = as_user(alice).get(URL)
    assert r.status_code == 200
    body = r.json()
    assert [p["body"] for p in body["results"]] == ["from bob", "mine"]
    assert body["results"][0]["author"] == {"id": bob.id, "display_name": "Bob"}
    assert set(body["results"][0]) == {"id", "author", "body", "created_at"}
    assert body["next"] is None and body["previous"] is None
    assert body["rooms"] == {"live": [], "upcoming": []}


def test_it_validates_ownership(alice: User, bob: User, charlie: User, friends: None) -> None:
    Post.objects.create(author=alice, body="for friends only")
    live_room(alice, bob)
    upcoming_room(alice)
    body = as_user(charlie).get(URL).json()
    assert body["results"] == []
    assert body["rooms"] == {"live": [], "upcoming": []}


def test_it_paginates_with_a_cursor(alice: User, bob: User, friends: None) -> None:
    now = timezone.now()
    for i in range(45):
        post = Post.objects.create(author=bob if i % 2 else alice, body=f"post {i}")
        # Several posts share a timestamp: the cursor must neither skip nor repeat any.
        Post.objects.filter(pk=post.pk).update(created_at=now + timedelta(seconds=i // 3))
    client = as_user(alice)
    seen: list[str] = []
    url: str | None = URL
    pages = 0
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 20
        seen += [p["body"] for p in body["results"]]
        url = body["next"]
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 45
    expected = list(Post.objects.order_by("-created_at", "-id").values_list("body", flat=True))
    assert seen == expected


def test_it_refuses_a_bad_cursor(alice: User) -> None:
    r = as_user(alice).get(URL, {"cursor": "not-a-cursor"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_it_refuses_anonymous(api: APIClient) -> None:
    r = api.get(URL)
    assert r.status_code in (401, 403)
    assert r.json()["error"]["code"] == "not_authenticated"


# --- rooms on top (Rooms' own feed, tested in tests/rooms/test_api_feed_rooms.py) ------------


def test_it_carries_rooms_cards_on_top(alice: User, bob: User, friends: None) -> None:
    live_room(bob, alice, title="Board games")
    upcoming_room(bob, title="Later")
    body = as_user(alice).get(URL).json()
    assert feed_titles(body) == (["Board games"], ["Later"])
    assert body["rooms"] == as_user(alice).get("/api/rooms/feed/").json()


# --- query count ------------------------------------------------------------------------------


def count_queries(client: APIClient, url: str) -> tuple[int, dict[str, Any]]:
    with CaptureQueriesContext(connection) as queries:
        r = client.get(url)
    assert r.status_code == 200
    return len(queries), r.json()


def test_the_query_count_does_not_grow(alice: User) -> None:
    build_world(alice, 1)
    small, small_body = count_queries(as_user(alice), URL)
    assert (
        len(small_body["rooms"]["live"]) == 1 and small_body["rooms"]["live"][0]["friends_inside"]
    )

    build_world(alice, 10)
    large, large_body = count_queries(as_user(alice), URL)
    assert len(large_body["rooms"]["live"]) == 11
    assert len(large_body["rooms"]["upcoming"]) == 11
    assert all(card["friends_inside"] for card in large_body["rooms"]["live"])
    assert len(large_body["results"]) == 20
    assert large == small

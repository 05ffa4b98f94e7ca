"""GET /api/notifications/ and POST /api/notifications/read/, and the live push."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_block
from feed import services
from feed.models import Notification
from rooms import announce
from rooms import services as room_services
from tests.conftest import as_user
from tests.factories import befriend, host_arrives

pytestmark = pytest.mark.django_db


def go_live(host: User, title: str = "Coffee") -> None:
    room = room_services.room_create(host=host, title=title)
    host_arrives(room, host)
    announce.announce_sweep()


def test_it_works(alice: User, bob: User, friends: None) -> None:
    go_live(alice, "One")
    go_live(alice, "Two")
    body = as_user(bob).get("/api/notifications/").json()
    assert body["unread_count"] == 2
    assert [n["text"] for n in body["results"]] == [
        "Alice's room “Two” is live. Join in!",
        "Alice's room “One” is live. Join in!",
    ]
    assert body["results"][0]["kind"] == "room_live"
    assert body["results"][0]["room"]["link"].startswith("/r/")
    first = body["results"][0]["id"]
    marked = as_user(bob).post("/api/notifications/read/", {"ids": [first]}, format="json")
    assert marked.json() == {"unread_count": 1}
    assert as_user(bob).post("/api/notifications/read/", {"all": True}, format="json").json() == {
        "unread_count": 0
    }
    assert all(n["read"] for n in as_user(bob).get("/api/notifications/").json()["results"])


def test_it_validates_ownership(alice: User, bob: User, charlie: User, friends: None) -> None:
    go_live(alice)
    bobs = Notification.objects.get(recipient=bob)
    response = as_user(charlie).post("/api/notifications/read/", {"ids": [bobs.pk]}, format="json")
    assert response.status_code == 404
    assert as_user(charlie).get("/api/notifications/").json() == {
        "unread_count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    bobs.refresh_from_db()
    assert bobs.read_at is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"all": False},
        {"ids": [], "all": True},
        {"ids": []},
        {"ids": ["x"]},
        {"ids": [0]},
        {"ids": [2**70]},
        {"ids": list(range(1, 300))},
        {"all": "maybe"},
        [1, 2],
    ],
)
def test_bad_input_is_a_400(bob: User, body: Any) -> None:
    response = as_user(bob).post("/api/notifications/read/", body, format="json")
    assert response.status_code == 400, response.content


def test_anonymous_is_refused(api: APIClient) -> None:
    assert api.get("/api/notifications/").status_code in (401, 403)
    assert api.post("/api/notifications/read/", {"all": True}, format="json").status_code in (
        401,
        403,
    )


def test_a_later_block_hides_notifications_about_that_host(
    alice: User, bob: User, friends: None
) -> None:
    go_live(alice)
    user_block(blocker=bob, blocked=alice)
    assert as_user(bob).get("/api/notifications/").json() == {
        "unread_count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_the_header_shows_the_count_and_the_list(alice: User, bob: User, friends: None) -> None:
    from django.test import Client

    go_live(alice)
    client = Client()
    client.force_login(bob)
    page = client.get("/").content.decode()
    assert "data-notifications-count>1<" in page
    assert "Alice&#x27;s room “Coffee” is live." in page
    assert "js/notifications.js" in page
    response = client.post("/notifications/read/", HTTP_REFERER="https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "data-notifications-count hidden>0<" in client.get("/").content.decode()


@pytest.mark.django_db(transaction=True)
async def test_notifications_are_pushed_live_over_the_feed_socket(
    alice: User, bob: User, charlie: User, friends: None
) -> None:
    from tests.rooms.test_feed_socket import feed_socket

    await database_sync_to_async(befriend)(alice, charlie)
    await database_sync_to_async(user_block)(blocker=charlie, blocked=alice)
    _, bobs = await feed_socket(bob)
    _, charlies = await feed_socket(charlie)
    await database_sync_to_async(go_live)(alice)
    pushed = await bobs.expect("notification")
    assert pushed["unread_count"] == 1
    assert pushed["notification"]["kind"] == "room_live"
    await database_sync_to_async(services.notifications_mark_read)(user=bob, ids=None)
    assert (await bobs.expect("notifications.read"))["unread_count"] == 0
    assert await charlies.silent(0.3)  # blocked: not a word
    await bobs.close()
    await charlies.close()

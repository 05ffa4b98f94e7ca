from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as accounts_services
from accounts.models import User
from feed.models import Post
from rooms.models import Audience, Invitation, Participant, ParticipantState, Room, RoomState
from tests.conftest import as_user
from tests.factories import ParticipantFactory, RoomFactory, UserFactory, befriend

URL = "/api/feed/"


def live_room(host: User, *inside: User, **fields: Any) -> Room:
    fields = {"state": RoomState.OPEN, "opened_at": timezone.now(), **fields}
    room = RoomFactory(host=host, **fields)
    ParticipantFactory(room=room, user=host, role="host")
    for user in inside:
        ParticipantFactory(room=room, user=user)
    return room


def upcoming_room(host: User, hours: int = 1, **fields: Any) -> Room:
    start = timezone.now() + timedelta(hours=hours)
    return RoomFactory(host=host, scheduled_start=start, **fields)


def build_world(alice: User, n: int) -> None:
    """n friends of alice, each hosting a live room (with other friends and strangers inside)
    and an upcoming room, and each with two posts."""
    pals = [UserFactory(username=f"pal{n}_{i}") for i in range(n)]
    for pal in pals:
        befriend(alice, pal)
    for i, pal in enumerate(pals):
        stranger = UserFactory(username=f"stranger{n}_{i}")
        live_room(pal, pals[(i + 1) % n] if n > 1 else alice, stranger)
        upcoming_room(pal, hours=i + 1)
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


# --- rooms ------------------------------------------------------------------------------------


def test_it_shows_room_cards(alice: User, bob: User, charlie: User, friends: None) -> None:
    room = live_room(bob, alice, charlie, description="Come in", title="Board games")
    r = as_user(alice).get(URL)
    (card,) = r.json()["rooms"]["live"]
    assert card == {
        "token": room.token,
        "link": f"/r/{room.token}/",
        "title": "Board games",
        "description": "Come in",
        "host": {"id": bob.id, "display_name": "Bob"},
        "state": "open",
        "scheduled_start": None,
        "participant_count": 3,
        "host_present": True,
        # Charlie is inside too, but he is not alice's friend.
        "friends_inside": [{"id": bob.id, "display_name": "Bob"}],
        "audience": "friends",
        "has_password": False,
    }


def test_live_means_someone_is_there(alice: User, bob: User, charlie: User, friends: None) -> None:
    empty = live_room(bob, title="Everyone went home")
    Participant.objects.filter(room=empty).update(
        state=ParticipantState.LEFT, left_at=timezone.now()
    )
    away = live_room(bob, charlie, title="Host stepped out")
    Participant.objects.filter(room=away, user=bob).update(
        state=ParticipantState.LEFT, left_at=timezone.now()
    )
    (card,) = as_user(alice).get(URL).json()["rooms"]["live"]
    # The empty room is not "Live · 0 people inside"; the other says its host is away.
    assert (card["title"], card["participant_count"], card["host_present"]) == (
        "Host stepped out",
        1,
        False,
    )
    browser = Client()
    browser.force_login(alice)
    page = browser.get("/")
    assert page.status_code == 200
    assert b"Everyone went home" not in page.content
    assert b"The host stepped away" in page.content


def test_it_puts_live_rooms_first_and_counts_people(alice: User, bob: User, friends: None) -> None:
    carol = UserFactory(username="carol", display_name="Carol")
    befriend(alice, carol)
    quiet = live_room(bob, title="Quiet")
    busy = live_room(carol, bob, UserFactory(), title="Busy")
    ParticipantFactory(room=busy, state=ParticipantState.LOBBY)  # waiting: not counted
    ParticipantFactory(room=busy, state=ParticipantState.LEFT)  # gone: not counted
    later = upcoming_room(bob, hours=5, title="Later")
    soon = upcoming_room(carol, hours=1, title="Soon", password_hash="x")
    body = as_user(alice).get(URL).json()
    assert feed_titles(body) == (["Busy", "Quiet"], ["Soon", "Later"])
    live = body["rooms"]["live"]
    assert [c["participant_count"] for c in live] == [3, 1]
    assert [f["display_name"] for f in live[0]["friends_inside"]] == ["Carol", "Bob"]
    upcoming = body["rooms"]["upcoming"]
    assert upcoming[0]["state"] == "scheduled"
    assert upcoming[0]["has_password"] is True
    assert upcoming[0]["scheduled_start"] is not None
    assert {quiet.token, busy.token, later.token, soon.token} == {
        c["token"] for c in live + upcoming
    }


def test_invite_only_rooms_reach_only_invitees(
    alice: User, bob: User, charlie: User, friends: None
) -> None:
    befriend(bob, charlie)
    room = live_room(bob, title="Secret", audience=Audience.INVITE_ONLY)
    assert feed_titles(as_user(alice).get(URL).json()) == ([], [])
    assert feed_titles(as_user(charlie).get(URL).json()) == ([], [])
    Invitation.objects.create(room=room, user=alice, invited_by=bob)
    assert feed_titles(as_user(alice).get(URL).json()) == (["Secret"], [])
    assert feed_titles(as_user(charlie).get(URL).json()) == ([], [])
    # The host always sees their own room.
    assert feed_titles(as_user(bob).get(URL).json()) == (["Secret"], [])


def test_blocked_relations_never_see_each_others_rooms(
    alice: User, bob: User, friends: None
) -> None:
    alices = live_room(alice, title="Alice's", audience=Audience.INVITE_ONLY)
    bobs = upcoming_room(bob, title="Bob's", audience=Audience.INVITE_ONLY)
    Invitation.objects.create(room=alices, user=bob, invited_by=alice)
    Invitation.objects.create(room=bobs, user=alice, invited_by=bob)
    assert feed_titles(as_user(alice).get(URL).json()) == (["Alice's"], ["Bob's"])
    accounts_services.user_block(blocker=alice, blocked=bob)
    # Even an invitation does not carry a room across a block, in either direction.
    assert feed_titles(as_user(alice).get(URL).json()) == (["Alice's"], [])
    assert feed_titles(as_user(bob).get(URL).json()) == ([], ["Bob's"])


def test_ended_and_unscheduled_rooms_are_absent(alice: User, bob: User, friends: None) -> None:
    live_room(bob, title="Over", state=RoomState.ENDED, ended_at=timezone.now())
    upcoming_room(bob, title="Cancelled", state=RoomState.ENDED)
    RoomFactory(host=bob, title="Someday")  # scheduled without a start time: not upcoming
    assert feed_titles(as_user(alice).get(URL).json()) == ([], [])


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

"""GET /api/rooms/feed/: the rooms a person may enter, live first, then upcoming."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as accounts_services
from accounts.models import User
from rooms.models import Audience, Invitation, Participant, ParticipantState, RoomState
from tests.conftest import as_user
from tests.factories import ParticipantFactory, RoomFactory, UserFactory, befriend
from tests.rooms.feed_rooms import build_world, live_room, upcoming_room

URL = "/api/rooms/feed/"


def feed_titles(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    return [r["title"] for r in body["live"]], [r["title"] for r in body["upcoming"]]


def test_anonymous_is_refused(api: APIClient) -> None:
    r = api.get(URL)
    assert r.status_code in (401, 403)
    assert r.json()["error"]["code"] == "not_authenticated"


def test_a_stranger_sees_none_of_a_friends_rooms(alice: User, bob: User, charlie: User) -> None:
    befriend(alice, bob)
    live_room(bob, title="Coffee")
    upcoming_room(bob, title="Later")
    assert feed_titles(as_user(alice).get(URL).json()) == (["Coffee"], ["Later"])
    assert as_user(charlie).get(URL).json() == {"live": [], "upcoming": []}


def test_it_shows_room_cards(alice: User, bob: User, charlie: User, friends: None) -> None:
    room = live_room(bob, alice, charlie, description="Come in", title="Board games")
    r = as_user(alice).get(URL)
    (card,) = r.json()["live"]
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
    (card,) = as_user(alice).get(URL).json()["live"]
    # The empty room is not "Live · 0 people inside"; the other says its host is away.
    assert (card["title"], card["participant_count"], card["host_present"]) == (
        "Host stepped out",
        1,
        False,
    )


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
    live = body["live"]
    assert [c["participant_count"] for c in live] == [3, 1]
    assert [f["display_name"] for f in live[0]["friends_inside"]] == ["Carol", "Bob"]
    upcoming = body["upcoming"]
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


def test_the_query_count_does_not_grow(alice: User) -> None:
    def count() -> tuple[int, dict[str, Any]]:
        with CaptureQueriesContext(connection) as queries:
            r = as_user(alice).get(URL)
        assert r.status_code == 200
        return len(queries), r.json()

    build_world(alice, 1)
    small, small_body = count()
    assert len(small_body["live"]) == 1 and small_body["live"][0]["friends_inside"]
    build_world(alice, 10)
    large, large_body = count()
    assert (len(large_body["live"]), len(large_body["upcoming"])) == (11, 11)
    assert all(card["friends_inside"] for card in large_body["live"])
    assert large == small

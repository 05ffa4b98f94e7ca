"""POST/DELETE /api/rooms/<token>/rsvp/: "I'll be there" for people who may see the room."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_block
from rooms import services
from rooms.models import Audience, Room, Rsvp
from tests.conftest import as_user
from tests.factories import befriend, host_arrives

pytestmark = pytest.mark.django_db


def url(room: Room) -> str:
    return f"/api/rooms/{room.token}/rsvp/"


@pytest.fixture
def room(alice: User) -> Room:
    return services.room_create(
        host=alice, title="Later", scheduled_start=timezone.now() + timedelta(hours=1)
    )


def test_it_works(room: Room, bob: User, friends: None) -> None:
    response = as_user(bob).post(url(room))
    assert response.status_code == 200
    assert response.json() == {"going": True, "count": 1}
    assert as_user(bob).post(url(room)).json() == {"going": True, "count": 1}
    assert as_user(bob).delete(url(room)).json() == {"going": False, "count": 0}
    assert as_user(bob).delete(url(room)).status_code == 200


def test_outsiders_get_the_same_404_as_an_unknown_link(
    room: Room, bob: User, charlie: User, friends: None
) -> None:
    unknown = as_user(charlie).post("/api/rooms/nope/rsvp/")
    stranger = as_user(charlie).post(url(room))
    assert stranger.status_code == unknown.status_code == 404
    assert stranger.json() == unknown.json()
    user_block(blocker=room.host, blocked=bob)
    assert as_user(bob).post(url(room)).json() == unknown.json()
    assert not Rsvp.objects.exists()


def test_invitees_of_invite_only_rooms_may_reply_friends_may_not(
    alice: User, bob: User, charlie: User, friends: None
) -> None:
    befriend(alice, charlie)
    secret = services.room_create(
        host=alice,
        title="Secret",
        audience=Audience.INVITE_ONLY,
        scheduled_start=timezone.now() + timedelta(hours=1),
        invitee_ids=[charlie.pk],
    )
    assert as_user(charlie).post(url(secret)).status_code == 200
    assert as_user(bob).post(url(secret)).status_code == 404


def test_it_refuses_rooms_that_started_ended_or_are_not_scheduled(
    alice: User, bob: User, room: Room, friends: None
) -> None:
    assert as_user(alice).post(url(room)).json()["error"]["code"] == "host_rsvp"
    host_arrives(room, alice)
    assert as_user(bob).post(url(room)).status_code == 409
    services.room_end(room=room, actor=alice)
    # An ended room no longer shows in anyone's feed: it is gone for them.
    assert as_user(bob).post(url(room)).status_code == 404
    unscheduled = services.room_create(host=alice, title="Whenever")
    assert as_user(bob).post(url(unscheduled)).json()["error"]["code"] == "not_scheduled"


def test_anonymous_is_refused(room: Room, api: APIClient) -> None:
    assert api.post(url(room)).status_code in (401, 403)

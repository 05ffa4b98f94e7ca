"""POST/GET /api/rooms/ and GET/PATCH /api/rooms/<token>/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Block, User
from rooms import services
from rooms.models import CoHost, Invitation, Room
from tests.conftest import as_user
from tests.factories import host_arrives

pytestmark = pytest.mark.django_db


def _url(room: Room) -> str:
    return f"/api/rooms/{room.token}/"


def _create_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "title": "Friday quiz",
        "description": "Bring snacks",
        "scheduled_start": (timezone.now() + timedelta(days=1)).isoformat(),
        "audience": "invite_only",
        "capacity": 12,
        "password": "open sesame",
        "waiting_room": False,
        "signed_in_only": True,
        "participants_can_share_screen": False,
        "invitee_ids": [],
    }
    body.update(overrides)
    return body


# --- create -----------------------------------------------------------------------------------


def test_it_creates_a_room(alice: User, bob: User, friends: None) -> None:
    r = as_user(alice).post("/api/rooms/", _create_body(invitee_ids=[bob.pk]), format="json")

    assert r.status_code == 201, r.json()
    body = r.json()
    room = Room.objects.get(token=body["token"])
    assert room.host == alice
    assert body["link"] == f"/r/{room.token}/"
    assert body["title"] == "Friday quiz"
    assert body["audience"] == "invite_only"
    assert body["capacity"] == 12
    assert body["waiting_room"] is False
    assert body["participants_can_share_screen"] is False
    assert body["signed_in_only"] is True
    assert room.signed_in_only is True
    assert body["has_password"] is True
    assert body["state"] == "scheduled"
    assert body["version"] == room.version
    assert "password" not in body and "password_hash" not in body
    assert "sesame" not in r.content.decode()
    assert Invitation.objects.filter(room=room, user=bob).exists()


def test_it_creates_with_defaults(alice: User) -> None:
    r = as_user(alice).post("/api/rooms/", {"title": "Quick chat"}, format="json")

    assert r.status_code == 201
    body = r.json()
    assert body["audience"] == "friends"
    assert body["waiting_room"] is True
    assert body["signed_in_only"] is False
    assert body["has_password"] is False
    assert body["scheduled_start"] is None


def test_api_clients_may_use_a_token(alice: User) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")

    r = client.post("/api/rooms/", {"title": "Scripted"}, format="json")

    assert r.status_code == 201
    assert Room.objects.get().host == alice


def test_create_requires_sign_in(api: APIClient) -> None:
    r = api.post("/api/rooms/", {"title": "Sneaky"}, format="json")

    assert r.status_code == 401
    assert r["WWW-Authenticate"] == "Token"
    assert r.json()["error"]["code"] == "not_authenticated"
    assert not Room.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"title": ["a list"]}, "title"),
        ({"description": "x" * 2001}, "description"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 51}, "capacity"),
        ({"capacity": 10**30}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"audience": "everyone"}, "audience"),
        ({"waiting_room": "perhaps"}, "waiting_room"),
        ({"signed_in_only": "perhaps"}, "signed_in_only"),
        ({"signed_in_only": None}, "signed_in_only"),
        ({"scheduled_start": "2030-01-01T18:00:00"}, "scheduled_start"),  # naive
        ({"scheduled_start": "9999-12-31T23:59:59-12:00"}, "scheduled_start"),  # overflow
        ({"scheduled_start": "tomorrow"}, "scheduled_start"),
        ({"password": "p" * 129}, "password"),
        ({"invitee_ids": ["bob"]}, "invitee_ids"),
        ({"invitee_ids": [2**70]}, "invitee_ids"),
        ({"invitee_ids": 5}, "invitee_ids"),
        ({"invitee_ids": list(range(1, 202))}, "invitee_ids"),
    ],
)
def test_create_validates_input(alice: User, overrides: dict[str, object], field: str) -> None:
    r = as_user(alice).post("/api/rooms/", _create_body(**overrides), format="json")

    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not Room.objects.exists()


@pytest.mark.parametrize("password", ["1", "seven77", "       "])
def test_create_refuses_a_short_password(alice: User, password: str) -> None:
    r = as_user(alice).post("/api/rooms/", _create_body(password=password), format="json")

    assert r.status_code == 400
    assert r.json()["error"] == {
        "code": "password_too_short",
        "message": "A room password needs at least 8 characters.",
    }
    assert not Room.objects.exists()


def test_the_shortest_password_is_a_setting(alice: User, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_PASSWORD_MIN_LENGTH = 12
    refused = as_user(alice).post(
        "/api/rooms/", _create_body(password="eleven char"), format="json"
    )
    accepted = as_user(alice).post(
        "/api/rooms/", _create_body(password="twelve chars"), format="json"
    )

    assert refused.json()["error"]["message"] == "A room password needs at least 12 characters."
    assert accepted.status_code == 201


def test_create_rejects_malformed_json(alice: User) -> None:
    r = as_user(alice).post("/api/rooms/", data='{"title": ', content_type="application/json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed_request"
    assert not Room.objects.exists()


def test_create_rejects_json_nested_too_deeply(alice: User) -> None:
    deep = "[" * 100_000 + "]" * 100_000

    r = as_user(alice).post("/api/rooms/", data=deep, content_type="application/json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed_request"


def test_create_rejects_a_list_body(alice: User) -> None:
    r = as_user(alice).post("/api/rooms/", ["title"], format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid"


def test_create_passes_service_refusals_through(alice: User) -> None:
    past = (timezone.now() - timedelta(days=1)).isoformat()
    r = as_user(alice).post("/api/rooms/", _create_body(scheduled_start=past), format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "start_in_past"
    assert not Room.objects.exists()


def test_create_refuses_an_unknown_invitee_and_creates_nothing(alice: User) -> None:
    r = as_user(alice).post("/api/rooms/", _create_body(invitee_ids=[999_999]), format="json")

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "user_not_found"
    assert not Room.objects.exists()


# --- list -------------------------------------------------------------------------------------


def test_it_lists_hosted_and_cohosted_rooms(alice: User, bob: User, charlie: User) -> None:
    mine = services.room_create(host=alice, title="Mine")
    cohosted = services.room_create(host=charlie, title="Charlie's")
    CoHost.objects.create(room=cohosted, user=alice)
    services.room_create(host=bob, title="Not mine")

    r = as_user(alice).get("/api/rooms/")

    assert r.status_code == 200
    assert {room["token"] for room in r.json()["results"]} == {mine.token, cohosted.token}
    assert all(room["participant_count"] == 0 for room in r.json()["results"])


def test_list_validates_ownership(alice: User, charlie: User) -> None:
    services.room_create(host=alice, title="Mine")

    r = as_user(charlie).get("/api/rooms/")

    assert r.status_code == 200
    assert r.json() == {"next": None, "previous": None, "results": []}


def test_list_requires_sign_in(api: APIClient) -> None:
    assert api.get("/api/rooms/").status_code == 401


# --- detail -----------------------------------------------------------------------------------


def test_anyone_with_the_link_sees_the_summary(api: APIClient, alice: User) -> None:
    room = services.room_create(
        host=alice, title="Book club", password="secret words", capacity=8, signed_in_only=True
    )

    r = api.get(_url(room))

    assert r.status_code == 200
    body = r.json()
    assert body["title"] == "Book club"
    assert body["host_name"] == "Alice"
    assert body["has_password"] is True
    assert body["capacity"] == 8
    # A guest learns before joining that they need to sign in.
    assert body["signed_in_only"] is True
    assert body["participant_count"] == 0
    assert body["state"] == "scheduled"
    assert body["locked"] is False
    # Settings and internals are for moderators only.
    assert "participants_can_share_screen" not in body
    assert "version" not in body
    assert "password_hash" not in body


def test_moderators_see_every_setting(alice: User, bob: User) -> None:
    room = services.room_create(host=alice, title="Book club")
    CoHost.objects.create(room=room, user=bob)

    for user in (alice, bob):
        body = as_user(user).get(_url(room)).json()
        assert body["participants_can_share_screen"] is True
        assert body["version"] == room.version
        assert body["host_id"] == alice.pk


def test_participant_count_counts_admitted_people(alice: User, bob: User, friends: None) -> None:
    room = services.room_create(host=alice, title="Live")
    host_arrives(room, alice)
    services.room_join(token=room.token, identity=services.Identity(user=bob))

    assert APIClient().get(_url(room)).json()["participant_count"] == 2


def test_blocked_relation_looks_like_an_unknown_link(alice: User, charlie: User) -> None:
    room = services.room_create(host=alice, title="Private")
    Block.objects.create(blocker=alice, blocked=charlie)
    client = as_user(charlie)

    unknown = client.get("/api/rooms/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/")
    blocked = client.get(_url(room))
    malformed = client.get("/api/rooms/not%20a%20token/")

    assert unknown.status_code == blocked.status_code == malformed.status_code == 404
    assert unknown.content == blocked.content == malformed.content
    assert blocked.json()["error"]["code"] == "room_not_found"


def test_block_by_the_visitor_also_hides_the_room(alice: User, charlie: User) -> None:
    room = services.room_create(host=alice, title="Private")
    Block.objects.create(blocker=charlie, blocked=alice)

    r = as_user(charlie).get(_url(room))

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "room_not_found"


# --- update -----------------------------------------------------------------------------------


def test_it_updates_settings(alice: User) -> None:
    room = services.room_create(host=alice, title="Old", password="password")
    version = room.version

    r = as_user(alice).patch(
        _url(room),
        {
            "title": "New",
            "capacity": 5,
            "waiting_room": False,
            "participants_can_share_screen": False,
            "signed_in_only": True,
            "password": "",
        },
        format="json",
    )

    assert r.status_code == 200, r.json()
    assert r.json()["signed_in_only"] is True
    room.refresh_from_db()
    assert room.title == "New"
    assert room.capacity == 5
    assert room.signed_in_only is True
    assert room.waiting_room is False
    assert room.participants_can_share_screen is False
    assert room.has_password is False
    assert r.json()["version"] == room.version == version + 1


def test_capacity_below_the_people_inside_is_a_clear_400(alice: User) -> None:
    room = services.room_create(host=alice, title="Full house", waiting_room=False)
    host_arrives(room, alice)
    for i in range(2):
        services.room_join(
            token=room.token,
            identity=services.Identity(guest_id=f"{i}" * 32, display_name=f"G{i}"),
        )
    room.refresh_from_db()
    before = (room.capacity, room.version)
    inside = room.participants.filter(state="admitted").count()
    assert inside == 3

    r = as_user(alice).patch(_url(room), {"capacity": 2}, format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "capacity_below_inside"
    assert "3 people are in the room now" in r.json()["error"]["message"]
    room.refresh_from_db()
    assert (room.capacity, room.version) == before
    assert as_user(alice).patch(_url(room), {"capacity": 3}, format="json").status_code == 200


def test_update_refuses_a_short_password_and_changes_nothing(alice: User) -> None:
    room = services.room_create(host=alice, title="Old", password="the old one")
    before = (room.password_hash, room.version)

    r = as_user(alice).patch(_url(room), {"title": "New", "password": "1"}, format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "password_too_short"
    room.refresh_from_db()
    assert (room.password_hash, room.version, room.title) == (*before, "Old")


def test_a_cohost_may_update(alice: User, bob: User) -> None:
    room = services.room_create(host=alice, title="Old")
    CoHost.objects.create(room=room, user=bob)

    r = as_user(bob).patch(_url(room), {"capacity": 3}, format="json")

    assert r.status_code == 200
    room.refresh_from_db()
    assert room.capacity == 3


def test_update_validates_ownership(alice: User, bob: User, charlie: User, friends: None) -> None:
    room = services.room_create(host=alice, title="Old")
    host_arrives(room, alice)
    services.room_join(token=room.token, identity=services.Identity(user=bob))
    room.refresh_from_db()
    version = room.version

    for user in (charlie, bob):  # an outsider, and a participant
        r = as_user(user).patch(_url(room), {"title": "Mine now"}, format="json")
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "not_a_host"

    room.refresh_from_db()
    assert room.title == "Old"
    assert room.version == version


def test_update_requires_sign_in(api: APIClient, alice: User) -> None:
    room = services.room_create(host=alice, title="Old")

    r = api.patch(_url(room), {"title": "Guest's"}, format="json")

    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"
    room.refresh_from_db()
    assert room.title == "Old"


@pytest.mark.parametrize(
    "changes",
    [
        {"capacity": 0},
        {"capacity": True},
        {"title": None},
        {"locked": "sometimes"},
        {"scheduled_start": "2030-01-01 10:00"},
        {"audience": 3},
    ],
)
def test_update_validates_input(alice: User, changes: dict[str, object]) -> None:
    room = services.room_create(host=alice, title="Old")
    version = room.version

    r = as_user(alice).patch(_url(room), changes, format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid"
    room.refresh_from_db()
    assert (room.title, room.capacity, room.version) == ("Old", 50, version)


def test_update_of_an_ended_room_is_refused(alice: User) -> None:
    room = services.room_create(host=alice, title="Old")
    services.room_end(room=room, actor=alice)

    r = as_user(alice).patch(_url(room), {"title": "New"}, format="json")

    assert r.status_code == 410
    assert r.json()["error"]["code"] == "room_ended"


# --- limits -----------------------------------------------------------------------------------


def test_creating_rooms_is_limited_per_account(alice: User, bob: User) -> None:
    """Issue 15: 60 rooms in 2 s. The default is 20 an hour."""
    client = as_user(alice)
    codes = [
        client.post("/api/rooms/", {"title": f"Room {n}"}, format="json").status_code
        for n in range(21)
    ]
    assert codes == [201] * 20 + [429]

    r = client.post("/api/rooms/", {"title": "One more"}, format="json")
    assert r.status_code == 429
    assert r.json() == {
        "error": {
            "code": "rate_limited",
            "message": r.json()["error"]["message"],
        }
    }
    assert r.json()["error"]["message"].startswith("You have created rooms too often.")
    assert 0 < int(r["Retry-After"]) <= 3600
    assert Room.objects.filter(host=alice).count() == 20
    # Someone else's budget is their own.
    assert as_user(bob).post("/api/rooms/", {"title": "Mine"}, format="json").status_code == 201

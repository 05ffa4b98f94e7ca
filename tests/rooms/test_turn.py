from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from rooms import services, turn
from tests.conftest import as_user
from tests.factories import host_arrives


@pytest.fixture
def with_turn(settings):  # type: ignore[no-untyped-def]
    settings.TURN_URLS = ["turn:turn.example.com:3478?transport=udp"]
    settings.TURN_SECRET = "s3cret"
    settings.TURN_TTL_SECONDS = 600
    return settings


def test_credentials_follow_coturn_rest_scheme(with_turn) -> None:  # type: ignore[no-untyped-def]
    [server] = turn.ice_servers(participant_id=42, now=1_000_000)
    assert server["username"] == "1000600:42"
    expected = hmac.new(b"s3cret", b"1000600:42", hashlib.sha1).digest()
    assert base64.b64decode(server["credential"]) == expected
    assert server["urls"] == ["turn:turn.example.com:3478?transport=udp"]


def test_no_turn_configured_gives_no_servers() -> None:
    assert turn.ice_servers(participant_id=1) == []


@pytest.mark.django_db
def test_only_admitted_people_get_credentials(with_turn, alice: User, bob: User) -> None:  # type: ignore[no-untyped-def]
    room = services.room_create(host=alice, title="Talk")
    host_arrives(room, alice)
    admitted = as_user(alice).post(f"/api/rooms/{room.token}/join/", {}, format="json").json()
    assert admitted["ice_servers"][0]["username"].endswith(f":{admitted['participant']['id']}")
    waiting = APIClient().post(
        f"/api/rooms/{room.token}/join/", {"display_name": "Gus"}, format="json"
    )
    assert waiting.json()["decision"]["outcome"] == "lobby"
    assert waiting.json()["ice_servers"] == []
    stranger = as_user(bob).post(f"/api/rooms/{room.token}/join/", {}, format="json").json()
    assert stranger["ice_servers"] == []

"""The room page behind a link: /r/<token>/ (the client is rooms/static/rooms/js/room/)."""

from __future__ import annotations

import json
import re

from django.contrib.auth.hashers import make_password
from django.test import Client

from accounts.models import User
from accounts.services import user_block
from rooms.models import RoomState
from tests.factories import RoomFactory


def url(token: str) -> str:
    return f"/r/{token}/"


def page_config(html: str) -> dict:  # type: ignore[type-arg]
    match = re.search(
        r'<script id="room-config" type="application/json">(.*?)</script>', html, re.S
    )
    assert match is not None
    return json.loads(match.group(1))


def test_it_works(client: Client, alice: User, bob: User, friends: None) -> None:
    room = RoomFactory(host=alice, title="Friday catch-up", description="Bring news.")
    client.force_login(bob)
    r = client.get(url(room.token))
    assert r.status_code == 200
    html = r.content.decode()
    assert "Friday catch-up" in html and "Hosted by Alice" in html
    assert "You're joining as <strong>Bob</strong>" in html
    assert 'id="display-name"' not in html  # signed in: no name to give
    assert 'id="room-password"' not in html
    assert "rooms/js/room/main.js" in html and "rooms/css/rooms.css" in html
    assert "csrftoken" in r.cookies
    config = page_config(html)
    assert config["room"]["token"] == room.token
    assert config["viewer"] == {
        "signed_in": True,
        "name": "Bob",
        "avatar_url": "",
        "is_moderator": False,
    }
    assert {"value": "harassment", "label": "Harassment or bullying"} in config["report_reasons"]


def test_it_asks_guests_for_a_name(client: Client, alice: User) -> None:
    room = RoomFactory(host=alice)
    r = client.get(url(room.token))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="display-name"' in html
    assert page_config(html)["viewer"]["signed_in"] is False


def test_it_asks_for_the_password_without_showing_it(client: Client, alice: User) -> None:
    room = RoomFactory(host=alice, password_hash=make_password("s3cret-pass"))
    html = client.get(url(room.token)).content.decode()
    assert 'id="room-password"' in html
    assert "s3cret" not in html and room.password_hash not in html
    assert page_config(html)["room"]["has_password"] is True


def test_a_room_for_signed_in_people_sends_guests_to_sign_in(
    client: Client, alice: User, bob: User
) -> None:
    room = RoomFactory(host=alice, signed_in_only=True)
    html = client.get(url(room.token)).content.decode()
    assert 'id="join-form"' not in html and 'id="display-name"' not in html
    sign_in = f"/accounts/login/?next=%2Fr%2F{room.token}%2F"
    assert f'href="{sign_in}"' in html
    assert page_config(html)["sign_in_url"] == sign_in
    assert page_config(html)["room"]["signed_in_only"] is True

    client.force_login(bob)
    html = client.get(url(room.token)).content.decode()
    assert 'id="join-form"' in html and "Sign in to join" not in html


def test_it_tells_the_host_they_moderate(client: Client, alice: User) -> None:
    room = RoomFactory(host=alice)
    client.force_login(alice)
    assert page_config(client.get(url(room.token)).content.decode())["viewer"]["is_moderator"]


def test_it_shows_an_ended_room_as_ended(client: Client, alice: User) -> None:
    room = RoomFactory(host=alice, state=RoomState.ENDED)
    html = client.get(url(room.token)).content.decode()
    assert page_config(html)["room"]["state"] == "ended"


def test_unknown_and_malformed_links_are_not_found(client: Client, db: None) -> None:
    for token in ("no-such-room", "bad token!"):
        r = client.get(f"/r/{token}/")
        assert r.status_code == 404
        assert "This room doesn't exist" in r.content.decode()


def test_it_validates_ownership(client: Client, alice: User, charlie: User) -> None:
    """A room whose host blocked the viewer looks exactly like an unknown link."""
    room = RoomFactory(host=alice, title="Alice's secret room")
    user_block(blocker=alice, blocked=charlie)
    client.force_login(charlie)
    r = client.get(url(room.token))
    assert r.status_code == 404
    assert "secret room" not in r.content.decode()

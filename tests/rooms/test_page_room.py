"""The room page behind a link: /r/<token>/ (the client is rooms/static/rooms/js/room/)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

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
    assert "Friday catch-up" in html and 'Hosted by <span translate="no">Alice</span>' in html
    assert 'You\'re joining as <strong translate="no">Bob</strong>' in html
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


# --- Inside any site: its base template, any prefix ---------------------------------------------


def test_the_standalone_base_template_needs_nothing_of_the_site(
    client: Client, alice: User, settings: Any
) -> None:
    settings.ROOMS_BASE_TEMPLATE = "rooms/base.html"
    room = RoomFactory(host=alice, title="Standalone")
    r = client.get(url(room.token))
    assert r.status_code == 200
    html = r.content.decode()
    assert [t.name for t in r.templates][:2] == ["rooms/room.html", "rooms/base.html"]
    assert "<title>Standalone</title>" in html
    assert "site-header" not in html and "css/app.css" not in html  # the reference site's
    assert "rooms/css/rooms.css" in html and "rooms/js/room/main.js" in html
    not_found = client.get(url("nope"))
    assert not_found.status_code == 404
    assert "rooms/base.html" in [t.name for t in not_found.templates]


def test_links_and_socket_follow_the_prefix_the_site_chose(
    client: Client, alice: User, settings: Any
) -> None:
    settings.ROOT_URLCONF = "tests.rooms.prefix_urls"
    settings.LOGIN_URL = "/members/sign-in/"  # a path: this URLconf has no "login"
    settings.ROOMS_BASE_TEMPLATE = "rooms/base.html"
    room = RoomFactory(host=alice)
    client.force_login(alice)
    assert client.get(f"/r/{room.token}/").status_code == 404
    r = client.get(f"/video/r/{room.token}/")
    assert r.status_code == 200
    config = page_config(r.content.decode())
    assert config["room"]["link"] == f"/video/r/{room.token}/"
    assert config["urls"] == {
        "api": f"/video/api/v1/rooms/{room.token}/",
        "socket": f"/video/ws/rooms/{room.token}/",
        "home": "/",
    }
    assert config["sign_in_url"] == f"/members/sign-in/?next=%2Fvideo%2Fr%2F{room.token}%2F"
    assert client.get(config["urls"]["api"]).status_code == 200


def test_the_scripts_hard_code_no_path() -> None:
    scripts = Path(__file__).resolve().parents[2] / "rooms" / "static" / "rooms" / "js"
    for path in scripts.rglob("*.js"):
        source = path.read_text()
        for prefix in ("/api/", "/ws/", "/r/"):
            assert f"`{prefix}" not in source and f'"{prefix}' not in source, (path, prefix)

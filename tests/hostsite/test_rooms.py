"""Rooms on this site, as its members and their guests use it: pages, the API and the room
socket of a real server, mounted under /video/."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from asgiref.sync import sync_to_async
from browsing import (
    TITLE,
    admit,
    api,
    create_room,
    enter,
    names,
    open_room,
    page_data,
    room_config,
    room_path,
    signed_in,
)
from django.conf import settings
from django.contrib.staticfiles import finders
from websockets.exceptions import InvalidStatus

import rooms

pytestmark = pytest.mark.django_db(transaction=True)

# --- creating -----------------------------------------------------------------------------------


async def test_member_creates_a_room_from_the_api_and_opens_its_page(
    host: Any, browser: Any
) -> None:
    page = await signed_in(browser, host)
    room = await create_room(page, description="Chapter 3")
    assert room["title"] == TITLE
    answer = await page.get(room_path(room["token"]))
    assert answer.status_code == 200
    html = answer.text
    # The site's own layout around Rooms' page, with the member the site knows.
    assert 'id="hostsite-nav"' in html
    assert "hana@example.org" in html
    assert TITLE in html and "Hana Host" in html
    config = page_data(html)["room-config"]
    assert config["room"]["token"] == room["token"]
    assert config["viewer"]["signed_in"] is True
    assert config["sign_in_url"].startswith("/login/")


async def test_member_starts_a_room_from_the_sites_page_and_friends_see_it_live(
    host: Any, friend: Any, follower: Any, browser: Any
) -> None:
    # Her friend has the site's home page open: Rooms' strip tells its script where the live
    # cards come from.
    fay = await signed_in(browser, friend)
    home = await fay.get("/")
    strip = page_data(home.text)["rooms-strip-config"]
    assert strip["socket"].startswith("/video/") and strip["feed"].startswith("/video/")
    cards = await fay.socket(strip["socket"])

    page = await signed_in(browser, host)
    assert (await page.get("/")).status_code == 200
    started = await page.http.post(
        "/rooms/start/",
        data={"csrfmiddlewaretoken": page.http.cookies["csrftoken"], "title": TITLE},
    )
    assert started.status_code == 302, started.text
    link = started.headers["location"]
    assert link.startswith("/video/r/"), link
    token = link.removeprefix("/video/r/").strip("/")
    joined, socket = await enter(page, token)
    assert joined["decision"]["outcome"] == "admit"
    await socket.expect("snapshot")

    # Live, with its host in it: a card on the open page, on top of her friend's home page,
    # in the feed API; none of it for a follower she does not follow back.
    card = await cards.expect("feed.room", where=lambda m: m["room"]["token"] == token)
    assert card["room"]["title"] == TITLE
    assert link in (await fay.get("/")).text
    feed = await fay.get(strip["feed"])
    assert feed.status_code == 200, feed.text
    assert token in feed.text
    otto = await signed_in(browser, follower)
    assert link not in (await otto.get("/")).text
    assert token not in (await otto.get(strip["feed"])).text


async def test_rooms_scripts_and_styles_on_the_sites_pages_are_the_packages(
    host: Any, browser: Any
) -> None:
    """Every static file that the room page and the strip on the site's home page link to is
    found (by the site's static finders) inside the installed rooms package, and the scripts
    import only files that are there too."""
    page = await signed_in(browser, host)
    room = await create_room(page)
    html = (await page.get(room_path(room["token"]))).text + (await page.get("/")).text
    linked = set(re.findall(rf'(?:src|href)="{re.escape(settings.STATIC_URL)}([^"]+)"', html))
    assert {"rooms/js/room/main.js", "rooms/js/strip.js"} <= linked, linked
    assert any(path.endswith(".css") for path in linked), linked
    package = Path(rooms.__file__).resolve().parent
    for path in linked:
        found = finders.find(path)
        assert found, path
        assert Path(found).resolve().is_relative_to(package), found
    # The ES modules' own imports (relative, as browsers resolve them).
    for script in (package / "static" / "rooms" / "js").rglob("*.js"):
        for target in re.findall(r'from\s+"(\.[^"]+)"', script.read_text()):
            assert (script.parent / target).resolve().is_file(), (script, target)


async def test_unknown_room_answers_rooms_own_error_shape(host: Any, browser: Any) -> None:
    page = await signed_in(browser, host)
    answer = await page.get(api("api-room", token="no-such-room"))
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"]["code"] == "room_not_found"
    missing = await page.get(room_path("no-such-room"))
    assert missing.status_code == 404
    assert 'id="hostsite-nav"' in missing.text


async def test_suspended_member_may_not_create_rooms(host: Any, browser: Any) -> None:
    host.suspended = True
    await sync_to_async(host.save)()
    page = await signed_in(browser, host)
    answer = await page.post(api("api-rooms"), {"title": TITLE})
    assert answer.status_code == 403, answer.text
    assert "error" in answer.json()


async def test_the_sites_own_notices_hear_that_a_room_went_live(
    host: Any, friend: Any, follower: Any, blocked: Any, browser: Any
) -> None:
    """Through rooms.signals (people.receivers): the host's friend, not a one-way follower, not
    someone across a block (though they follow each other), and once."""
    from people.models import Notice

    _, token, _ = await open_room(browser, host)

    def notices() -> list[tuple[str, str]]:
        rows = Notice.objects.filter(room_token=token).values_list("member__email", "kind")
        return sorted(rows)

    deadline = asyncio.get_running_loop().time() + 15
    while not (found := await sync_to_async(notices)()):
        assert asyncio.get_running_loop().time() < deadline, "no notice within 15 s"
        await asyncio.sleep(0.1)
    assert found == [("fay@example.org", "room_live")]


# --- joining ------------------------------------------------------------------------------------


async def test_friend_joins_straight_in_and_the_room_socket_carries_the_room(
    host: Any, friend: Any, browser: Any
) -> None:
    _, token, host_socket = await open_room(browser, host)
    fay = await signed_in(browser, friend)
    joined, socket = await enter(fay, token)
    assert joined["decision"]["outcome"] == "admit"
    snapshot = await socket.expect("snapshot")
    assert names(snapshot) == ["Fay Friend", "Hana Host"]
    assert snapshot["you"]["role"] == "participant"
    await host_socket.expect(
        "room.participant_joined", where=lambda m: m["participant"]["display_name"] == "Fay Friend"
    )
    # A message from the page travels through the room to the others.
    await socket.send({"type": "hand.set", "raised": True})
    changed = await host_socket.expect(
        "room.participant_updated", where=lambda m: m["participant"]["hand_raised"]
    )
    assert changed["participant"]["display_name"] == "Fay Friend"


async def test_follower_not_followed_back_knocks_and_the_host_admits(
    host: Any, follower: Any, browser: Any
) -> None:
    hana, token, host_socket = await open_room(browser, host)
    otto = await signed_in(browser, follower)
    joined, socket = await enter(otto, token)
    assert joined["decision"]["outcome"] == "lobby"
    await socket.expect("lobby.status")
    waiting = await host_socket.expect("room.lobby_waiting")
    assert waiting["participant"]["display_name"] == "Otto Follower"
    await admit(hana, token, joined["participant"]["id"])
    snapshot = await socket.expect("snapshot")
    assert names(snapshot) == ["Hana Host", "Otto Follower"]


async def test_blocked_person_gets_the_answer_of_an_unknown_link(
    host: Any, blocked: Any, browser: Any
) -> None:
    _, token, _ = await open_room(browser, host)
    bert = await signed_in(browser, blocked)
    refused = await bert.post(api("api-room-join", token=token), {})
    unknown = await bert.post(api("api-room-join", token="no-such-room"), {})
    assert refused.status_code == unknown.status_code == 404
    assert refused.json() == unknown.json()
    page = await bert.get(room_path(token))
    assert page.status_code == 404


async def test_blocking_the_host_counts_too(host: Any, friend: Any, browser: Any) -> None:
    from people.models import Block

    await sync_to_async(Block.objects.create)(blocker=friend, blocked=host)
    _, token, _ = await open_room(browser, host)
    fay = await signed_in(browser, friend)
    refused = await fay.post(api("api-room-join", token=token), {})
    assert refused.status_code == 404


async def test_guest_with_the_link_waits_in_the_lobby_until_the_host_admits(
    host: Any, browser: Any
) -> None:
    hana, token, host_socket = await open_room(browser, host)
    guest = browser()
    config = await room_config(guest, token)
    assert config["viewer"]["signed_in"] is False
    joined, socket = await enter(guest, token, display_name="Gus Guest")
    assert joined["decision"] == {"outcome": "lobby", "reason": "waiting_room"}
    # The guest is known by the signed cookies the join set, as a browser keeps them.
    assert {"rooms_guest", "rooms_device"} <= set(guest.http.cookies)
    status = await socket.expect("lobby.status")
    assert status["reason"] == "waiting_room"
    waiting = await host_socket.expect("room.lobby_waiting")
    assert waiting["participant"]["display_name"] == "Gus Guest"
    await admit(hana, token, joined["participant"]["id"])
    snapshot = await socket.expect("snapshot")
    assert names(snapshot) == ["Gus Guest", "Hana Host"]
    assert snapshot["you"]["role"] == "participant"
    assert snapshot["you"]["is_guest"] is True
    await host_socket.expect("room.participant_joined")


async def test_another_sites_page_cannot_use_a_members_socket(
    host: Any, friend: Any, browser: Any
) -> None:
    """Cookies go along whatever page opens a socket: only this site's own pages may."""
    _, token, _ = await open_room(browser, host)
    fay = await signed_in(browser, friend)
    config = await room_config(fay, token)
    answer = await fay.post(
        f"{config['urls']['api']}join/", {"display_name": ""}, csrf_token=config["csrf_token"]
    )
    ticket = quote(answer.json()["ticket"], safe="")
    with pytest.raises(InvalidStatus) as refused:
        await fay.socket(
            f"{config['urls']['socket']}?ticket={ticket}", origin="http://evil.example.com"
        )
    assert refused.value.response.status_code == 403
    # The ticket was not used up: her own page still gets in with it.
    socket = await fay.socket(f"{config['urls']['socket']}?ticket={ticket}")
    await socket.expect("snapshot")


async def test_people_wait_for_the_host(host: Any, friend: Any, browser: Any) -> None:
    page = await signed_in(browser, host)
    room = await create_room(page)
    fay = await signed_in(browser, friend)
    joined, socket = await enter(fay, room["token"])
    assert joined["decision"] == {"outcome": "lobby", "reason": "waiting_for_host"}
    host_joined, host_socket = await enter(page, room["token"])
    assert host_joined["decision"]["outcome"] == "admit"
    await host_socket.expect("snapshot")
    # The host's arrival lets her friend in.
    snapshot = await socket.expect("snapshot")
    assert names(snapshot) == ["Fay Friend", "Hana Host"]

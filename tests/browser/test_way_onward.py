"""Every screen a guest can land on says who did it and has a way onward: turned away, removed,
refused again (banned) and ended each offer signing in and going back to the site."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import People, RoomsServer, shot
from tests.browser.test_lobby_prompt import knock
from tests.browser.test_room_ui import create_room
from tests.browser.test_story import in_room, join_signed_in, ready

COUNT_CAMERA_REQUESTS = """
window.__cameraRequests = 0;
const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (...args) => {
  window.__cameraRequests += 1;
  return getUserMedia(...args);
};
"""


def expect_ways_onward(page: Page, server: RoomsServer) -> None:
    actions = page.locator("#wait-actions")
    sign_in = actions.get_by_role("link", name="Sign in")
    expect(sign_in).to_be_visible()
    expect(actions.get_by_role("link", name="Back to the site")).to_be_visible()
    href = sign_in.get_attribute("href") or ""
    assert href.startswith("/accounts/login/"), href


def test_each_final_screen_says_who_and_offers_a_way_onward(
    people: People, rooms_server: RoomsServer
) -> None:
    alice = people.page("alice")
    link = create_room(alice, title="Ways onward", waiting_room=True)
    alice.goto(link)
    join_signed_in(alice)
    in_room(alice)
    prompt = alice.locator("#knock")

    # Turned away from the lobby.
    dora = knock(people, link, "Dora Denied")
    prompt.get_by_role("button", name="Deny Dora Denied").click()
    expect(dora.get_by_role("heading", name="You weren't let in")).to_be_visible()
    expect(dora.locator("#wait-message")).to_have_text(
        "The host didn't let you in, so you can't join this room right now."
    )
    expect_ways_onward(dora, rooms_server)
    shot(dora, "70-guest-denied")
    dora.locator("#wait-actions").get_by_role("link", name="Sign in").click()
    expect(dora.get_by_label("Username")).to_be_visible()
    dora.context.close()

    # Removed, then refused when trying again.
    rex = knock(people, link, "Rex Removed")
    prompt.get_by_role("button", name="Admit Rex Removed").click()
    in_room(rex)
    alice.get_by_role("button", name=re.compile("^Security")).click()
    alice.locator("#panel-security").get_by_role("button", name="Remove Rex Removed").click()
    alice.get_by_role("dialog", name="Remove Rex Removed?").get_by_role(
        "button", name="Remove"
    ).click()
    expect(rex.get_by_role("heading", name="You were removed from this room")).to_be_visible()
    expect(rex.locator("#wait-message")).to_contain_text("The host removed you")
    expect_ways_onward(rex, rooms_server)
    shot(rex, "71-guest-removed")
    # Back at the link: refused at once, before the pre-join screen asks for the camera.
    rex.context.add_init_script(COUNT_CAMERA_REQUESTS)
    rex.goto(link)
    ready(rex)
    expect(rex.get_by_role("heading", name="You can't join this room")).to_be_visible()
    expect(rex.locator("#screen-prejoin")).to_be_hidden()
    assert rex.evaluate("() => window.__cameraRequests") == 0
    expect(rex.locator("#wait-message")).to_have_text(
        "You were removed from this room earlier, so you can't come back."
    )
    expect_ways_onward(rex, rooms_server)
    shot(rex, "72-guest-banned")
    rex.context.close()

    # Ended by the host.
    eve = knock(people, link, "Eve Ended")
    alice.locator("#panel-security").get_by_role("button", name="Admit Eve Ended").click()
    in_room(eve)
    # Capacity can't go below the two people inside: said plainly, nothing changes.
    expect(alice.locator("#people-count")).to_have_text("2")
    alice.get_by_label("Capacity").fill("1")
    alice.locator("#sec-capacity-form").get_by_role("button", name="Save").click()
    expect(alice.locator("#toast")).to_have_text(
        "2 people are in the room now: capacity can't be lower than that."
    )
    alice.get_by_role("button", name="End room for everyone").click()
    alice.get_by_role("dialog", name="End the room for everyone?").get_by_role(
        "button", name="End room"
    ).click()
    expect(eve.get_by_role("heading", name="This room has ended")).to_be_visible()
    expect(eve.locator("#wait-message")).to_have_text("The host ended the room for everyone.")
    expect_ways_onward(eve, rooms_server)
    shot(eve, "73-guest-ended")
    # The host, signed in, goes back to the feed.
    home = alice.locator("#wait-actions").get_by_role("link", name="Back to the site")
    expect(home).to_be_visible()
    expect(alice.locator("#wait-actions").get_by_role("link", name="Sign in")).to_have_count(0)

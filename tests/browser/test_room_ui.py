"""The room page beyond the main story: reconnecting, passwords, keyboard and phone widths."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import People, shot
from tests.browser.test_story import in_room, join_signed_in, ready

CREATE = """async (body) => {
    const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
    const r = await fetch('/api/rooms/', {method: 'POST', body: JSON.stringify(body),
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf}});
    return await r.json();
}"""


def create_room(host: Page, **fields: Any) -> str:
    """A room made through the API from the host's page; returns its link."""
    room = host.evaluate(CREATE, {"title": "Test room", **fields})
    return str(room["link"])


def test_it_reconnects_by_itself(people: People) -> None:
    alice = people.page("alice")
    link = create_room(alice, title="Reconnect room")
    alice.goto(link)
    join_signed_in(alice)
    in_room(alice)
    bob = people.page("bob")
    bob.goto(link)
    join_signed_in(bob)
    in_room(bob)
    expect(alice.locator("#people-count")).to_have_text("2")

    # The network goes away and the socket drops: the page says so and keeps trying.
    bob.context.set_offline(True)
    bob.evaluate("() => window.roomsDebug.socket.ws.close(3001)")
    expect(bob.locator("#reconnecting")).to_be_visible(timeout=15_000)
    expect(bob.locator("#reconnecting")).to_contain_text("Reconnecting")
    shot(bob, "20-reconnecting")
    bob.context.set_offline(False)
    expect(bob.locator("#reconnecting")).to_be_hidden(timeout=15_000)
    expect(bob.locator("#people-count")).to_have_text("2")

    # A resume the server refuses (token no longer valid) falls back to the join API.
    # The banner may come and go between two of Playwright's polls on a fast run: a
    # MutationObserver remembers that it was shown.
    bob.evaluate(
        """() => {
            const banner = document.getElementById("reconnecting");
            window.sawReconnecting = false;
            new MutationObserver(() => { if (!banner.hidden) window.sawReconnecting = true; })
                .observe(banner, { attributes: true, attributeFilter: ["hidden"] });
            window.roomsDebug.socket.resumeToken = "stale";
            window.roomsDebug.socket.ws.close(3001);
        }"""
    )
    bob.wait_for_function("() => window.sawReconnecting === true", timeout=15_000)
    expect(bob.locator("#reconnecting")).to_be_hidden(timeout=15_000)
    in_room(bob)
    expect(alice.locator("#people-count")).to_have_text("2")
    expect(alice.locator("#grid .tile")).to_have_count(2)


def test_password_keyboard_and_phone(people: People) -> None:
    alice = people.page("alice")
    link = create_room(alice, title="Quiet room", password="open sesame")
    alice.goto(link)
    join_signed_in(alice)
    in_room(alice)

    guest = people.page(width=390, height=844)
    guest.goto(link)
    ready(guest)
    shot(guest, "21-phone-prejoin")
    # Keyboard only: the name, a wrong password, then the right one.
    guest.get_by_label("Your name").focus()
    guest.keyboard.type("Phoebe Phone")
    guest.keyboard.press("Tab")
    expect(guest.get_by_label("Room password")).to_be_focused()
    guest.keyboard.type("wrong")
    guest.keyboard.press("Enter")
    expect(guest.locator("#room-password-error")).to_have_text("That password is not right.")
    expect(guest.get_by_label("Room password")).to_be_focused()
    guest.get_by_label("Room password").fill("open sesame")
    guest.keyboard.press("Enter")
    expect(guest.get_by_role("heading", name="Waiting to be let in")).to_be_visible()
    shot(guest, "22-phone-lobby")

    # The host lets them in with the keyboard too.
    security_button = alice.get_by_role("button", name=re.compile("^Security"))
    expect(security_button).to_have_accessible_name("Security, 1 waiting in the lobby")
    security_button.focus()
    alice.keyboard.press("Enter")
    expect(alice.locator("#security-heading")).to_be_focused()
    admit = alice.get_by_role("button", name="Admit Phoebe Phone")
    admit.focus()
    alice.keyboard.press("Enter")
    in_room(guest)
    expect(guest.locator("#announcer")).to_have_text("You were let in. You're in the room.")
    alice.keyboard.press("Escape")
    expect(alice.locator("#panel-security")).to_be_hidden()
    expect(security_button).to_be_focused()
    outline = alice.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"

    # The guest on a phone: the grid and the controls fit, the people list opens and closes.
    guest.wait_for_timeout(300)
    shot(guest, "23-phone-in-room")
    width = guest.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
    people_button = guest.get_by_role("button", name=re.compile("^People"))
    people_button.focus()
    guest.keyboard.press("Enter")
    expect(guest.locator("#panel-people")).to_be_visible()
    expect(guest.locator("#people-list li")).to_have_count(2)
    shot(guest, "24-phone-people")
    guest.keyboard.press("Escape")
    expect(people_button).to_be_focused()

    # Copy link puts the room's address on the clipboard.
    guest.get_by_role("button", name="Copy link").click()
    expect(guest.locator("#toast")).to_have_text("Link copied.")
    assert guest.evaluate("() => navigator.clipboard.readText()").endswith(link)

    # Raise a hand; the host sees it. Anyone can report.
    guest.get_by_role("button", name="Raise hand").click()
    expect(alice.locator("#grid .tile .tile-badge--hand")).to_have_count(1)
    expect(guest.get_by_role("button", name="Lower hand")).to_be_visible()
    guest.get_by_role("button", name="Report").click()
    report = guest.get_by_role("dialog", name="Report this room")
    report.get_by_label("Spam or scam").check()
    report.get_by_role("button", name="Send report").click()
    expect(guest.locator("#toast")).to_contain_text("Your report was sent")

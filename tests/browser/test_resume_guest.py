"""A guest whose socket drops gets back in through `?resume=` (the cookie the join API set),
not by joining again through the API."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import People, shot
from tests.browser.test_room_ui import create_room
from tests.browser.test_story import in_room, join_signed_in, ready

JOIN_CALLS = """() => performance.getEntriesByType('resource')
    .filter(e => e.initiatorType === 'fetch' && e.name.endsWith('/join/')).length"""


def test_a_guest_resumes_through_the_resume_token_after_a_drop(people: People) -> None:
    alice = people.page("alice")
    link = create_room(alice, title="Resume room", waiting_room=False)
    alice.goto(link)
    join_signed_in(alice)
    in_room(alice)
    guest = people.page()
    guest.goto(link)
    ready(guest)
    guest.get_by_label("Your name").fill("Gina Guest")
    guest.get_by_role("button", name="Join room").click()
    in_room(guest)
    expect(alice.locator("#people-count")).to_have_text("2")
    assert guest.evaluate(JOIN_CALLS) == 1
    seat = guest.evaluate("() => window.roomsDebug.you.id")

    # The socket drops (as a network blip would): the page resumes with ?resume=.
    guest.evaluate("() => window.roomsDebug.socket.ws.close(3001)")
    expect(guest.locator("#reconnecting")).to_be_visible()
    expect(guest.locator("#reconnecting")).to_be_hidden(timeout=15_000)
    in_room(guest)
    guest.wait_for_function("() => window.roomsDebug.socket.ws.url.includes('resume=')")
    assert guest.evaluate(JOIN_CALLS) == 1  # no second join through the API
    assert guest.evaluate("() => window.roomsDebug.you.id") == seat
    expect(alice.locator("#people-count")).to_have_text("2")
    shot(guest, "95-guest-resumed")

"""On a phone (390x844) the call fills the screen: the site's navigation is not above it, the
controls are pinned to the bottom inside the viewport and nothing scrolls."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import People, RoomsServer, shot
from tests.browser.test_room_ui import create_room
from tests.browser.test_story import expect_remote_video, in_room, join_signed_in

WIDTH, HEIGHT = 390, 844

LAYOUT = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
                        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
  const top = document.elementFromPoint(innerWidth / 2, 4);
  return {
    call: box(document.getElementById('screen-room')),
    bar: box(document.querySelector('.call__bar')),
    controls: box(document.querySelector('.call__controls')),
    buttons: [...document.querySelectorAll('.call__controls button')].map(box),
    scrollHeight: document.scrollingElement.scrollHeight,
    scrollWidth: document.scrollingElement.scrollWidth,
    innerHeight, innerWidth,
    topIsCall: Boolean(top && top.closest('#screen-room')),
    header: box(document.querySelector('.site-header')),
  };
}"""


def layout(page: Page) -> dict[str, Any]:
    return dict(page.evaluate(LAYOUT))


def test_on_a_phone_the_call_fills_the_screen_with_the_controls_in_view(
    people: People, rooms_server: RoomsServer
) -> None:
    alice = people.page("alice", width=WIDTH, height=HEIGHT)
    link = create_room(alice, title="Phone call")
    alice.goto(link)
    join_signed_in(alice)
    in_room(alice)
    bob = people.page("bob")
    bob.goto(link)
    join_signed_in(bob)
    in_room(bob)
    expect_remote_video(alice, 1)
    alice.wait_for_timeout(300)
    seen = layout(alice)
    rooms_server.metrics["phone_layout"] = seen
    shot(alice, "60-phone-call-full-screen")

    # The call covers the whole viewport; the site's navigation is not above it.
    assert seen["topIsCall"], seen
    assert seen["call"]["top"] <= 0.5 and abs(seen["call"]["bottom"] - HEIGHT) <= 0.5, seen
    # The controls sit at the bottom, every button inside the viewport.
    assert seen["controls"]["bottom"] <= HEIGHT and HEIGHT - seen["controls"]["bottom"] < 40, seen
    for button in seen["buttons"]:
        assert button["top"] >= 0 and button["bottom"] <= HEIGHT, button
        assert button["left"] >= 0 and button["right"] <= WIDTH, button
    # Nothing to scroll, either way; a scroll attempt moves nothing.
    assert seen["scrollHeight"] <= HEIGHT and seen["scrollWidth"] <= WIDTH, seen
    alice.mouse.wheel(0, 600)
    alice.wait_for_timeout(200)
    assert alice.evaluate("() => scrollY") == 0
    expect(alice.get_by_role("button", name="Leave room")).to_be_in_viewport(ratio=1)

    # After leaving, the page is a page again: the site's navigation is back.
    alice.get_by_role("button", name="Leave room").click()
    expect(alice.locator("#screen-wait")).to_be_visible()
    expect(alice.locator(".site-header")).to_be_in_viewport()
    shot(alice, "61-phone-after-leaving")

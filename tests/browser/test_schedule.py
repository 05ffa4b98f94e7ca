"""Scheduled rooms: "I'll be there" on the feed's card and on the room page, and the start time
in the reader's time zone, written the same way on the card (live and after a reload), on the
pre-join screen and on the waiting screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.browser.conftest import DEMO_PASSWORD, People, shot
from tests.browser.test_room_ui import CREATE
from tests.browser.test_story import ready

ZONE = "America/New_York"


def in_zone(people: People, username: str) -> Page:
    """A signed-in page whose browser lives in New York, in US English."""
    context = people.browser.new_context(
        base_url=people.server.url,
        timezone_id=ZONE,
        locale="en-US",
        permissions=["camera", "microphone"],
    )
    context.set_default_timeout(15_000)
    people.contexts.append(context)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{people.server.url}/")
    return page


def expected(start: datetime) -> str:
    """How en-US writes it in New York: "Thu, Dec 3, 7:30 PM EST"."""
    local = start.astimezone(ZoneInfo(ZONE))
    hour = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    return f"{local:%a}, {local:%b} {local.day}, {hour}:{local:%M} {half} {local.tzname()}"


def plain(text: str) -> str:
    # ICU puts narrow no-break spaces around the day period.
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def test_ill_be_there_and_one_start_time_in_the_readers_zone(people: People) -> None:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(
        hour=0, minute=30, second=0, microsecond=0
    )
    want = expected(start)
    bob = in_zone(people, "bob")
    alice = people.page("alice")
    room = alice.evaluate(
        CREATE, {"title": "Book club", "scheduled_start": start.isoformat().replace("+00:00", "Z")}
    )

    # The card arrives over the feed socket, then again from the server after a reload.
    card = bob.locator(f".room-card[data-token='{room['token']}']")
    expect(card).to_be_visible(timeout=20_000)
    live_text = plain(card.locator("time").inner_text())
    bob.reload()
    expect(card).to_be_visible()
    bob.wait_for_function(
        "(sel) => !document.querySelector(sel + ' time').textContent.includes('UTC')",
        arg=f".room-card[data-token='{room['token']}']",
    )
    reloaded_text = plain(card.locator("time").inner_text())
    assert live_text == reloaded_text == want, (live_text, reloaded_text, want)

    # "I'll be there" on the card: pressed, and still pressed after a reload.
    rsvp = card.get_by_role("button", name="I'll be there")
    expect(rsvp).to_have_attribute("aria-pressed", "false")
    rsvp.click()
    expect(rsvp).to_have_attribute("aria-pressed", "true")
    expect(bob.locator("#announcer")).to_contain_text("You'll be there")
    shot(bob, "80-card-rsvp")
    bob.reload()
    expect(card.get_by_role("button", name="I'll be there")).to_have_attribute(
        "aria-pressed", "true"
    )
    # The host's own card has no such button.
    alice.reload()
    expect(
        alice.locator(f".room-card[data-token='{room['token']}']").get_by_role(
            "button", name="I'll be there"
        )
    ).to_have_count(0)

    # The room page: the same start time, the same answer, and it can be taken back.
    bob.goto(room["link"])
    ready(bob)
    expect(bob.locator("#prejoin-start time")).to_be_visible()
    assert plain(bob.locator("#prejoin-start time").inner_text()) == want
    page_rsvp = bob.get_by_role("button", name="I'll be there")
    expect(page_rsvp).to_have_attribute("aria-pressed", "true")
    expect(bob.locator("#rsvp-count")).to_have_text("You're going.")
    shot(bob, "81-prejoin-scheduled")
    page_rsvp.click()
    expect(page_rsvp).to_have_attribute("aria-pressed", "false")
    expect(bob.locator("#rsvp-count")).to_have_text("")
    page_rsvp.click()
    expect(page_rsvp).to_have_attribute("aria-pressed", "true")

    # Joining before the start: the waiting screen says when it starts, the same way.
    bob.get_by_role("button", name="Join room").click()
    expect(bob.locator("#wait-start")).to_be_visible()
    assert plain(bob.locator("#wait-start time").inner_text()) == want
    shot(bob, "82-waiting-scheduled")

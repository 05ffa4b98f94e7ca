"""The lobby prompt: when someone knocks, the host sees who, with Admit and Deny, above the
call; a short chime plays unless the host turned it off (remembered); screen readers hear it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import People, shot
from tests.browser.test_room_ui import create_room
from tests.browser.test_story import in_room, join_signed_in, ready

# Counts the chime's notes: every OscillatorNode the page starts (the prompt's chime is two).
COUNT_TONES = """
window.__tones = 0;
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.__tones += 1;
  return start.apply(this, args);
};
"""


def knock(people: People, link: str, name: str) -> Page:
    guest = people.page()
    guest.goto(link)
    ready(guest)
    guest.get_by_label("Your name").fill(name)
    guest.get_by_role("button", name="Join room").click()
    expect(guest.get_by_role("heading", name="Waiting to be let in")).to_be_visible()
    return guest


def tones(page: Page) -> int:
    return int(page.evaluate("() => window.__tones"))


def test_a_knock_prompts_the_host_with_admit_deny_and_a_sound_they_can_turn_off(
    people: People,
) -> None:
    alice = people.page("alice")
    alice.context.add_init_script(COUNT_TONES)
    link = create_room(alice, title="Knock knock", waiting_room=True)
    alice.goto(link)
    join_signed_in(alice)
    in_room(alice)
    prompt = alice.locator("#knock")
    expect(prompt).to_be_hidden()
    assert tones(alice) == 0

    # A guest knocks: the prompt shows over the call, in view, with Admit and Deny.
    gus = knock(people, link, "Gus Guest")
    expect(prompt).to_be_visible()
    expect(prompt.get_by_role("heading")).to_have_text("Gus Guest wants to join")
    expect(prompt).to_be_in_viewport(ratio=1)
    grid = alice.locator("#grid").bounding_box()
    box = prompt.bounding_box()
    assert grid and box and grid["y"] <= box["y"] < grid["y"] + grid["height"]
    expect(prompt.get_by_role("button", name="Deny Gus Guest")).to_be_visible()
    # Screen readers hear it; the chime played (two notes).
    expect(alice.locator("#announcer")).to_contain_text("Gus Guest is waiting in the lobby.")
    alice.wait_for_function("() => window.__tones >= 2")
    expect(prompt.get_by_label("Knock sound")).to_be_checked()
    shot(alice, "50-lobby-prompt")
    prompt.get_by_role("button", name="Admit Gus Guest").click()
    in_room(gus)
    expect(prompt).to_be_hidden()
    expect(alice.locator("#people-count")).to_have_text("2")
    gus.context.close()

    # The host turns the sound off; the next knock is silent, and Deny works from the prompt.
    heard = tones(alice)
    dora = knock(people, link, "Dora Denied")
    expect(prompt.get_by_role("heading")).to_have_text("Dora Denied wants to join")
    prompt.get_by_label("Knock sound").uncheck()
    prompt.get_by_role("button", name="Deny Dora Denied").click()
    expect(dora.get_by_role("heading", name=re.compile("let (you )?in", re.I))).to_be_visible()
    expect(prompt).to_be_hidden()
    dora.context.close()

    # The choice is remembered: after a reload, the prompt's switch is off and no note plays.
    alice.reload()
    join_signed_in(alice)
    in_room(alice)
    assert tones(alice) == 0
    knock(people, link, "Quiet Quentin")
    expect(prompt.get_by_role("heading")).to_have_text("Quiet Quentin wants to join")
    expect(prompt.get_by_label("Knock sound")).not_to_be_checked()
    alice.wait_for_timeout(500)
    assert tones(alice) == 0
    assert heard >= 2
    shot(alice, "51-lobby-prompt-sound-off")

    # With the Security panel open the lobby is listed there; the prompt steps aside.
    alice.get_by_role("button", name=re.compile("^Security")).click()
    expect(prompt).to_be_hidden()
    security = alice.locator("#panel-security")
    expect(security.get_by_role("button", name="Admit Quiet Quentin")).to_be_visible()

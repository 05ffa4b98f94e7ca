"""axe-core (bundled by the axe-playwright-python package, installed by `make venv`) finds no
serious or critical violation on the feed, the pre-join (join) screen, the waiting screen and
the room itself; and keyboard focus lands on the call's heading after joining."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, People, shot
from tests.browser.test_lobby_prompt import knock
from tests.browser.test_room_ui import create_room
from tests.browser.test_story import in_room, join_signed_in, ready

AXE = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
# label-content-name-mismatch is one of axe's experimental rules: off unless asked for.
RUN = """async () => {
  const results = await axe.run(document, {
    resultTypes: ["violations"],
    rules: {"label-content-name-mismatch": {enabled: true}},
  });
  return {version: axe.version, violations: results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))}))};
}"""


def axe_violations(page: Page, name: str) -> list[dict[str, Any]]:
    """The serious and critical violations on the page as it is now (all of them are saved)."""
    page.evaluate(AXE)
    result = page.evaluate(RUN)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(result, indent=2))
    shot(page, f"90-axe-{name}")
    assert result["version"].startswith("4."), result["version"]
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_no_serious_axe_violations_on_feed_join_waiting_and_room(people: People) -> None:
    alice = people.page("alice")
    link = create_room(alice, title="Accessible room", waiting_room=True)
    # Bob invites Alice to a room: her header shows an unread notification, the case where the
    # Notifications summary's name and its visible text used to differ.
    bob = people.page("bob")
    alice_id = alice.evaluate("async () => (await (await fetch('/api/v1/me/')).json()).id")
    create_room(bob, title="Invitation", audience="invite_only", invitee_ids=[alice_id])
    bob.context.close()
    alice.goto("/")
    expect(alice.locator("[data-notifications-count]")).to_be_visible()
    expect(
        alice.get_by_role("heading", name="Live now")
        .or_(alice.get_by_role("heading", name="Coming up"))
        .first
    ).to_be_visible()
    # The Notifications summary is named by what it shows (label-content-name-mismatch).
    assert axe_violations(alice, "feed") == []

    alice.goto(link)
    ready(alice)
    expect(alice.locator("#screen-prejoin")).to_be_visible()
    assert axe_violations(alice, "join") == []

    join_signed_in(alice)
    in_room(alice)
    # After joining, keyboard focus is on the call's heading, not lost on <body>.
    expect(alice.locator("#call-heading")).to_be_focused()

    guest = knock(people, link, "Wendy Waiting")
    assert axe_violations(guest, "waiting") == []

    expect(alice.locator("#knock")).to_be_visible()
    assert axe_violations(alice, "room") == []

"""The browser's reducer (rooms/static/rooms/js/room/state.js) is rooms/events.apply_event, in
JavaScript.

Both run over the same random event streams (stale, next, gapped versions; people joining,
waiting, leaving; moderators' lobbies and plain rosters) and must agree at every step.
"""

from __future__ import annotations

import random
from typing import Any

from rooms.events import apply_event
from tests.browser.conftest import People

STATES = ["admitted", "lobby", "left", "removed", "denied"]


def _person(rng: random.Random, pid: int) -> dict[str, Any]:
    return {
        "id": pid,
        "display_name": f"P{pid}",
        "role": rng.choice(["host", "cohost", "participant"]),
        "state": rng.choice(STATES),
        "lobby_reason": "",
        "is_guest": rng.random() < 0.3,
        "user_id": None,
        "audio_muted": rng.random() < 0.5,
        "hand_raised": rng.random() < 0.2,
        "connected": True,
    }


def _room(rng: random.Random) -> dict[str, Any]:
    return {"token": "t", "title": f"Room {rng.randint(1, 9)}", "locked": rng.random() < 0.5}


def _stream(seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rng = random.Random(seed)
    snapshot: dict[str, Any] = {"version": rng.randint(1, 5), "room": _room(rng), "roster": []}
    if rng.random() < 0.5:
        snapshot["lobby"] = []
    events: list[dict[str, Any]] = []
    version = snapshot["version"]
    for _ in range(30):
        roll = rng.random()
        step = rng.choice([1, 1, 1, 1, 0, -1, 2])
        event: dict[str, Any] = {"type": "room.participant_updated", "version": version + step}
        if roll < 0.6:
            event["participant"] = _person(rng, rng.randint(1, 6))
            event["room"] = _room(rng)
        elif roll < 0.8:
            event = {"type": "room.version", "version": version + step}
        elif roll < 0.9:
            event = {"type": "room.locked", "version": version + step, "room": _room(rng)}
        else:
            event = {"type": "room.version", "version": "not-a-number"}
        events.append(event)
        if step == 1:
            version += 1
    return snapshot, events


def _python_run(snapshot: dict[str, Any], events: list[dict[str, Any]]) -> list[Any]:
    out: list[Any] = []
    current: Any = snapshot
    for event in events:
        result = apply_event(current, event)
        out.append(result)
        if result is not None:
            current = result
    return out


JS_RUN = """async ([snapshot, events]) => {
    const { applyEvent } = await import('/static/rooms/js/room/state.js');
    const out = [];
    let current = snapshot;
    for (const event of events) {
        const result = applyEvent(current, event);
        out.push(result);
        if (result !== null) current = result;
    }
    return out;
}"""


def test_reducer_matches_apply_event(people: People) -> None:
    page = people.page()
    page.goto("/accounts/login/")
    for seed in range(40):
        snapshot, events = _stream(seed)
        expected = _python_run(snapshot, events)
        actual = page.evaluate(JS_RUN, [snapshot, events])
        assert actual == expected, f"seed {seed}"

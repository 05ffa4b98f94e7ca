"""Side effects leave through rooms.outbox only, after the change commits."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import transaction

from rooms import outbox

ROOMS = Path(__file__).resolve().parents[2] / "rooms"


@pytest.mark.django_db(transaction=True)
def test_effects_wait_for_the_commit_and_keep_their_order() -> None:
    done: list[str] = []
    with transaction.atomic():
        outbox.after_commit("first", lambda: done.append("stop media"))
        outbox.after_commit("second", lambda: done.append("tell the room"))
        assert done == []
    assert done == ["stop media", "tell the room"]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_tells_nobody() -> None:
    done: list[str] = []
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.after_commit("event", lambda: done.append("event"))
        raise RuntimeError("the change fails")
    assert done == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_effect_is_logged_and_the_rest_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    done: list[str] = []

    def broken() -> None:
        raise ConnectionError("redis is down")

    with transaction.atomic():
        outbox.after_commit("sfu command", broken)
        outbox.after_commit("room event", lambda: done.append("room event"))
    assert done == ["room event"]
    assert "after-commit effect failed: sfu command" in caplog.text


def test_no_other_module_of_rooms_registers_on_commit_callbacks() -> None:
    """One way out: a side effect registered elsewhere would skip the outbox's rules."""
    offenders = []
    for path in ROOMS.rglob("*.py"):
        if path.name == "outbox.py" or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Attribute) and node.attr == "on_commit":
                offenders.append(f"{path.relative_to(ROOMS)}:{node.lineno}")
    assert offenders == []

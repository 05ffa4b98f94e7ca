"""The join decision as a table: every rule of DESIGN.md, in order, first match wins."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from rooms.policy import Decision, JoinFacts, Outcome, Reason, decide_join

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

# A friend of the host arriving at an open room with the host present: admitted.
BASE = JoinFacts(
    room_ended=False,
    is_moderator=False,
    banned=False,
    blocked=False,
    suspended=False,
    password_set=False,
    password_given=False,
    password_ok=False,
    password_attempts_exhausted=False,
    locked=False,
    admitted_count=3,
    capacity=50,
    moderator_present=True,
    audience_friends=True,
    is_friend=True,
    is_invited=False,
    waiting_room=True,
)

STRANGER = {"is_friend": False}
INVITE_ONLY = {"audience_friends": False, "is_friend": False}
FULL = {"admitted_count": 50}
JUST_LEFT = {"seat_released_at": NOW - timedelta(seconds=10)}
LEFT_LONG_AGO = {"seat_released_at": NOW - timedelta(seconds=16)}
GUEST = {"is_guest": True, "is_friend": False}
SIGNED_IN_ONLY = {"signed_in_only": True}
LOBBY_FULL = {"lobby_count": 50, "lobby_max": 50}

A, L, D = Outcome.ADMIT, Outcome.LOBBY, Outcome.DENY

TABLE: list[tuple[str, dict[str, object], Outcome, Reason]] = [
    # 1. ended beats everything, even the host
    ("ended", {"room_ended": True}, D, Reason.ENDED),
    ("ended, host", {"room_ended": True, "is_moderator": True}, D, Reason.ENDED),
    # 2. host / co-host: admitted whatever else holds
    (
        "host past every barrier",
        {
            "is_moderator": True,
            "locked": True,
            "password_set": True,
            **FULL,
            "moderator_present": False,
        },
        A,
        Reason.MODERATOR,
    ),
    # 3. bans
    ("banned", {"banned": True}, D, Reason.BANNED),
    ("banned beats block", {"banned": True, "blocked": True}, D, Reason.BANNED),
    # 4. blocks and suspension
    ("blocked with host", {"blocked": True}, D, Reason.BLOCKED),
    ("suspended", {"suspended": True}, D, Reason.SUSPENDED),
    ("suspended host", {"suspended": True, "is_moderator": True}, D, Reason.SUSPENDED),
    # 4b. only people signed in to the site: a guest is refused before any password is read
    ("guest, signed-in only", {**SIGNED_IN_ONLY, **GUEST}, D, Reason.SIGN_IN_REQUIRED),
    ("account, signed-in only", SIGNED_IN_ONLY, A, Reason.AUDIENCE),
    ("stranger's account, signed-in only", {**SIGNED_IN_ONLY, **STRANGER}, L, Reason.WAITING_ROOM),
    ("guest, room open to guests", GUEST, L, Reason.WAITING_ROOM),
    ("banned beats signed-in only", {**SIGNED_IN_ONLY, **GUEST, "banned": True}, D, Reason.BANNED),
    (
        "signed-in only beats the password",
        {**SIGNED_IN_ONLY, **GUEST, "password_set": True, "password_given": True},
        D,
        Reason.SIGN_IN_REQUIRED,
    ),
    (
        "signed-in only beats the waiting room being off",
        {**SIGNED_IN_ONLY, **GUEST, "waiting_room": False},
        D,
        Reason.SIGN_IN_REQUIRED,
    ),
    (
        "signed-in only beats the host being away",
        {**SIGNED_IN_ONLY, **GUEST, "moderator_present": False},
        D,
        Reason.SIGN_IN_REQUIRED,
    ),
    (
        "guest seated before signed-in only",
        {**SIGNED_IN_ONLY, **GUEST, **JUST_LEFT},
        A,
        Reason.RESUMING,
    ),
    (
        "guest seated before signed-in only, grace over",
        {**SIGNED_IN_ONLY, **GUEST, **LEFT_LONG_AGO},
        D,
        Reason.SIGN_IN_REQUIRED,
    ),
    # 5. password
    ("password missing", {"password_set": True}, D, Reason.PASSWORD_REQUIRED),
    (
        "password wrong",
        {"password_set": True, "password_given": True},
        D,
        Reason.WRONG_PASSWORD,
    ),
    (
        "password right",
        {"password_set": True, "password_given": True, "password_ok": True},
        A,
        Reason.AUDIENCE,
    ),
    (
        "not checked now (the limiter), even with the right password",
        {
            "password_set": True,
            "password_given": True,
            "password_ok": True,
            "password_attempts_exhausted": True,
        },
        D,
        Reason.TOO_MANY_ATTEMPTS,
    ),
    (
        "password wrong beats locked",
        {"password_set": True, "password_given": True, "locked": True},
        D,
        Reason.WRONG_PASSWORD,
    ),
    # 6. locked, except a seat resumed within the grace period
    ("locked", {"locked": True}, D, Reason.LOCKED),
    ("locked, resuming", {"locked": True, **JUST_LEFT}, A, Reason.RESUMING),
    ("locked, holding a seat", {"locked": True, "holds_seat": True}, A, Reason.RESUMING),
    ("locked, grace over", {"locked": True, **LEFT_LONG_AGO}, D, Reason.LOCKED),
    # 7. full, same exception
    ("full", FULL, D, Reason.FULL),
    ("over capacity after a change", {"admitted_count": 60}, D, Reason.FULL),
    ("full, resuming", {**FULL, **JUST_LEFT}, A, Reason.RESUMING),
    ("full, grace over", {**FULL, **LEFT_LONG_AGO}, D, Reason.FULL),
    ("locked beats full", {"locked": True, **FULL}, D, Reason.LOCKED),
    ("locked, the hosts gone", {"locked": True, "moderator_present": False}, D, Reason.HOST_AWAY),
    (
        "locked, the hosts gone, resuming",
        {"locked": True, "moderator_present": False, **JUST_LEFT},
        A,
        Reason.RESUMING,
    ),
    # 8. no host present: everybody waits (a resumed seat is kept)
    ("host absent, friend", {"moderator_present": False}, L, Reason.WAITING_FOR_HOST),
    (
        "host absent, stranger",
        {"moderator_present": False, **STRANGER},
        L,
        Reason.WAITING_FOR_HOST,
    ),
    (
        "host absent, invited",
        {"moderator_present": False, **INVITE_ONLY, "is_invited": True},
        L,
        Reason.WAITING_FOR_HOST,
    ),
    ("host absent, resuming", {"moderator_present": False, **JUST_LEFT}, A, Reason.RESUMING),
    # 8b. a scheduled room before its start: the lobby opens at the start time
    (
        "before the start, host absent",
        {"moderator_present": False, "before_start": True},
        L,
        Reason.NOT_STARTED,
    ),
    (
        "before the start, stranger",
        {"moderator_present": False, "before_start": True, **STRANGER},
        L,
        Reason.NOT_STARTED,
    ),
    (
        "before the start, the host comes early",
        {"is_moderator": True, "moderator_present": False, "before_start": True},
        A,
        Reason.MODERATOR,
    ),
    ("before the start, host already in", {"before_start": True}, A, Reason.AUDIENCE),
    (
        "before the start, resuming",
        {"moderator_present": False, "before_start": True, **JUST_LEFT},
        A,
        Reason.RESUMING,
    ),
    (
        "before the start, locked",
        {"moderator_present": False, "before_start": True, "locked": True},
        D,
        Reason.LOCKED,
    ),
    # 9. audience
    ("friend, friends audience", {}, A, Reason.AUDIENCE),
    ("invited, invite-only", {**INVITE_ONLY, "is_invited": True}, A, Reason.AUDIENCE),
    ("invited non-friend, friends audience", {**STRANGER, "is_invited": True}, A, Reason.AUDIENCE),
    # 10. anyone else holding the link
    ("stranger, waiting room on", STRANGER, L, Reason.WAITING_ROOM),
    ("stranger, waiting room off", {**STRANGER, "waiting_room": False}, A, Reason.NO_WAITING_ROOM),
    ("friend of host, invite-only room", {"audience_friends": False}, L, Reason.WAITING_ROOM),
    (
        "friend of host, invite-only, waiting room off",
        {"audience_friends": False, "waiting_room": False},
        A,
        Reason.NO_WAITING_ROOM,
    ),
    ("guest with the link", {**STRANGER}, L, Reason.WAITING_ROOM),
    ("resuming beats the waiting room", {**STRANGER, **JUST_LEFT}, A, Reason.RESUMING),
    # 8-10 with the lobby at its cap: newcomers who would wait are refused
    ("lobby full, stranger", {**STRANGER, **LOBBY_FULL}, D, Reason.LOBBY_FULL),
    ("lobby over its cap after a change", {**STRANGER, "lobby_count": 60}, D, Reason.LOBBY_FULL),
    ("lobby nearly full", {**STRANGER, "lobby_count": 49}, L, Reason.WAITING_ROOM),
    (
        "lobby full, host absent",
        {"moderator_present": False, **LOBBY_FULL},
        D,
        Reason.LOBBY_FULL,
    ),
    (
        "lobby full, before the start",
        {"moderator_present": False, "before_start": True, **LOBBY_FULL},
        D,
        Reason.LOBBY_FULL,
    ),
    (
        "lobby full, already waiting keeps the place",
        {**STRANGER, **LOBBY_FULL, "in_lobby": True},
        L,
        Reason.WAITING_ROOM,
    ),
    ("lobby full, a friend walks in", LOBBY_FULL, A, Reason.AUDIENCE),
    (
        "lobby full, waiting room off",
        {**STRANGER, **LOBBY_FULL, "waiting_room": False},
        A,
        Reason.NO_WAITING_ROOM,
    ),
    ("lobby full, resuming", {**STRANGER, **LOBBY_FULL, **JUST_LEFT}, A, Reason.RESUMING),
    ("lobby full, host", {**LOBBY_FULL, "is_moderator": True}, A, Reason.MODERATOR),
    ("locked beats lobby full", {**STRANGER, **LOBBY_FULL, "locked": True}, D, Reason.LOCKED),
]


@pytest.mark.parametrize(
    ("changes", "outcome", "reason"),
    [pytest.param(c, o, r, id=name) for name, c, o, r in TABLE],
)
def test_join_decision(changes: dict[str, object], outcome: Outcome, reason: Reason) -> None:
    facts = replace(BASE, **changes)  # type: ignore[arg-type]
    assert decide_join(facts, now=NOW) == Decision(outcome, reason)


def test_grace_boundary_is_inclusive() -> None:
    facts = replace(BASE, locked=True, seat_released_at=NOW - timedelta(seconds=15))
    assert decide_join(facts, now=NOW).outcome == Outcome.ADMIT

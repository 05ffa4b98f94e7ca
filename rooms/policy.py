"""The join decision: one pure function of the facts about a person and a room.

The rules and their order are DESIGN.md's "Join decision"; the first rule that matches wins.
The service gathers the facts (database, cache); this module only decides, so its whole
behaviour is a table (tests/rooms/test_policy.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class Outcome(enum.StrEnum):
    ADMIT = "admit"
    LOBBY = "lobby"
    DENY = "deny"


class Reason(enum.StrEnum):
    # admit
    MODERATOR = "moderator"
    AUDIENCE = "audience"
    NO_WAITING_ROOM = "no_waiting_room"
    RESUMING = "resuming"
    # lobby
    NOT_STARTED = "not_started"
    WAITING_FOR_HOST = "waiting_for_host"
    WAITING_ROOM = "waiting_room"
    # deny
    ENDED = "ended"
    BANNED = "banned"
    BLOCKED = "blocked"
    SUSPENDED = "suspended"
    SIGN_IN_REQUIRED = "sign_in_required"
    PASSWORD_REQUIRED = "password_required"
    WRONG_PASSWORD = "wrong_password"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    LOCKED = "locked"
    HOST_AWAY = "host_away"
    FULL = "full"
    LOBBY_FULL = "lobby_full"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reason: Reason


@dataclass(frozen=True, slots=True)
class JoinFacts:
    """Everything the decision depends on, gathered by the service."""

    room_ended: bool
    is_moderator: bool  # the host, or a co-host the host named
    banned: bool
    blocked: bool  # a block either way between this person and the host
    suspended: bool
    password_set: bool
    password_given: bool
    password_ok: bool
    password_attempts_exhausted: bool
    locked: bool
    admitted_count: int
    capacity: int
    moderator_present: bool
    audience_friends: bool
    is_friend: bool
    is_invited: bool
    waiting_room: bool
    # The person holds an admitted seat now, or held one that was released at this time.
    holds_seat: bool = False
    seat_released_at: datetime | None = None
    resume_grace: timedelta = timedelta(seconds=15)
    # A scheduled room whose start time has not come yet: its lobby opens at the start.
    before_start: bool = False
    # The host let in only people signed in to the site; `is_guest`: this person is not.
    signed_in_only: bool = False
    is_guest: bool = False
    # The lobby's cap: people waiting now, and how many may wait. Someone already waiting
    # (a reload, a second tab) keeps their place.
    lobby_count: int = 0
    lobby_max: int = 50
    in_lobby: bool = False


def _resuming(facts: JoinFacts, now: datetime) -> bool:
    if facts.holds_seat:
        return True
    released = facts.seat_released_at
    return released is not None and now - released <= facts.resume_grace


def _lobby(facts: JoinFacts, reason: Reason) -> Decision:
    # A crowd of throwaway guests must not bury the host in requests: past the cap, newcomers
    # are refused until someone is let in, refused or leaves.
    if not facts.in_lobby and facts.lobby_count >= facts.lobby_max:
        return Decision(Outcome.DENY, Reason.LOBBY_FULL)
    return Decision(Outcome.LOBBY, reason)


def decide_join(facts: JoinFacts, *, now: datetime) -> Decision:
    if facts.room_ended:
        return Decision(Outcome.DENY, Reason.ENDED)
    # A suspended account joins no room, its own included (the foundation issue: "a suspended
    # account can neither create nor join rooms"), so this comes before the host rule.
    if facts.suspended:
        return Decision(Outcome.DENY, Reason.SUSPENDED)
    if facts.is_moderator:
        return Decision(Outcome.ADMIT, Reason.MODERATOR)
    if facts.banned:
        return Decision(Outcome.DENY, Reason.BANNED)
    if facts.blocked:
        return Decision(Outcome.DENY, Reason.BLOCKED)
    resuming = _resuming(facts, now)
    # Before the password: a guest can't get in whatever they type, so nothing is checked. A
    # guest already seated when the host turned this on keeps the seat, as with the lock.
    if facts.signed_in_only and facts.is_guest and not resuming:
        return Decision(Outcome.DENY, Reason.SIGN_IN_REQUIRED)
    if facts.password_set:
        # The limiter would not let this password be checked now (rooms/ratelimit.py): refused
        # whatever it is, or the limit would not stop guessing.
        if facts.password_attempts_exhausted:
            return Decision(Outcome.DENY, Reason.TOO_MANY_ATTEMPTS)
        if not facts.password_given:
            return Decision(Outcome.DENY, Reason.PASSWORD_REQUIRED)
        if not facts.password_ok:
            return Decision(Outcome.DENY, Reason.WRONG_PASSWORD)
    if facts.locked and not resuming:
        # A started room locks itself when its hosts leave: say that the host is away (and
        # the person may try again later), not that someone locked them out.
        if not facts.moderator_present and not facts.before_start:
            return Decision(Outcome.DENY, Reason.HOST_AWAY)
        return Decision(Outcome.DENY, Reason.LOCKED)
    if facts.admitted_count >= facts.capacity and not resuming:
        return Decision(Outcome.DENY, Reason.FULL)
    # Someone who already had a seat keeps it even while no host is present: when the hosts
    # leave, the room locks but everyone admitted stays, and a dropped connection is not a leave.
    if resuming:
        return Decision(Outcome.ADMIT, Reason.RESUMING)
    if not facts.moderator_present:
        # Before the start nobody is kept waiting "for the host": the room is simply not on yet.
        if facts.before_start:
            return _lobby(facts, Reason.NOT_STARTED)
        return _lobby(facts, Reason.WAITING_FOR_HOST)
    # An explicit invitation admits in either audience: the host asked for this person.
    if facts.is_invited or (facts.audience_friends and facts.is_friend):
        return Decision(Outcome.ADMIT, Reason.AUDIENCE)
    if facts.waiting_room:
        return _lobby(facts, Reason.WAITING_ROOM)
    return Decision(Outcome.ADMIT, Reason.NO_WAITING_ROOM)

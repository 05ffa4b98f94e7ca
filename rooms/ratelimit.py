"""Counting in the shared cache (Redis outside embedded mode): room password checks, and the
limits on log-ins, sign-ups and writes (`attempt`, `hourly`; below).

Room passwords: a password is checked only with a permit, and a permit is taken from three
counters; the README's "Room passwords" gives the design and its numbers:

- the person (account or guest id) and, for a guest, the address each have a count of wrong
  passwords on this room, held for ROOMS_PASSWORD_WINDOW_SECONDS after the last one. Past
  ROOMS_PASSWORD_ATTEMPTS (four times that for an address) each further check waits for the
  one before it and then for a back-off that doubles from 1 s up to
  ROOMS_PASSWORD_BACKOFF_MAX_SECONDS: a guesser is slowed down, nobody is locked out;
- the room takes at most ROOMS_PASSWORD_ROOM_GUESSES wrong passwords per
  ROOMS_PASSWORD_ROOM_WINDOW_SECONDS window from anyone, and as many again from people whose
  identity and address have none on record. This is the bound that holds whatever the number
  of addresses and identities a guesser brings; the second budget is what a newcomer with the
  right password still finds when an attacker has used up the first;
- someone who gave this room's current password before (`known`), and someone the host asked
  in (`vouched`: invited, or a friend in an all-friends room), uses no room budget.

Every count is taken with `cache.incr` *before* the check and given back when the password
was right, so concurrent checks each see their own count and no budget is ever overdrawn. A
person or address in back-off has one check at a time (`busy`, taken with `cache.add`). Times
come from `clock()` (tests and bench/passwords.py move it) and waits are stored as instants.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import ngettext

ADDRESS_FACTOR = 4  # an address may try this many times as many as one person before back-off
KNOWN_SECONDS = 12 * 3600  # how long someone who gave the right password stays known
BUSY_SECONDS = 30  # a check that never finished (its process died) stops blocking after this


def clock() -> float:
    return time.time()


@dataclass(frozen=True, slots=True)
class Source:
    """Someone a password check is counted against: a person or an address."""

    key: str  # e.g. "id:u12", "ip:203.0.113.9"
    free: int  # wrong passwords before back-off


@dataclass(frozen=True, slots=True)
class PasswordPermit:
    """The answer to "may this password be checked now?" and what asking took."""

    room_id: int
    sources: tuple[Source, ...] = ()
    known_key: str = ""
    retry_after: int = 0  # 0: check it; else seconds until it may be tried again
    counted: tuple[str, ...] = ()  # counters this check added to (given back if it is right)
    busy: tuple[str, ...] = ()  # one-at-a-time marks this check holds

    @property
    def allowed(self) -> bool:
        return self.retry_after == 0


def _key(room_id: int, *parts: str) -> str:
    return ":".join(("room-pw", str(room_id), *parts))


def _count_up(cache_key: str, timeout: int) -> int:
    cache.add(cache_key, 0, timeout=timeout)
    try:
        count = int(cache.incr(cache_key))
    except ValueError:
        # The key expired between add and incr: this check starts it again.
        cache.add(cache_key, 1, timeout=timeout)
        return 1
    # Redis INCR on a key that expired just before it makes one without a timeout; refresh it.
    cache.touch(cache_key, timeout)
    return count


def _count_down(cache_key: str) -> None:
    # ValueError: the key has expired, there is nothing left to give back.
    with contextlib.suppress(ValueError):
        cache.decr(cache_key)


def _waiting(cache_key: str, now: float) -> float:
    until = cache.get(cache_key)
    return float(until) - now if until is not None and float(until) > now else 0.0


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))


def _release(counted: list[str], busy: list[str]) -> None:
    for cache_key in counted:
        _count_down(cache_key)
    cache.delete_many(busy)


def password_check_permit(
    *, room_id: int, identity: str, address: str, fingerprint: str, vouched: bool = False
) -> PasswordPermit:
    """May `identity` (from `address`, "" for none) have a password checked against this room
    now? `vouched`: the host asked this person in (invited, or a friend in an all-friends room):
    like someone known, they use no room budget, so nobody else's guessing makes them wait.

    `fingerprint` names the room's current password, so being known ends when it changes. An
    allowed permit MUST be handed to `password_check_done` once the password was checked.
    """
    now = clock()
    window = settings.ROOMS_PASSWORD_WINDOW_SECONDS
    free = settings.ROOMS_PASSWORD_ATTEMPTS
    sources = [Source(f"id:{identity}", free)]
    if address:
        sources.append(Source(f"ip:{address}", free * ADDRESS_FACTOR))
    counted: list[str] = []
    busy: list[str] = []

    def refuse(wait: float) -> PasswordPermit:
        _release(counted, busy)
        return PasswordPermit(room_id=room_id, retry_after=_seconds(wait))

    clean = True
    for source in sources:
        wait_key = _key(room_id, "wait", source.key)
        wait = _waiting(wait_key, now)
        if wait:
            return refuse(wait)
        fails = _count_up(_key(room_id, "fails", source.key), window)
        counted.append(_key(room_id, "fails", source.key))
        clean = clean and fails == 1
        if fails > source.free:
            busy_key = _key(room_id, "busy", source.key)
            if not cache.add(busy_key, 1, timeout=BUSY_SECONDS):
                return refuse(1)  # its previous check is still running
            busy.append(busy_key)
            # Read again now that this check holds the mark: a check that just failed sets its
            # back-off before it lets go of the mark, so none slips in between.
            wait = _waiting(wait_key, now)
            if wait:
                return refuse(wait)

    known_key = _key(room_id, "known", fingerprint, identity)
    if not vouched and cache.get(known_key) is None:
        length = settings.ROOMS_PASSWORD_ROOM_WINDOW_SECONDS
        index = int(now // length)
        window_left = (index + 1) * length - now
        budgets = ["any"] + (["clean"] if clean else [])
        for budget in budgets:
            budget_key = _key(room_id, budget, str(index))
            if _count_up(budget_key, length + 1) <= settings.ROOMS_PASSWORD_ROOM_GUESSES:
                counted.append(budget_key)
                break
            _count_down(budget_key)
        else:
            return refuse(window_left)
    return PasswordPermit(
        room_id=room_id,
        sources=tuple(sources),
        known_key=known_key,
        counted=tuple(counted),
        busy=tuple(busy),
    )


def password_check_done(permit: PasswordPermit, *, right: bool) -> None:
    """Settle a permit: a right password gives back what it took; a wrong one stays counted
    and starts its back-off."""
    if not permit.allowed:
        return
    if right:
        _release(list(permit.counted), list(permit.busy))
        cache.set(permit.known_key, 1, timeout=KNOWN_SECONDS)
        return
    now = clock()
    window = settings.ROOMS_PASSWORD_WINDOW_SECONDS
    for source in permit.sources:
        fails_key = _key(permit.room_id, "fails", source.key)
        # Held for the window after the *last* wrong password, not the first.
        cache.touch(fails_key, window)
        fails = int(cache.get(fails_key) or 0)
        if fails >= source.free:
            backoff = min(2 ** (fails - source.free), settings.ROOMS_PASSWORD_BACKOFF_MAX_SECONDS)
            cache.set(_key(permit.room_id, "wait", source.key), now + backoff, timeout=backoff + 1)
    cache.delete_many(list(permit.busy))


# --- Counted actions: log-ins, sign-ups and writes ---------------------------------------------
#
# Fixed windows aligned to the clock (window n covers [n*w, (n+1)*w)), so the time until a
# refused caller may try again is known without asking the cache for a key's age. An attempt is
# counted with `cache.incr` before anything is decided: concurrent attempts each see their own
# count, and no more than `limit` of them ever pass in one window.


@dataclass(frozen=True, slots=True)
class Limit:
    key: str  # what is counted, e.g. "login:account:<hash>"; the window is added to it
    limit: int  # at most this many per window
    window: int  # seconds


@dataclass(frozen=True, slots=True)
class Attempt:
    retry_after: int  # 0 when the attempt was allowed; else seconds until it may be tried again
    counted: tuple[str, ...] = ()  # the cache keys it was added to, for `give_back`

    @property
    def allowed(self) -> bool:
        return self.retry_after == 0


def _slot(limit: Limit, now: float) -> tuple[str, int]:
    index = int(now // limit.window)
    return f"limit:{limit.key}:{limit.window}:{index}", math.ceil((index + 1) * limit.window - now)


def _incr(cache_key: str, amount: int, timeout: int) -> int:
    cache.add(cache_key, 0, timeout=timeout)
    try:
        return int(cache.incr(cache_key, amount))
    except ValueError:
        # The key expired between add and incr: this attempt starts it again.
        cache.add(cache_key, amount, timeout=timeout)
        return amount


def attempt(limits: Sequence[Limit], *, cost: int = 1, now: float | None = None) -> Attempt:
    """Count one attempt (of `cost` units) against every limit, or refuse it.

    A refused attempt is taken back from every counter, so what one limit refuses does not use
    up another's budget (an attack on one account leaves the address's budget to its neighbours).
    """
    now = time.time() if now is None else now
    slots = [(limit, *_slot(limit, now)) for limit in limits]
    counts = cache.get_many([cache_key for _, cache_key, _ in slots])
    # Already full: answer without touching the counters (a caller hammering a full limit).
    full = [wait for limit, key, wait in slots if int(counts.get(key, 0)) + cost > limit.limit]
    if full:
        return Attempt(retry_after=max(full))
    counted: list[str] = []
    over: list[int] = []
    for limit, cache_key, wait in slots:
        counted.append(cache_key)
        # The key names its window, so its expiry only clears it away: a whole window more,
        # never the rest of this one (seconds by the cache's clock, not necessarily `now`'s; the
        # hour-long attack tests run the limiter on a simulated clock, and a key that expired in
        # real time before its simulated window ended lost its count on a busy machine).
        if _incr(cache_key, cost, limit.window + 1) > limit.limit:
            over.append(wait)
    if over:
        give_back(Attempt(retry_after=max(over), counted=tuple(counted)), cost=cost)
        return Attempt(retry_after=max(over))
    return Attempt(retry_after=0, counted=tuple(counted))


def give_back(taken: Attempt, *, cost: int = 1) -> None:
    """Take an attempt back (a log-in that succeeded: only failures count)."""
    for cache_key in taken.counted:
        # ValueError: its window has ended, nothing left to give back.
        with contextlib.suppress(ValueError):
            cache.decr(cache_key, cost)


def hourly(*, action: str, actor: str, per_hour: int, cost: int = 1) -> int:
    """Count a write by one actor (an account, a guest). Returns 0 when it may go ahead, else
    the seconds until the next hour's budget starts."""
    return attempt([Limit(f"{action}:{actor}", per_hour, 3600)], cost=cost).retry_after


def retry_phrase(seconds: int) -> str:
    """ "in 3 minutes", for refusals people read."""
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("in %(count)s minute", "in %(count)s minutes", minutes) % {"count": minutes}

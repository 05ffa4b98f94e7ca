"""Counting in the shared cache (Redis outside embedded mode): wrong room passwords, and the
limits on log-ins, sign-ups and writes (`attempt`, `hourly`; below).

Room passwords: the first failure starts a window of ROOMS_PASSWORD_WINDOW_SECONDS; once a key
has ROOMS_PASSWORD_ATTEMPTS failures in it, joins with that key are refused until it expires.
`cache.add` + `cache.incr` are single Redis commands, so concurrent attempts are all counted.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache


class AttemptKey(NamedTuple):
    name: str
    # This key's limit is ROOMS_PASSWORD_ATTEMPTS times this factor.
    factor: int


def _cache_key(room_id: int, key: str) -> str:
    return f"room-pw:{room_id}:{key}"


def password_attempts_exhausted(*, room_id: int, keys: Sequence[AttemptKey]) -> bool:
    limit = settings.ROOMS_PASSWORD_ATTEMPTS
    counts = cache.get_many([_cache_key(room_id, key.name) for key in keys])
    return any(
        int(counts.get(_cache_key(room_id, key.name), 0)) >= limit * key.factor for key in keys
    )


def password_attempt_failed(*, room_id: int, keys: Sequence[AttemptKey]) -> None:
    window = settings.ROOMS_PASSWORD_WINDOW_SECONDS
    for key in keys:
        cache_key = _cache_key(room_id, key.name)
        cache.add(cache_key, 0, timeout=window)
        try:
            cache.incr(cache_key)
        except ValueError:
            # The window expired between add and incr: this failure opens a new one.
            cache.add(cache_key, 1, timeout=window)


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
        # One second past the window's end, so the key never outlives its window by much.
        if _incr(cache_key, cost, wait + 1) > limit.limit:
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
    return "in a minute" if minutes == 1 else f"in {minutes} minutes"

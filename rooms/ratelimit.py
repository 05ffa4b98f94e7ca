"""Wrong-password counting for room joins, in the shared cache (Redis outside embedded mode).

Fixed windows: the first failure starts a window of ROOMS_PASSWORD_WINDOW_SECONDS; once a key
has ROOMS_PASSWORD_ATTEMPTS failures in it, joins with that key are refused until it expires.
`cache.add` + `cache.incr` are single Redis commands, so concurrent failures are all counted.
"""

from __future__ import annotations

from collections.abc import Sequence
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

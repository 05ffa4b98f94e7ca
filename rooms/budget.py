"""Budgets shared by every web process: counters in the cache (Redis outside embedded mode).

A budget is `limit` units per window. The window opens with the first unit spent and lasts
`window` seconds; when it ends the counter is gone and a new window opens with the next unit.
Spending is one atomic step, so concurrent spenders (other sockets, other processes) are all
counted.

With Django's Redis cache a spend is one round trip (a script: INCRBY, and the expiry when the
window opens). Any other cache backend works through the generic cache API (add + incr); the
embedded default, the local-memory cache, is in-process, so its extra steps cost no round trip.
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

# Returns the count after spending and the milliseconds left in the window.
_SPEND = """
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    left = tonumber(ARGV[2])
end
return {used, left}
"""
_script: Any = None


def spend(key: str, *, limit: int, window: int, amount: int = 1) -> float:
    """Spend `amount` from `key`'s budget. 0.0 when it is within the limit, else the seconds
    until the window ends (the spend is counted either way)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        used, left = _spend_redis(backend, key, amount, window)
    else:
        used, left = _spend_generic(key, amount, window, over=limit)
    return 0.0 if used <= limit else max(left, 0.001)


def retry_after(seconds: float) -> int:
    """Whole seconds for a Retry-After header or a client message (at least 1)."""
    return max(1, math.ceil(seconds))


def _spend_redis(backend: RedisCache, key: str, amount: int, window: int) -> tuple[int, float]:
    global _script
    full_key = backend.make_and_validate_key(key)
    # Django's Redis cache has no scripting call: its client comes from the backend's
    # connection holder (there since Django 4.0), with the cache's own pools and key prefix.
    client = backend._cache.get_client(full_key, write=True)
    if _script is None:
        _script = client.register_script(_SPEND)
    used, left_ms = _script(keys=[full_key], args=[amount, window * 1000], client=client)
    return int(used), int(left_ms) / 1000


def _spend_generic(key: str, amount: int, window: int, *, over: int) -> tuple[int, float]:
    ends_key = f"{key}:ends"
    now = time.time()
    if cache.add(key, 0, timeout=window):
        cache.set(ends_key, now + window, timeout=window)
    try:
        used = int(cache.incr(key, amount))
    except ValueError:
        # The window ended between add and incr: this spend opens the next one.
        cache.set(key, amount, timeout=window)
        cache.set(ends_key, now + window, timeout=window)
        used = amount
    if used <= over:
        return used, float(window)
    ends = cache.get(ends_key)
    return used, (float(ends) - now if isinstance(ends, int | float) else float(window))

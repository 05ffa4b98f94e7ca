"""Outages of the services Rooms stands on: PostgreSQL and Redis.

While one of them is down (or a process's connection pool has no connection to give within its
wait), a request cannot be served, but it is not the client's fault and not a bug: the client
is told to try again after RETRY_AFTER_SECONDS (HTTP 503 with `Retry-After`, the socket's
`unavailable` error), and the process recovers by itself when the service is back.
"""

from __future__ import annotations

import kombu.exceptions
import psycopg
import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy

RETRY_AFTER_SECONDS = 5
MESSAGE = gettext_lazy("The service is briefly unavailable. Try again in a few seconds.")

# Django's wrappers are what ORM code raises (a pool that gave no connection in time raises
# psycopg_pool.PoolTimeout, a psycopg.OperationalError, which Django wraps); psycopg's own are
# for code that uses a connection directly; kombu's is what enqueuing a Celery task raises when
# the broker (Redis) does not answer.
_OUTAGES: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)


def is_outage(error: BaseException) -> bool:
    """True when `error`, or an error it was raised from or while handling, says a service is
    unreachable. (Django's session middleware, for one, turns a failed save into
    SessionInterrupted, raised while handling the database's error.)"""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        if isinstance(current, _OUTAGES):
            return True
        seen.add(id(current))
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False

"""Telling the notifications side that a room has news, after the change commits.

Notifications belong to the feed app, which depends on rooms (DESIGN.md, apps table), so rooms
does not import it: the task that hears the news is named by `settings.ROOMS_ANNOUNCE_TASK`,
the way Django names pluggable backends. The task takes the room id and works out for itself
what is due (it is idempotent); the periodic sweep runs the same work, so news lost here
(a broker hiccup, a crash between commit and enqueue) is still delivered, once.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

# Audit kinds that may make notifications due: a room went live, people were invited.
ANNOUNCE_KINDS = frozenset({"room.opened", "invitations.added"})


def _enqueue(room_id: int) -> None:
    try:
        import_string(settings.ROOMS_ANNOUNCE_TASK).delay(room_id)
    except Exception:
        # The sweep will deliver it; a failed enqueue must not fail the request that committed.
        log.exception("could not enqueue the announcement of room %s", room_id)


def after_commit(room_id: int) -> None:
    """MUST be called inside the transaction that made the news."""
    transaction.on_commit(lambda: _enqueue(room_id))

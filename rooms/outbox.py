"""Every side effect of a change goes out here, once the change has committed.

Room events to live clients (rooms.events), live feed cards (rooms.cards), announcements to
the site's notifications (rooms.announce) and commands to the SFU workers (rooms.media_control)
all wait for the transaction that made the change: nobody hears of something the database may
still roll back. They run in the order they were asked for (a removal stops the person's media
before anyone is told), and each is best effort: the database holds the truth, clients that
miss an event resync on the version gap, the sweep delivers a lost announcement, and one that
fails is logged without failing the request that committed, or the effects after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

log = logging.getLogger(__name__)


def after_commit(what: str, effect: Callable[[], None]) -> None:
    """Run `effect` once the current transaction commits (at once outside one; never if it
    rolls back). MUST be called inside the transaction that made the change. `what` names the
    effect in the log should it fail."""

    def run() -> None:
        try:
            effect()
        except Exception:
            log.exception("after-commit effect failed: %s", what)

    transaction.on_commit(run)

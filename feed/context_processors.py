"""The notifications in the page header (templates/base.html), for signed-in people."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import User
from feed import selectors
from feed.notifications import notification_public

HEADER_LIMIT = 10


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}

    # Lazy: pages that do not show the header (or error pages) do not pay for the queries.
    def items() -> list[Any]:
        return [
            notification_public(n)
            for n in selectors.notifications_for(user=user, limit=HEADER_LIMIT)
        ]

    return {
        "notifications_unread": lambda: selectors.unread_count(user=user),
        "notifications": items,
    }

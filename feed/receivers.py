"""Rooms' notifications hook (rooms/signals.py) made into this site's notifications.

Rooms sends each signal once per (room, person, kind, occurrence), inside the transaction that
records it as told; the rows made here commit with that record (rooms/signals.py says why).
Connected in FeedConfig.ready().
"""

from __future__ import annotations

from typing import Any

from feed import services
from rooms import signals
from rooms.models import Room


def notify(
    sender: type[Room],
    *,
    room: Room,
    recipients: list[Any],
    kind: str,
    occurrence: str,
    **kwargs: Any,
) -> None:
    services.notifications_create(
        room=room, recipients=recipients, kind=kind, occurrence=occurrence
    )


def connect() -> None:
    signals.room_invitation.connect(notify, sender=Room, dispatch_uid="feed.notify.invitation")
    signals.room_live.connect(notify, sender=Room, dispatch_uid="feed.notify.live")
    signals.room_reminder.connect(notify, sender=Room, dispatch_uid="feed.notify.reminder")

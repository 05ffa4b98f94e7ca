"""Rooms' news (rooms.signals) become this site's own notices."""

from __future__ import annotations

from typing import Any

from people.models import Notice


def notify(sender: Any, *, room: Any, recipients: list[Any], kind: str, **kwargs: Any) -> None:
    Notice.objects.bulk_create(
        Notice(member=member, kind=kind, room_token=room.token, room_title=room.title)
        for member in recipients
    )

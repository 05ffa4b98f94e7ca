"""The feed socket: live room cards and notifications for the signed-in viewer.

Rooms tell every feed that may show a room that it changed (`rooms.cards`); this socket then
reads the card for its own viewer with the feed's selector and serializer, so a live card is
exactly what `GET /api/feed/` would show, and visibility is checked again for this viewer.
Notifications arrive already built for their recipient (feed.services, after commit) and are
relayed as `{"type": "notification", "notification": {...}, "unread_count": n}`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone

from accounts.models import User
from feed.api import RoomCardOutput
from rooms import events, publisher
from rooms.selectors import feed_room_card
from rooms.sockets import ResilientSocket


def _card(user: User, room_id: int) -> dict[str, Any] | None:
    room = feed_room_card(user=user, room_id=room_id, now=timezone.now())
    return None if room is None else dict(RoomCardOutput(room).data)


class FeedConsumer(ResilientSocket):
    user: User | None = None

    async def connect(self) -> None:
        publisher.serving_loop_is(asyncio.get_running_loop())
        user = self.scope.get("user")
        if not isinstance(user, User) or not user.is_authenticated:
            await self.close(code=4003)
            return
        self.user = user
        await self.join_group(events.feed_group(user.pk))
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.user is not None:
            await self.leave_group(events.feed_group(self.user.pk))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Nothing to say on this socket; reading the feed is GET /api/feed/.
        await self._send(
            {"type": "error", "code": "read_only", "message": "This feed is read-only."}
        )

    async def feed_room_changed(self, message: dict[str, Any]) -> None:
        if self.user is None:
            return
        card = await database_sync_to_async(_card)(self.user, message["room_id"])
        if card is None:
            await self._send({"type": "feed.room_removed", "token": message["token"]})
        else:
            await self._send({"type": "feed.room", "room": card})

    async def feed_notification(self, message: dict[str, Any]) -> None:
        # Built for this recipient by feed.services after commit; relayed as it is.
        await self._send(
            {
                "type": "notification",
                "notification": message["notification"],
                "unread_count": message["unread_count"],
            }
        )

    async def feed_notifications_read(self, message: dict[str, Any]) -> None:
        await self._send({"type": "notifications.read", "unread_count": message["unread_count"]})

    async def _send(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, separators=(",", ":")))

"""The feed socket (`ws/feed/` in rooms.routing): live room cards for the signed-in viewer, and
whatever the host site pushes to that person's open pages (`push`).

Who is on it: the browser's session, an API client's socket ticket (`?auth=`, from
`POST api/sockets/ticket/`) or its `Authorization: Token` header (`rooms.socket_auth`);
anyone else is refused with close code 4003.

Rooms tell every feed that may show a room that it changed (`rooms.cards`); this socket then
reads the card for its own viewer with `rooms.selectors.feed_room_card`, so a live card is
exactly what GET rooms/feed/ shows and visibility is checked again for this viewer:
`{"type": "feed.room", "room": {...card...}}`, or `{"type": "feed.room_removed", "token": ...}`
when the room no longer appears in this person's feed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rooms import events, frames, i18n, publisher, socket_auth
from rooms.selectors import feed_room_card
from rooms.serializers import RoomCardSerializer
from rooms.sockets import ResilientSocket
from rooms.users import User


def push(user_id: int, message: dict[str, Any]) -> None:
    """Send `message` (JSON-safe, with a "type") as it is to every feed socket `user_id` has
    open. Best effort (the channel layer is at-most-once); call it after commit
    (`transaction.on_commit`), never inside a transaction that may still roll back."""
    events.send_now(events.feed_group(user_id), {"type": "feed.push", "message": message})


def _card(user: User, room_id: int) -> dict[str, Any] | None:
    room = feed_room_card(user=user, room_id=room_id, now=timezone.now())
    return None if room is None else dict(RoomCardSerializer(room).data)


class FeedConsumer(ResilientSocket):
    user: User | None = None

    async def connect(self) -> None:
        publisher.serving_loop_is(asyncio.get_running_loop())
        user = await socket_auth.socket_user(self.scope)
        if user is None:
            await self.close(code=4003)
            return
        self.user = user
        await self.join_group(events.feed_group(user.pk))
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.user is not None:
            await self.leave_group(events.feed_group(self.user.pk))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Nothing to say on this socket; reading the rooms is GET rooms/feed/. Said in the
        # person's language (rooms/i18n.py).
        language = await database_sync_to_async(i18n.language_for_scope)(self.scope)
        with translation.override(language):
            message = _("This feed is read-only.")
        await self._send({"type": "error", "code": "read_only", "message": message})

    async def feed_room_changed(self, message: dict[str, Any]) -> None:
        if self.user is None:
            return
        card = await database_sync_to_async(_card)(self.user, message["room_id"])
        if card is None:
            await self._send({"type": "feed.room_removed", "token": message["token"]})
        else:
            await self._send({"type": "feed.room", "room": card})

    async def feed_push(self, message: dict[str, Any]) -> None:
        # Built for this person by the host site (`push`); relayed as it is.
        await self._send(message["message"])

    async def _send(self, content: frames.FeedFrame | dict[str, Any]) -> None:
        # A dict: the host site's own frame (`push`), declared with
        # `rooms.frames.register_push_frame`.
        await self.send(text_data=json.dumps(content, separators=(",", ":")))

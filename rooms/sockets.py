"""What every Rooms socket shares: its channel-layer side survives the layer's outages.

Channels ends a consumer whose `channel_layer.receive` raises, and the browser sees its socket
closed with 1011: after a Redis restart every socket of every room closed at once. Here a
failed receive is retried with a back-off instead, a probe sent to the socket's own channel
tells when the way in works again, and the socket then gets `socket.layer_back`: it joins its
groups again (Redis may have lost them) and brings its client up to date, because events may
have been lost meanwhile. The web process's lease (`rooms.lease`) sends the same message to
every socket when it finds that Redis lost its data without any receive failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import Any

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch

log = logging.getLogger(__name__)

LAYER_BACK = "socket.layer_back"
_PROBE = "socket.layer_probe"
RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 2.0
CATCH_UP_ONCE_SECONDS = 5.0

# The sockets open in this process, for the lease to reach after Redis lost its data.
live_sockets: weakref.WeakSet[ResilientSocket] = weakref.WeakSet()


class ResilientSocket(AsyncWebsocketConsumer):
    """Use `join_group` / `leave_group` (not the layer's own calls) so the groups can be
    joined again, and implement `on_layer_back`."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # AsyncConsumer.__call__, with the channel layer's receive made to survive outages.
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.joined_groups: set[str] = set()
        self._held: dict[str, Any] | None = None
        self._caught_up_at = -CATCH_UP_ONCE_SECONDS
        self.base_send = send
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = self._receive_from_layer
            sources.append(self.channel_receive)
        live_sockets.add(self)
        try:
            await await_many_dispatch(sources, self.dispatch)
        except StopConsumer:
            pass
        finally:
            live_sockets.discard(self)

    async def _receive_from_layer(self) -> dict[str, Any]:
        if self._held is not None:
            held, self._held = self._held, None
            return held
        failing = False
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                message: dict[str, Any] = await self.channel_layer.receive(self.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not failing:
                    log.warning("socket lost the channel layer (%r); retrying", error)
                failing = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                with contextlib.suppress(Exception):  # still down: the next receive says so
                    await self.channel_layer.send(self.channel_name, {"type": _PROBE})
                continue
            if not failing:
                return message
            if message.get("type") != _PROBE:
                self._held = message  # delivered right after the catch-up
            return {"type": LAYER_BACK}

    async def socket_layer_probe(self, message: dict[str, Any]) -> None:
        """A probe that arrived after the receive had already recovered: nothing to do."""

    async def socket_layer_back(self, message: dict[str, Any]) -> None:
        try:
            for group in sorted(self.joined_groups):
                await self.channel_layer.group_add(group, self.channel_name)
        except Exception as error:
            # Down again: this socket's own receive fails next and brings it back here.
            log.warning("socket could not rejoin its groups yet: %r", error)
            return
        # The socket's own receive and the process's lease often both notice one outage:
        # the client is caught up once.
        now = time.monotonic()
        if now - self._caught_up_at > CATCH_UP_ONCE_SECONDS:
            self._caught_up_at = now
            await self.on_layer_back()

    async def on_layer_back(self) -> None:
        """The channel layer works again after an outage: catch the client up."""

    async def join_group(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined_groups.add(group)

    async def leave_group(self, group: str) -> None:
        self.joined_groups.discard(group)
        await self.channel_layer.group_discard(group, self.channel_name)

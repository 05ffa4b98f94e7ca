"""``Sfu``: the rooms hosted by one worker process.

    sfu = Sfu(SfuConfig(ice_addresses=("127.0.0.1",)), sink=events.append)
    room = sfu.room("room-1")          # created on first use
    ...
    await sfu.close_room("room-1")
    await sfu.close()

Creating an ``Sfu`` installs ``config.ice_addresses`` as the process's ICE host addresses (see
``rooms.sfu.ice``). Run the worker on uvloop: the receive path costs about three times less
than on the stock loop.
"""

from __future__ import annotations

from ._fastpath import lib as _fast
from .config import SfuConfig
from .errors import RoomClosed
from .ice import use_host_addresses
from .reports import EventSink
from .room import SfuRoom
from .totals import Totals


class Sfu:
    def __init__(self, config: SfuConfig, sink: EventSink) -> None:
        self.config = config
        _fast.fwd_set_gso(1 if config.udp_gso else 0)
        self._sink = sink
        self._rooms: dict[str, SfuRoom] = {}
        self._closed = False
        self.retired = Totals()  # the rooms that closed
        self._closing: set[SfuRoom] = set()
        if config.ice_addresses:
            use_host_addresses(config.ice_addresses)

    def room(self, room_id: str) -> SfuRoom:
        if self._closed:
            raise RoomClosed("the SFU is closed")
        room = self._rooms.get(room_id)
        if room is None:
            room = self._rooms[room_id] = SfuRoom(room_id, self.config, self._sink)
        return room

    @property
    def rooms(self) -> dict[str, SfuRoom]:
        return dict(self._rooms)

    def load(self) -> int:
        """Number of connected peers, what placement compares between workers."""
        return sum(len(r.peers) for r in self._rooms.values())

    def totals(self) -> Totals:
        """What this SFU forwarded and received since it started (never falls)."""
        result = Totals()
        result.add(self.retired)
        for room in (*self._rooms.values(), *self._closing):
            result.add(room.totals())
        return result

    async def _close(self, room: SfuRoom) -> None:
        # Still counted while it closes, so the totals never dip.
        self._closing.add(room)
        try:
            await room.close()
        finally:
            self._closing.discard(room)
            self.retired.add(room.totals())

    async def close_room(self, room_id: str) -> None:
        room = self._rooms.pop(room_id, None)
        if room is not None:
            await self._close(room)

    async def close_all(self) -> dict[str, list[str]]:
        """Close every room; returns the participants each held. The rooms are taken out
        at once, so an offer that arrives meanwhile starts a new room instead of joining one
        that is closing."""
        rooms, self._rooms = self._rooms, {}
        self._closing.update(rooms.values())
        held = {room_id: list(room.peers) for room_id, room in rooms.items()}
        for room in rooms.values():
            await self._close(room)
        return held

    async def close(self) -> None:
        self._closed = True
        for room_id in list(self._rooms):
            await self.close_room(room_id)

"""The control plane's side of the media contract (`rooms.sfu.protocol`).

Signaling never talks to a worker object, only to its channel on the channel layer, so the
worker may run inside the web process (embedded mode) or on another machine. Rooms are placed
on workers by `rooms.sfu.placement` (Redis when ROOMS_REDIS_URL is set, memory otherwise).
"""

from __future__ import annotations

import asyncio
import functools
import logging

from channels.layers import get_channel_layer
from django.conf import settings

from rooms import outbox, publisher
from rooms.sfu import placement as places
from rooms.sfu.protocol import Command

log = logging.getLogger(__name__)


@functools.cache
def placement() -> places.Placement:
    dead_after = float(settings.ROOMS_SFU_DEAD_AFTER_SECONDS)
    if settings.ROOMS_REDIS_URL:
        return places.RedisPlacement(settings.ROOMS_REDIS_URL, dead_after=dead_after)
    return places.MemoryPlacement(dead_after=dead_after)


async def send_command(room_id: int, command: Command) -> bool:
    """Send to the room's worker now, placing the room on a first offer. False when no
    worker is alive to take it."""
    layer = get_channel_layer()
    if layer is None:
        return False
    if command["type"] == "sfu.offer":
        if settings.ROOMS_SFU_EMBEDDED:
            from rooms import embedded_sfu

            await embedded_sfu.ensure_worker()
        worker = await asyncio.to_thread(places.place, placement(), room_id)
    else:
        worker = await asyncio.to_thread(places.pinned_worker, placement(), room_id)
    if worker is None:
        return False
    await layer.send(worker.channel, dict(command))
    return True


def _after_commit(room_id: int, command: Command) -> None:
    def deliver() -> None:
        try:
            worker = places.pinned_worker(placement(), room_id)
            if worker is None:
                return  # no media for this room: nothing to stop
            publisher.send(worker.channel, dict(command))
        except Exception:
            log.exception("could not reach the media worker of room %s", room_id)

    outbox.after_commit("sfu command", deliver)


def remove_peer(room_id: int, participant_id: int) -> None:
    _after_commit(
        room_id, {"type": "sfu.remove", "room_id": room_id, "participant_id": participant_id}
    )


def set_muted(room_id: int, participant_id: int, *, muted: bool) -> None:
    _after_commit(
        room_id,
        {"type": "sfu.mute", "room_id": room_id, "participant_id": participant_id, "muted": muted},
    )


def set_camera_off(room_id: int, participant_id: int, *, off: bool) -> None:
    _after_commit(
        room_id,
        {"type": "sfu.camera", "room_id": room_id, "participant_id": participant_id, "off": off},
    )


def set_screen_allowed(room_id: int, participant_id: int, *, allowed: bool) -> None:
    _after_commit(
        room_id,
        {
            "type": "sfu.screen",
            "room_id": room_id,
            "participant_id": participant_id,
            "allowed": allowed,
        },
    )


def close_room(room_id: int) -> None:
    _after_commit(room_id, {"type": "sfu.close_room", "room_id": room_id})

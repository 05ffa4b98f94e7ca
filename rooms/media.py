"""The control plane's side of the media contract: messages to and from SFU workers.

Signaling never talks to a worker object, only to its channel on the channel layer, so the
worker may run inside the web process (embedded mode) or on another machine. A room is pinned
to one worker; the pin lives in the shared cache (`worker_for` / `pin_room`).

Control plane -> worker (`channel_layer.send(worker_channel, message)`):
    sfu.offer    {room_id, participant_id, sdp, screen_mids, can_share_screen, muted}
                 a client's offer, first or renegotiation; the worker answers. The client
                 always offers: aiortc renumbers payload types in offers it makes itself.
    sfu.ice      {room_id, participant_id, candidate, sdp_mid, sdp_mline_index}
    sfu.mute     {room_id, participant_id, muted} stop / resume forwarding their audio
    sfu.screen   {room_id, participant_id, allowed}
    sfu.remove   {room_id, participant_id}        close the peer, stop all their media
    sfu.close_room {room_id}

Worker -> one participant's sockets (group `participant.<id>`):
    media.answer {sdp}
    media.renegotiate {audio_slots, video_slots}  offer again with this many receive slots
    media.state {state}                           connecting / connected / failed / closed
    media.error {code, message}
Worker -> everyone in the room (group `room.<id>`):
    media.speakers {participant_ids}
"""

from __future__ import annotations

import logging
from typing import Literal, TypedDict

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import transaction

from rooms import publisher

log = logging.getLogger(__name__)

PIN_TTL_SECONDS = 24 * 3600


class OfferCommand(TypedDict):
    type: Literal["sfu.offer"]
    room_id: int
    participant_id: int
    sdp: str
    screen_mids: list[str]
    can_share_screen: bool
    muted: bool


class IceCommand(TypedDict):
    type: Literal["sfu.ice"]
    room_id: int
    participant_id: int
    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None


class MuteCommand(TypedDict):
    type: Literal["sfu.mute"]
    room_id: int
    participant_id: int
    muted: bool


class ScreenCommand(TypedDict):
    type: Literal["sfu.screen"]
    room_id: int
    participant_id: int
    allowed: bool


class RemoveCommand(TypedDict):
    type: Literal["sfu.remove"]
    room_id: int
    participant_id: int


class CloseRoomCommand(TypedDict):
    type: Literal["sfu.close_room"]
    room_id: int


Command = OfferCommand | IceCommand | MuteCommand | ScreenCommand | RemoveCommand | CloseRoomCommand


def _pin_key(room_id: int) -> str:
    return f"sfu:room:{room_id}"


def worker_for(room_id: int) -> str | None:
    """The channel of the worker this room is pinned to, if any."""
    channel = cache.get(_pin_key(room_id))
    return channel if isinstance(channel, str) else None


def pin_room(room_id: int, channel: str) -> None:
    cache.set(_pin_key(room_id), channel, timeout=PIN_TTL_SECONDS)


def unpin_room(room_id: int) -> None:
    cache.delete(_pin_key(room_id))


async def send_command(room_id: int, command: Command) -> bool:
    """Send to the room's worker now. False when no worker holds the room."""
    channel = await sync_to_async(worker_for)(room_id)
    layer = get_channel_layer()
    if channel is None or layer is None:
        return False
    await layer.send(channel, dict(command))
    return True


def _after_commit(room_id: int, command: Command) -> None:
    def deliver() -> None:
        channel = worker_for(room_id)
        if channel is None:
            return  # no media yet for this room: nothing to stop
        try:
            publisher.send(channel, dict(command))
        except Exception:
            log.exception("could not reach media worker %s", channel)

    transaction.on_commit(deliver)


def remove_peer(room_id: int, participant_id: int) -> None:
    _after_commit(
        room_id, {"type": "sfu.remove", "room_id": room_id, "participant_id": participant_id}
    )


def set_muted(room_id: int, participant_id: int, *, muted: bool) -> None:
    _after_commit(
        room_id,
        {"type": "sfu.mute", "room_id": room_id, "participant_id": participant_id, "muted": muted},
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
    transaction.on_commit(lambda: unpin_room(room_id))

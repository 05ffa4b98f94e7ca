"""The messages between the control plane and SFU workers, over the channel layer.

Control plane -> worker (sent to the worker's channel):
    sfu.offer    {room_id, participant_id, sdp, screen_mids, can_share_screen, muted,
                 camera_off, max_screen_shares?, offer_id?}
                 a client's offer, first or renegotiation; the worker answers. The client
                 always offers: aiortc renumbers payload types in offers it makes itself.
                 offer_id (the client's, optional) comes back in the answer or the error.
                 A screen share while max_screen_shares (default 1) others are shown is
                 refused: media.error screen_share_busy.
    sfu.ice      {room_id, participant_id, candidate, sdp_mid, sdp_mline_index}
    sfu.mute     {room_id, participant_id, muted} stop / resume forwarding their audio
    sfu.camera   {room_id, participant_id, off}      stop / resume forwarding their camera
    sfu.screen   {room_id, participant_id, allowed}
    sfu.tiles    {room_id, participant_id, tiles: {mid: [width, height]}}  the size (device
                 pixels) the client shows its video slots at: the layer each slot gets
    sfu.remove   {room_id, participant_id}        close the peer, stop all their media
    sfu.close_room {room_id}
    sfu.drain    {}                               empty this worker, then exit
                 (`manage.py sfu_drain`; SIGTERM does the same)

Worker -> one participant's sockets (group `participant.<id>`):
    media.answer {sdp, offer_id?}
    media.renegotiate {audio_slots, video_slots}  offer again with this many receive slots
                 (also sent with the counts unchanged when a slot changed owner: the new
                 answer names the owner's MediaStream in its a=msid, for lip sync)
    media.slots {slots: {mid: {participant_id, kind} | None}}   what each receive slot carries
                 now, every slot of the connection each time: `kind` is "audio", "camera" or
                 "screen"; None means idle. For video it changes when the switch happens (at
                 the new source's keyframe); a share that stops empties its slot at once.
    media.state {state, reason}                   connecting / connected / failed / closed;
                 failed with reason "media_reset": the worker dropped this peer because
                 commands may have been lost (its channel layer failed): connect again
    media.stats {packets_in, packets_out, bytes_in, bytes_out, packets_dropped}
    media.error {code, message, offer_id?}
Worker -> everyone in the room (group `room.<id>`):
    media.speakers {participant_ids}
    media.state {state: "failed", reason: "worker_moved"}  the room moved to another worker:
                 everyone starts a new peer connection
    media.state {state: "moving", reason: "worker_draining"}  the room moved to another
                 worker that is ready: connect there, then close the old connection (the old
                 worker forwards until then)
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict


# The channel groups the workers send to; rooms.events names them from here too.
def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def participant_group(participant_id: int) -> str:
    return f"participant.{participant_id}"


class OfferCommand(TypedDict):
    type: Literal["sfu.offer"]
    room_id: int
    participant_id: int
    sdp: str
    screen_mids: list[str]
    can_share_screen: bool
    muted: bool
    camera_off: NotRequired[bool]
    max_screen_shares: NotRequired[int]
    offer_id: NotRequired[str]


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


class CameraCommand(TypedDict):
    type: Literal["sfu.camera"]
    room_id: int
    participant_id: int
    off: bool


class ScreenCommand(TypedDict):
    type: Literal["sfu.screen"]
    room_id: int
    participant_id: int
    allowed: bool


class TilesCommand(TypedDict):
    type: Literal["sfu.tiles"]
    room_id: int
    participant_id: int
    tiles: dict[str, list[int]]


class RemoveCommand(TypedDict):
    type: Literal["sfu.remove"]
    room_id: int
    participant_id: int


class CloseRoomCommand(TypedDict):
    type: Literal["sfu.close_room"]
    room_id: int


Command = (
    OfferCommand
    | IceCommand
    | MuteCommand
    | CameraCommand
    | ScreenCommand
    | TilesCommand
    | RemoveCommand
    | CloseRoomCommand
)

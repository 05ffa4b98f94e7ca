"""Media negotiation relayed between a socket and the room's SFU worker, over the channel layer.

The worker here is a fake that speaks the contract of rooms/media_control.py; the real one is
rooms/sfu. Commands from the control plane (mute, remove, end) reach it too.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from accounts.models import User
from rooms import events, media_control, services
from rooms.models import Room
from rooms.sfu import placement as places
from tests.rooms.socket_client import Socket, enter, guest, me

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("in_memory_channel_layer"),
]

OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


class FakeWorker:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.layer = get_channel_layer()

    async def receive(self, timeout: float = 2.0) -> dict[str, Any]:
        message: dict[str, Any] = await asyncio.wait_for(self.layer.receive(self.channel), timeout)
        return message

    async def nothing(self, timeout: float = 0.2) -> bool:
        try:
            await asyncio.wait_for(self.layer.receive(self.channel), timeout)
        except TimeoutError:
            return True
        return False

    async def to_participant(self, participant_id: int, message: dict[str, Any]) -> None:
        await self.layer.group_send(events.participant_group(participant_id), message)

    async def to_room(self, room_id: int, message: dict[str, Any]) -> None:
        await self.layer.group_send(events.room_group(room_id), message)


@pytest.fixture
def room(alice: User) -> Room:
    return services.room_create(host=alice, title="Friday chat", waiting_room=False)


@pytest.fixture(autouse=True)
def _no_embedded_worker(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_SFU_EMBEDDED = False


async def start_worker(room: Room) -> FakeWorker:
    """A fake worker that registered its heartbeat, as a real one does, holding `room` (as
    after the room's first offer)."""
    channel = await get_channel_layer().new_channel("sfu-test.")
    media_control.placement().heartbeat(places.WorkerInfo("fake", channel, 0, time.time()))
    assert places.place(media_control.placement(), room.pk) is not None
    return FakeWorker(channel)


async def host_in(room: Room, host: User) -> tuple[Socket, int]:
    socket, result = await enter(room, me(host))
    await socket.expect("snapshot")
    return socket, result.participant.pk


async def test_offer_answer_and_ice_are_relayed(alice: User, room: Room) -> None:
    worker = await start_worker(room)
    host, pid = await host_in(room, alice)
    await host.send({"type": "media.offer", "sdp": OFFER, "screen_mids": ["2"]})
    command = await worker.receive()
    assert command == {
        "type": "sfu.offer",
        "room_id": room.pk,
        "participant_id": pid,
        "sdp": OFFER,
        "screen_mids": ["2"],
        "can_share_screen": True,
        "muted": False,
        "camera_off": False,
        "max_screen_shares": 1,
    }
    await worker.to_participant(pid, {"type": "media.answer", "sdp": "answer-sdp"})
    assert (await host.expect("media.answer"))["sdp"] == "answer-sdp"
    candidate = "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"
    await host.send(
        {"type": "media.ice", "candidate": candidate, "sdp_mid": "0", "sdp_mline_index": 0}
    )
    ice = await worker.receive()
    assert (ice["type"], ice["participant_id"], ice["candidate"]) == ("sfu.ice", pid, candidate)
    await host.close()


async def test_worker_messages_reach_the_client(alice: User, room: Room) -> None:
    worker = await start_worker(room)
    host, pid = await host_in(room, alice)
    await worker.to_participant(
        pid, {"type": "media.renegotiate", "audio_slots": 3, "video_slots": 9}
    )
    assert (await host.expect("media.renegotiate"))["video_slots"] == 9
    await worker.to_participant(pid, {"type": "media.state", "state": "failed"})
    assert (await host.expect("media.state"))["state"] == "failed"
    await worker.to_participant(
        pid, {"type": "media.error", "code": "negotiation_failed", "message": "Bad offer."}
    )
    assert (await host.expect("error"))["code"] == "negotiation_failed"
    await worker.to_room(room.pk, {"type": "media.speakers", "participant_ids": [pid]})
    assert (await host.expect("room.speakers"))["participant_ids"] == [pid]
    await host.close()


async def test_screen_share_right_follows_the_room_setting(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    worker = await start_worker(room)
    host, _ = await host_in(room, alice)
    member, member_join = await enter(room, me(bob))
    await member.expect("snapshot")
    await host.send({"type": "room.screen_share", "participants_can_share_screen": False})
    screen = await worker.receive()
    assert screen == {
        "type": "sfu.screen",
        "room_id": room.pk,
        "participant_id": member_join.participant.pk,
        "allowed": False,
    }
    await member.send({"type": "media.offer", "sdp": OFFER})
    offer = await worker.receive()
    assert (offer["participant_id"], offer["can_share_screen"]) == (
        member_join.participant.pk,
        False,
    )
    assert offer["max_screen_shares"] == 1
    # The host allows several shares at once: the next offer says so to the worker.
    await database_sync_to_async(services.room_update)(
        room=room, actor=alice, several_screen_shares=True
    )
    await member.send({"type": "media.offer", "sdp": OFFER})
    offer = await worker.receive(timeout=10)
    assert offer["max_screen_shares"] == 50
    await member.close()
    await host.close()


async def test_camera_off_is_a_state_everyone_hears_and_the_worker_enforces(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    worker = await start_worker(room)
    host, _ = await host_in(room, alice)
    member, member_join = await enter(room, me(bob))
    await member.expect("snapshot")
    pid = member_join.participant.pk
    # Joining with the camera off: the client says so before its first offer.
    await member.send({"type": "camera.set", "off": True})
    assert await worker.receive() == {
        "type": "sfu.camera",
        "room_id": room.pk,
        "participant_id": pid,
        "off": True,
    }
    updated = await host.expect(
        "room.participant_updated", where=lambda m: m["participant"]["camera_off"]
    )
    assert updated["participant"]["id"] == pid
    await member.send({"type": "media.offer", "sdp": OFFER})
    offer = await worker.receive()
    assert (offer["type"], offer["camera_off"]) == ("sfu.offer", True)
    # Saying it again changes nothing and bothers nobody.
    await member.send({"type": "camera.set", "off": True})
    assert await worker.nothing()
    await member.send({"type": "camera.set", "off": False})
    assert (await worker.receive())["off"] is False
    await host.expect(
        "room.participant_updated", where=lambda m: m["participant"]["camera_off"] is False
    )
    await member.send({"type": "camera.set", "off": "yes"})
    assert (await member.expect("error"))["code"] == "invalid_message"
    await member.close()
    await host.close()


async def test_moderation_reaches_the_worker(alice: User, room: Room) -> None:
    worker = await start_worker(room)
    host, _ = await host_in(room, alice)
    visitor, visit = await enter(room, guest())
    await visitor.expect("snapshot")
    pid = visit.participant.pk
    await host.send({"type": "participant.mute", "participant_id": pid})
    assert await worker.receive() == {
        "type": "sfu.mute",
        "room_id": room.pk,
        "participant_id": pid,
        "muted": True,
    }
    await host.send({"type": "participant.remove", "participant_id": pid})
    remove = {"type": "sfu.remove", "room_id": room.pk, "participant_id": pid}
    assert await worker.receive() == remove  # from the service, after commit
    assert await worker.receive() == remove  # and again from the closing socket (late offers)
    await host.send({"type": "room.end"})
    assert await worker.receive() == {"type": "sfu.close_room", "room_id": room.pk}


async def test_dropped_socket_closes_its_peer(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    worker = await start_worker(room)
    host, _ = await host_in(room, alice)
    member, member_join = await enter(room, me(bob))
    await member.expect("snapshot")
    await member.close()
    command = await worker.receive()
    assert command == {
        "type": "sfu.remove",
        "room_id": room.pk,
        "participant_id": member_join.participant.pk,
    }
    await host.close()


async def test_lobby_members_get_no_media(alice: User, charlie: User) -> None:
    room = await database_sync_to_async(services.room_create)(host=alice, title="Waiting")
    worker = await start_worker(room)
    host, _ = await host_in(room, alice)
    waiting, _ = await enter(room, me(charlie))
    await waiting.expect("lobby.status")
    await waiting.send({"type": "media.offer", "sdp": OFFER})
    assert (await waiting.expect("error"))["code"] == "not_admitted"
    assert await worker.nothing()
    await waiting.close()
    await host.close()


async def test_without_a_worker_media_is_unavailable(alice: User, room: Room) -> None:
    host, _ = await host_in(room, alice)
    await host.send({"type": "media.offer", "sdp": OFFER})
    assert (await host.expect("error"))["code"] == "media_unavailable"
    await host.send({"type": "media.offer", "sdp": OFFER, "participant_id": 99})
    assert (await host.expect("error"))["code"] == "invalid_message"
    await host.close()


async def test_unknown_worker_messages_do_not_break_the_socket(alice: User, room: Room) -> None:
    worker = await start_worker(room)
    host, pid = await host_in(room, alice)
    await worker.to_participant(pid, {"type": "media.something_new", "x": 1})
    slots = {"3": {"participant_id": pid, "kind": "screen"}, "4": None}
    await worker.to_participant(pid, {"type": "media.slots", "slots": slots})
    assert (await host.expect("media.slots"))["slots"] == slots
    await host.send({"type": "ping"})
    await host.expect("pong")
    await host.close()


async def test_an_offer_id_travels_to_the_worker_and_back(alice: User, room: Room) -> None:
    worker = await start_worker(room)
    host, pid = await host_in(room, alice)
    await host.send({"type": "media.offer", "sdp": OFFER, "offer_id": "k3x-2"})
    command = await worker.receive()
    assert command["offer_id"] == "k3x-2"
    # A late answer to an earlier offer keeps its own id: the client tells them apart.
    await worker.to_participant(pid, {"type": "media.answer", "sdp": "old", "offer_id": "k3x-1"})
    assert (await host.expect("media.answer"))["offer_id"] == "k3x-1"
    await worker.to_participant(
        pid,
        {
            "type": "media.error",
            "code": "negotiation_failed",
            "message": "No.",
            "offer_id": "k3x-2",
        },
    )
    error = await host.expect("error")
    assert (error["code"], error["offer_id"]) == ("negotiation_failed", "k3x-2")
    for bad in ("", "x" * 65, "a b", 7):
        await host.send({"type": "media.offer", "sdp": OFFER, "offer_id": bad})
        assert (await host.expect("error"))["code"] == "invalid_message"
    await host.close()


async def test_media_unavailable_names_the_offer(alice: User, room: Room) -> None:
    host, _ = await host_in(room, alice)
    await host.send({"type": "media.offer", "sdp": OFFER, "offer_id": "a1"})
    error = await host.expect("error")
    assert (error["code"], error["offer_id"]) == ("media_unavailable", "a1")
    await host.close()


async def test_tile_sizes_are_checked_and_relayed(alice: User, room: Room) -> None:
    worker = await start_worker(room)
    host, pid = await host_in(room, alice)
    await host.send({"type": "media.tiles", "tiles": {"3": [320, 180], "4": [0, 0]}})
    assert await worker.receive() == {
        "type": "sfu.tiles",
        "room_id": room.pk,
        "participant_id": pid,
        "tiles": {"3": [320, 180], "4": [0, 0]},
    }
    for bad in (
        {"3": [320]},  # not a pair
        {"3": [320, -1]},  # negative
        {"3": [320, 9000]},  # larger than any screen
        {"3": [320.5, 180]},  # not whole pixels
        {"3": ["320", "180"]},  # strings
        {"": [1, 1]},  # no mid
        {str(n): [1, 1] for n in range(33)},  # more slots than anyone has
    ):
        await host.send({"type": "media.tiles", "tiles": bad})
        error = await host.expect("error")
        assert error["code"] == "invalid_message", bad
    assert await worker.nothing()
    await host.close()

"""The worker echoes the client's offer id in its answer and in its errors."""

from __future__ import annotations

from aiortc import RTCPeerConnection
from channels.layers import InMemoryChannelLayer

from rooms.sfu.ice import host_addresses
from rooms.sfu.placement import MemoryPlacement
from rooms.sfu.worker import Worker

from .conftest import LOOPBACK, make_config


def worker() -> Worker:
    return Worker(make_config(), InMemoryChannelLayer(), MemoryPlacement(), worker_id="t")


def posted(w: Worker, kind: str) -> tuple[str, dict[str, object]]:
    """The first message of this type the worker posted (state events come first)."""
    while True:
        group, message = w.outbox.get_nowait()
        if message["type"] == kind:
            return group, message


def offer_command(sdp: str, **extra: object) -> dict[str, object]:
    return {"type": "sfu.offer", "room_id": 1, "participant_id": 5, "sdp": sdp, **extra}


async def test_an_answer_and_an_error_name_the_offer_they_belong_to() -> None:
    w = worker()
    with host_addresses(LOOPBACK):
        pc = RTCPeerConnection()
        try:
            pc.addTransceiver("audio", direction="sendonly")
            await pc.setLocalDescription(await pc.createOffer())
            await w.handle(offer_command(pc.localDescription.sdp, offer_id="o-1"))
            group, answer = posted(w, "media.answer")
            assert (group, answer["type"], answer["offer_id"]) == (
                "participant.5",
                "media.answer",
                "o-1",
            )
            assert str(answer["sdp"]).startswith("v=0")

            await w.handle(offer_command("v=0\r\nnonsense", offer_id="o-2"))
            _, error = posted(w, "media.error")
            assert (error["type"], error["offer_id"]) == ("media.error", "o-2")

            await w.handle(offer_command("v=0\r\nnonsense"))  # no id: none echoed
            _, error = posted(w, "media.error")
            assert error["type"] == "media.error" and "offer_id" not in error
        finally:
            await pc.close()
            await w.sfu.close()


async def test_an_offer_with_more_receive_slots_than_a_room_can_fill_is_refused() -> None:
    w = worker()
    with host_addresses(LOOPBACK):
        pc = RTCPeerConnection()
        try:
            for _ in range(40):
                pc.addTransceiver("video", direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            await w.handle(offer_command(pc.localDescription.sdp, offer_id="greedy"))
            _, error = posted(w, "media.error")
            assert error["code"] == "negotiation_error"
            assert "too many receive slots" in str(error["message"])
            assert w.sfu.load() == 0  # no peer was built for it
        finally:
            await pc.close()
            await w.sfu.close()

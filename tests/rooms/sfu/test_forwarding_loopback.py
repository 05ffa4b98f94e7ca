"""Real ICE/DTLS/SRTP on 127.0.0.1: bots publish pre-encoded media through the SFU."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiortc.rtcdtlstransport import State

from rooms.mediabot.bot import Bot
from rooms.sfu import (
    InvalidCandidate,
    NegotiationError,
    PeerStateChanged,
    RenegotiationNeeded,
    ScreenShareForbidden,
    UnknownParticipant,
)
from rooms.sfu.peer import Peer

from .conftest import Harness

LOUD, LOUDER, SILENT = 30, 20, 127


def video_from(bot: Bot, origin: int) -> int:
    return bot.origin_packets("video", origin)


def audio_from(bot: Bot, origin: int) -> int:
    return bot.origin_packets("audio", origin)


def decoded(bot: Bot) -> int:
    return sum(s.frames_decoded for s in bot.streams("video"))


async def test_three_bots_receive_each_other_and_only_speakers_are_heard(
    harness: Harness,
) -> None:
    a = await harness.join("a", variant=0, level=LOUDER)
    b = await harness.join("b", variant=1, level=LOUD)
    c = await harness.join("c", variant=2, level=SILENT)
    bots = {0: a, 1: b, 2: c}

    def everyone_sees_everyone() -> bool:
        return all(
            video_from(bot, other) >= 20
            for me, bot in bots.items()
            for other in bots
            if other != me
        ) and all(decoded(bot) >= 30 for bot in bots.values())

    assert await c.wait_until(everyone_sees_everyone, timeout=10)
    # One second of audio from each speaker at the silent listener.
    assert await c.wait_until(lambda: audio_from(c, 0) >= 50 and audio_from(c, 1) >= 50, 5)
    assert audio_from(a, 1) > 0 and audio_from(b, 0) > 0
    assert all(audio_from(bot, 2) == 0 for bot in bots.values())  # silence is not forwarded
    for bot in bots.values():
        for stream in bot.streams("video"):
            assert stream.decode_errors == 0
            assert stream.picture_id_jumps == 0
            assert (stream.width, stream.height) == (320, 240)
            assert None not in stream.origins  # every frame is byte-identical to a clip frame
    assert harness.room.active_speakers and set(harness.room.active_speakers) == {"a", "b"}
    stats = harness.room.stats("c")
    assert stats.packets_out > 0 and stats.packets_in > 0 and stats.state == "connected"


async def test_mute_stops_audio_and_removal_stops_all_media(harness: Harness) -> None:
    listener = await harness.join("listener", variant=2, level=SILENT)
    a = await harness.join("a", variant=0, level=LOUDER)
    await harness.join("b", variant=1, level=LOUD)
    assert await listener.wait_until(
        lambda: audio_from(listener, 0) >= 25 and audio_from(listener, 1) >= 25, timeout=10
    )

    harness.room.set_muted("a", True)
    muted_at = time.monotonic()
    heard_b = audio_from(listener, 1)
    # 1.2 s of b's audio arriving is the clock for "a second later".
    assert await listener.wait_until(lambda: audio_from(listener, 1) >= heard_b + 60, 5)
    last_a_audio = max((s.last_seen.get(0, 0.0) for s in listener.streams("audio")), default=0.0)
    assert last_a_audio < muted_at + 0.2
    assert video_from(listener, 0) > 0 and "a" not in harness.room.active_speakers

    await harness.room.remove("b")
    removed_at = time.monotonic()
    seen_a = video_from(listener, 0)
    assert await listener.wait_until(lambda: video_from(listener, 0) >= seen_a + 18, 5)
    assert (listener.last_seen(1) or 0.0) < removed_at + 0.2
    assert any(
        isinstance(e, PeerStateChanged) and e.participant_id == "b" and e.state == "closed"
        for e in harness.events
    )
    with pytest.raises(UnknownParticipant):
        harness.room.stats("b")
    assert a.pc.connectionState == "connected"


async def test_a_subscriber_is_asked_to_renegotiate_for_more_slots(harness: Harness) -> None:
    late = await harness.join("late", variant=2, level=SILENT, audio_slots=0, video_slots=0)
    await harness.join("a", variant=0, level=LOUDER)
    event = await harness.next_event(
        lambda e: isinstance(e, RenegotiationNeeded) and e.participant_id == "late", timeout=5
    )
    assert isinstance(event, RenegotiationNeeded)
    assert (event.audio_slots, event.video_slots) == (1, 1)
    await late.renegotiate(event.audio_slots, event.video_slots)
    assert await late.wait_until(
        lambda: decoded(late) >= 5 and audio_from(late, 0) >= 10, timeout=10
    )


async def test_no_renegotiation_is_asked_while_an_offer_is_being_applied(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.join("a", variant=0, level=LOUDER)
    negotiate = Peer.negotiate
    asked: list[RenegotiationNeeded] = []

    async def negotiate_with_a_tick(peer: Peer, offer_sdp: str, plans: Any) -> str:
        # The room's tick runs while this offer is being applied (its slots unknown).
        room = harness.room
        before = len(harness.events)
        room._dirty = True
        room._reselect()
        room._tick(room.now() + 60)  # past any interval: only the lock may hold asks back
        asked.extend(
            e
            for e in harness.events[before:]
            if isinstance(e, RenegotiationNeeded) and e.participant_id == peer.participant_id
        )
        return await negotiate(peer, offer_sdp, plans)

    monkeypatch.setattr(Peer, "negotiate", negotiate_with_a_tick)
    b = await harness.join("b", variant=1, level=LOUD)
    assert await b.wait_until(lambda: audio_from(b, 0) >= 10, timeout=10)
    assert asked == []


async def test_hostile_input_is_refused_and_nothing_breaks(harness: Harness) -> None:
    room = harness.room
    with pytest.raises(NegotiationError):
        await room.offer("x", "v=0\r\nnonsense")
    assert "x" not in room.peers
    with pytest.raises(UnknownParticipant):
        await room.add_ice_candidate("x", "candidate:1 1 udp 1 127.0.0.1 9 typ host")

    a = await harness.join("a", variant=0, level=LOUDER)
    b = await harness.join("b", variant=1, level=LOUD)
    with pytest.raises(InvalidCandidate):
        await room.add_ice_candidate("a", "candidate:garbage", sdp_mid="0")
    offer_with_screen = a.pc.localDescription.sdp
    with pytest.raises(ScreenShareForbidden):
        await room.offer("a", offer_with_screen, screen_mids={"1"})

    # Garbage inside valid SRTP: the SFU decrypts it, drops it, and keeps forwarding.
    assert a._writer is not None
    for payload in (b"\x80" + bytes(11), b"\x80\x60" + bytes(30), b"\xbe" * 40, bytes(200)):
        a._writer.write_rtp(payload)
    for payload in (b"\x81\xc8\x00\x01" + bytes(4), b"\x8f\xce\x00\x09" + bytes(36)):
        a._writer.write_rtcp(payload)
    seen = video_from(b, 0)
    assert await b.wait_until(lambda: video_from(b, 0) >= seen + 10, timeout=5)
    assert room.peer_state("a") == "connected"
    assert room.stats("a").packets_dropped > 0


async def test_a_peer_that_goes_away_is_reported_and_cleaned_up(harness: Harness) -> None:
    a = await harness.join("a", variant=0, level=LOUDER)
    await a.close()
    event = await harness.next_event(
        lambda e: isinstance(e, PeerStateChanged) and e.state == "failed", timeout=10
    )
    assert isinstance(event, PeerStateChanged) and event.participant_id == "a"
    assert "a" not in harness.room.peers


def test_the_codec_guard_really_guards(no_codecs: list[str]) -> None:
    import aiortc.rtcrtpreceiver

    with pytest.raises(AssertionError):
        aiortc.rtcrtpreceiver.get_decoder(None)  # type: ignore[arg-type]
    no_codecs.clear()


async def test_close_leaves_no_task_behind(harness: Harness) -> None:
    await harness.join("a", variant=0, level=LOUDER)
    await harness.join("b", variant=1, level=LOUD)
    room = harness.room
    await harness.sfu.close()
    assert room._tick_task is None and not room._teardowns
    assert asyncio.current_task() is not None


async def test_the_c_loop_stops_sending_the_moment_the_transport_is_gone(
    harness: Harness,
) -> None:
    await harness.join("a", variant=0, level=LOUDER)
    b = await harness.join("b", variant=1, level=LOUD)
    assert await b.wait_until(lambda: video_from(b, 0) >= 10, timeout=10)
    writer = harness.room.peers["b"].writer
    assert writer is not None and writer.dest.ready == 1
    # The DTLS transport reports its end (as on the remote's close_notify): from that very
    # call on, no packet of a's is sent to b, before any tick or teardown runs.
    slots = harness.room.peers["b"].slots.values()
    sent = sum(slot.packets for slot in slots)
    published = harness.room.peers["a"].packets_in
    writer._dtls._set_state(State.CLOSED)
    assert writer.dest.ready == 0
    await asyncio.sleep(0.3)
    assert harness.room.peers["a"].packets_in > published  # a kept publishing meanwhile
    assert sum(slot.packets for slot in slots) == sent

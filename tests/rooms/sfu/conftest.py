"""Fixtures for SFU tests with real ICE/DTLS/SRTP, kept on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiortc.codecs
import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
import pytest

from rooms.mediabot.bot import Bot
from rooms.mediabot.clip import clip
from rooms.sfu import Sfu, SfuConfig, SfuEvent, SpeakerConfig
from rooms.sfu.ice import host_addresses
from rooms.sfu.room import SfuRoom

LOOPBACK = ("127.0.0.1",)
FAST_SPEAKERS = SpeakerConfig(min_hold=0.3, release_after=0.5)


@dataclass
class Harness:
    sfu: Sfu
    room: SfuRoom
    events: list[SfuEvent] = field(default_factory=list)
    queue: asyncio.Queue[SfuEvent] = field(default_factory=asyncio.Queue)
    bots: list[Bot] = field(default_factory=list)

    async def join(self, name: str, *, variant: int, level: int, **kwargs: Any) -> Bot:
        async def signaling(sdp: str) -> str:
            return await self.room.offer(name, sdp)

        bot = Bot(
            name, signaling, variant=variant, audio_level=level, ice_addresses=LOOPBACK, **kwargs
        )
        self.bots.append(bot)
        await bot.start(timeout=10)
        return bot

    async def next_event(self, predicate: Callable[[SfuEvent], bool], timeout: float) -> SfuEvent:
        async def find() -> SfuEvent:
            while True:
                event = await self.queue.get()
                if predicate(event):
                    return event

        return await asyncio.wait_for(find(), timeout)


@pytest.fixture(scope="session", autouse=True)
def _clips_encoded_once() -> None:
    # Encoding happens once, before any test patches codec construction.
    for variant in range(3):
        clip(variant)


@pytest.fixture
def no_codecs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Any aiortc decoder/encoder construction is recorded (and fails the test)."""
    calls: list[str] = []

    def forbid(name: str) -> Callable[..., Any]:
        def guard(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise AssertionError(f"{name} constructed on the forwarding path")

        return guard

    monkeypatch.setattr(aiortc.rtcrtpreceiver, "get_decoder", forbid("get_decoder"))
    monkeypatch.setattr(aiortc.rtcrtpsender, "get_encoder", forbid("get_encoder"))
    monkeypatch.setattr(aiortc.codecs, "get_decoder", forbid("codecs.get_decoder"))
    monkeypatch.setattr(aiortc.codecs, "get_encoder", forbid("codecs.get_encoder"))
    for cls in (
        "Vp8Decoder",
        "Vp8Encoder",
        "OpusDecoder",
        "OpusEncoder",
        "H264Decoder",
        "H264Encoder",
    ):
        monkeypatch.setattr(getattr(aiortc.codecs, cls), "__init__", forbid(cls))
    yield calls
    decoder_threads = [t.name for t in threading.enumerate() if t.name.endswith("-decoder")]
    assert calls == [], calls
    assert decoder_threads == []


def make_config(**overrides: Any) -> SfuConfig:
    options: dict[str, Any] = {"ice_addresses": LOOPBACK, "speakers": FAST_SPEAKERS}
    options.update(overrides)
    return SfuConfig(**options)


@pytest.fixture
def sfu_config() -> SfuConfig:
    return make_config()


@pytest.fixture
async def harness(sfu_config: SfuConfig, no_codecs: list[str]) -> AsyncIterator[Harness]:
    with host_addresses(LOOPBACK):
        events: list[SfuEvent] = []
        queue: asyncio.Queue[SfuEvent] = asyncio.Queue()

        def sink(event: SfuEvent) -> None:
            events.append(event)
            queue.put_nowait(event)

        sfu = Sfu(sfu_config, sink=sink)
        h = Harness(sfu=sfu, room=sfu.room("room-1"), events=events, queue=queue)
        try:
            yield h
        finally:
            for bot in h.bots:
                await bot.close()
            await sfu.close()

"""The whole media path, as people use it: bots join a real server (daphne in embedded mode,
its SFU worker in-process) through the join API and the room socket, and exchange media over
real ICE/DTLS/SRTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from rooms.mediabot.bot import Bot
from rooms.mediabot.client import RoomClient
from rooms.sfu.ice import use_host_addresses
from tests.rooms.live_harness import Daphne, embedded_site

LOUD, LOUDER, LOUDEST = 40, 30, 20  # dBov below full scale: smaller is louder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daphne, dict[str, str]]]:
    directory = tmp_path_factory.mktemp("media")
    with embedded_site(
        "media", directory, title="Media", waiting_room=False, ROOMS_RESUME_GRACE_SECONDS="15"
    ) as site:
        yield site


@pytest.fixture
async def room(server: tuple[Daphne, dict[str, str]]) -> AsyncIterator[list[RoomClient]]:
    """Host, then two guests, each admitted and publishing."""
    daphne, world = server
    use_host_addresses(("127.0.0.1",))
    clients = [
        RoomClient(daphne.url, world["token"], name="Host", api_token=world["key"]),
        RoomClient(daphne.url, world["token"], name="Ann"),
        RoomClient(daphne.url, world["token"], name="Ben"),
    ]
    try:
        for n, (client, level) in enumerate(zip(clients, (LOUDEST, LOUDER, LOUD), strict=True)):
            await client.join()
            assert await client.wait_until(lambda c=client: c.admitted, timeout=10), client.messages
            await client.start_media(variant=n, audio_level=level, audio_slots=3, video_slots=3)
        yield clients
    finally:
        for client in clients:
            await client.close()


def origin_of(client: RoomClient, clients: list[RoomClient]) -> int:
    return clients.index(client)


def bot(client: RoomClient) -> Bot:
    assert client.bot is not None
    return client.bot


async def test_three_bots_see_and_hear_each_other(room: list[RoomClient]) -> None:
    def everyone_sees_everyone() -> bool:
        return all(
            bot(c).origin_packets("video", other) >= 20
            and bot(c).origin_packets("audio", other) >= 25
            for me, c in enumerate(room)
            for other in range(3)
            if other != me
        ) and all(sum(s.frames_decoded for s in bot(c).streams("video")) >= 20 for c in room)

    assert await bot(room[0]).wait_until(everyone_sees_everyone, timeout=20)
    for client in room:
        for stream in bot(client).streams("video"):
            assert stream.decode_errors == 0
            assert None not in stream.origins  # frames arrive byte-identical
    # The roster followed along on every socket, and the SFU said what each slot carries.
    for client in room:
        assert client.snapshot is not None
        assert {p["display_name"] for p in client.snapshot["roster"]} == {"Host", "Ann", "Ben"}
        carried = [s for s in client.slots.values() if s is not None]
        people = {c.participant_id for c in room}
        assert carried and {s["participant_id"] for s in carried} <= people
        assert {s["kind"] for s in carried} <= {"audio", "camera"}


async def test_mute_and_removal_through_the_host_socket_stop_forwarding(
    room: list[RoomClient],
) -> None:
    host, ann, ben = room
    listener = bot(host)
    assert await listener.wait_until(
        lambda: (
            listener.origin_packets("audio", 1) >= 25 and listener.origin_packets("video", 2) >= 20
        ),
        timeout=20,
    )
    await host.send({"type": "participant.mute", "participant_id": ann.participant_id})
    await asyncio.sleep(1.0)
    after_mute = await settled(lambda: listener.origin_packets("audio", 1))
    await asyncio.sleep(1.0)
    assert listener.origin_packets("audio", 1) == after_mute  # nothing of Ann's after 1 s
    assert listener.origin_packets("video", 1) > 0  # her camera still flows

    await host.send({"type": "participant.remove", "participant_id": ben.participant_id})
    assert await ben.wait_until(lambda: ben.closed_with is not None, timeout=5)
    await asyncio.sleep(1.0)

    def bens() -> int:
        return listener.origin_packets("video", 2) + listener.origin_packets("audio", 2)

    after_removal = await settled(bens)
    await asyncio.sleep(1.0)
    assert bens() == after_removal  # nothing of Ben's after 1 s


async def settled(count: Callable[[], int]) -> int:
    """The count once the listener has worked off packets that were already on their way (a
    loaded machine delays the bot, not the SFU). A stream still being forwarded, at 50 audio
    or ~30 video packets a second, never settles: the caller's next check then fails."""
    last = count()
    for _ in range(20):
        await asyncio.sleep(0.25)
        if count() == last:
            return last
        last = count()
    return last

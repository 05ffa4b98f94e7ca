"""A bot exchanges media with the host through the site's SFU (inside its daphne, or with
HOSTSITE_REDIS_URL a `manage.py sfu` process of its own): the join API, the room socket and
real ICE/DTLS/SRTP on 127.0.0.1 (ROOMS_SFU_ICE_ADDRESSES)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from browsing import Browser, create_room, room_config, signed_in
from conftest import Server

from rooms.mediabot.client import RoomClient
from rooms.sfu.ice import use_host_addresses

pytestmark = pytest.mark.django_db(transaction=True)


def as_member(client: RoomClient, browser: Browser) -> RoomClient:
    """The member's signed-in browser session, as the room page's script has it."""
    client.http.cookies.update(browser.http.cookies)
    client.http.headers["X-CSRFToken"] = browser.http.cookies["csrftoken"]
    return client


@pytest.fixture
async def clients() -> AsyncIterator[list[RoomClient]]:
    opened: list[RoomClient] = []
    yield opened
    for client in opened:
        await client.close()


async def test_a_guest_bot_and_the_host_see_and_hear_each_other(
    host: Any, browser: Any, server: Server, clients: list[RoomClient]
) -> None:
    use_host_addresses(("127.0.0.1",))
    page = await signed_in(browser, host)
    room = await create_room(page)
    # Where this site mounted Rooms, as the room page tells its scripts.
    config = await room_config(page, room["token"])
    prefix = config["urls"]["api"].removesuffix(f"api/v1/rooms/{room['token']}/")
    assert prefix == "/video/"
    base = server.url + prefix.rstrip("/")
    hana = as_member(RoomClient(base, room["token"], name="Hana"), page)
    gus = RoomClient(base, room["token"], name="Gus the bot")
    clients += [hana, gus]

    await hana.join()
    assert await hana.wait_until(lambda: hana.admitted, timeout=10), hana.messages
    assert hana.snapshot is not None
    assert hana.snapshot["roster"][0]["display_name"] == "Hana Host"

    await gus.join()
    assert await gus.wait_until(lambda: gus.lobby_reason == "waiting_room", timeout=10)
    # The host lets the bot in over her socket, as an API client does.
    await hana.send({"type": "lobby.admit", "participant_ids": [gus.participant_id]})
    assert await gus.wait_until(lambda: gus.admitted, timeout=10), gus.messages

    hana_bot = await hana.start_media(variant=0, audio_level=20, audio_slots=3, video_slots=3)
    gus_bot = await gus.start_media(variant=1, audio_level=30, audio_slots=3, video_slots=3)

    def both_ways() -> bool:
        return (
            hana_bot.origin_packets("video", 1) >= 20
            and hana_bot.origin_packets("audio", 1) >= 25
            and gus_bot.origin_packets("video", 0) >= 20
            and gus_bot.origin_packets("audio", 0) >= 25
        )

    assert await hana_bot.wait_until(both_ways, timeout=30), (
        hana_bot.origin_packets("video", 1),
        gus_bot.origin_packets("video", 0),
    )
    for bot in (hana_bot, gus_bot):
        for stream in bot.streams("video"):
            assert stream.decode_errors == 0
    if server.media_worker is not None:
        # It went through the site's own media worker process.
        forwarded = re.search(
            r"^rooms_sfu_forwarded_packets_total (\S+)$", server.media_worker.metrics(), re.M
        )
        assert forwarded is not None and float(forwarded[1]) > 0

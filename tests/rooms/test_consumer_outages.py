"""The room socket answers an outage with a retryable error and stays open (in-process; the
database outage over a real daphne is in tests/config/test_outages_live.py)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from accounts.models import User
from rooms import media_control, services
from tests.rooms.live_harness import free_port
from tests.rooms.socket_client import enter, me

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("in_memory_channel_layer"),
]


async def test_an_offer_while_redis_is_down_gets_a_retryable_error(
    alice: User, settings: Any
) -> None:
    room = await database_sync_to_async(services.room_create)(host=alice, title="Outage")
    host, _ = await enter(room, me(alice))
    await host.expect("snapshot")
    # The worker registry and room placement live in Redis, which stops answering.
    settings.ROOMS_SFU_EMBEDDED = False
    settings.ROOMS_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    media_control.placement.cache_clear()

    await host.send({"type": "media.offer", "sdp": "v=0\r\n", "offer_id": "first"})
    error = await host.expect("error", timeout=10)
    assert error == {
        "type": "error",
        "code": "unavailable",
        "message": "The service is briefly unavailable. Try again in a few seconds.",
        "regarding": "media.offer",
        "retry_after": 5,
        "offer_id": "first",
    }
    await host.send({"type": "ping"})
    await host.expect("pong")

    settings.ROOMS_REDIS_URL = None
    media_control.placement.cache_clear()
    await host.close()

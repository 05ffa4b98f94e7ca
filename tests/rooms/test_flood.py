"""Flood control: the socket's token bucket, and the change budget shared across sockets."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db.models import Q
from rest_framework.test import APIClient

from accounts.models import User
from rooms import services
from rooms.flood import TokenBucket, Verdict
from rooms.models import AuditEvent, Room
from tests.rooms.socket_client import Socket, about, connect, enter, me


def test_normal_use_passes() -> None:
    bucket = TokenBucket(rate=10, burst=40)
    # 5 messages a second for a minute: far below the limit.
    assert all(bucket.take(t / 5) == Verdict.OK for t in range(300))


def test_a_burst_fits() -> None:
    bucket = TokenBucket(rate=10, burst=40)
    assert [bucket.take(0.0) for _ in range(40)] == [Verdict.OK] * 40


def test_sustained_flood_is_warned_then_closed() -> None:
    bucket = TokenBucket(rate=10, burst=40)
    verdicts = [bucket.take(i / 20) for i in range(200)]  # 20 messages a second
    first_warn = verdicts.index(Verdict.WARN)
    assert 70 <= first_warn <= 90  # the 40-message burst lasts about 4 s at 20/s
    assert Verdict.CLOSE in verdicts[first_warn + 1 :]


def test_calm_forgives_a_warning() -> None:
    bucket = TokenBucket(rate=10, burst=40, calm_after=10)
    verdicts = [bucket.take(0.0) for _ in range(42)]
    assert verdicts[-2:] == [Verdict.WARN, Verdict.CLOSE]
    # Twenty quiet seconds later the client is a first offender again: warned, not closed.
    later = [bucket.take(20.0) for _ in range(41)]
    assert later == [Verdict.OK] * 40 + [Verdict.WARN]


# --- the change budget: per person in the room, in the cache, across reconnects ---------------


async def _api_join(browser: APIClient, room: Room) -> dict[str, Any]:
    r = await database_sync_to_async(browser.post)(
        f"/api/rooms/{room.token}/join/", {"display_name": "Flo"}, format="json"
    )
    assert r.status_code == 200, r.json()
    body: dict[str, Any] = r.json()
    return body


async def _open(room: Room, joined: dict[str, Any]) -> Socket:
    ok, socket = await connect(room, f"ticket={joined['ticket']}")
    assert ok, "socket refused"
    await socket.expect("snapshot")
    return socket


async def _settled(socket: Socket) -> None:
    """A socket handles its messages in order: once the pong is back, all before it are done."""
    await socket.send({"type": "ping"})
    await socket.expect("pong", timeout=5)


def _broadcasts(participant_id: int) -> int:
    """Hand and mute changes the room heard about this visit (each audit event is one broadcast
    version)."""
    return (
        AuditEvent.objects.filter(target_id=participant_id)
        .filter(Q(data__has_key="hand_raised") | Q(data__has_key="muted"))
        .count()
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_memory_channel_layer")
async def test_the_change_budget_follows_a_guest_across_reconnects_and_visits(
    alice: User,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.ROOMS_SOCKET_CHANGES = 6
    settings.ROOMS_SOCKET_CHANGES_WINDOW_SECONDS = 3600  # no refill while the test runs
    room = await database_sync_to_async(services.room_create)(
        host=alice, title="Floods", waiting_room=False
    )
    host, _ = await enter(room, me(alice))
    await host.expect("snapshot")
    browser = APIClient()  # the guest's cookie jar
    joined = await _api_join(browser, room)
    visit = joined["participant"]["id"]
    flooder = await _open(room, joined)

    # Raise and lower in turn, well inside the socket's own token bucket.
    for n in range(10):
        await flooder.send({"type": "hand.set", "raised": n % 2 == 0})
    await _settled(flooder)
    refusals = [m for m in flooder.seen if m["type"] == "error"]
    # 6 changes went through; the raises after them were refused (lowering always works, and
    # with the hand already down it changes nothing).
    assert await database_sync_to_async(_broadcasts)(visit) == 6
    assert [(m["code"], m["regarding"]) for m in refusals] == [("too_many_changes", "hand.set")] * 2
    assert all(1 <= m["retry_after"] <= 3600 for m in refusals)

    # The connection drops and the guest comes back through the join API: same visit, and the
    # budget is still spent.
    await flooder.close()
    joined = await _api_join(browser, room)
    assert joined["participant"]["id"] == visit
    flooder = await _open(room, joined)
    await flooder.send({"type": "hand.set", "raised": True})
    assert (await flooder.expect("error"))["code"] == "too_many_changes"
    # Muting yourself still works over budget; unmuting waits.
    await flooder.send({"type": "audio.set", "muted": True})
    await host.expect("room.participant_updated", where=about(visit, audio_muted=True))
    await flooder.send({"type": "audio.set", "muted": False})
    assert (await flooder.expect("error"))["regarding"] == "audio.set"
    assert await database_sync_to_async(_broadcasts)(visit) == 7

    # Leaving and joining again as a new participant does not reset it either.
    settings.ROOMS_RESUME_GRACE_SECONDS = 0  # so the join after the leave is a new visit
    await flooder.send({"type": "leave"})
    await flooder.expect("left")
    await flooder.close()
    joined = await _api_join(browser, room)
    assert joined["participant"]["id"] != visit
    assert joined["decision"]["outcome"] == "admit"
    flooder = await _open(room, joined)
    await flooder.send({"type": "hand.set", "raised": True})
    assert (await flooder.expect("error"))["code"] == "too_many_changes"
    await _settled(flooder)
    assert await database_sync_to_async(_broadcasts)(joined["participant"]["id"]) == 0
    await flooder.close()
    await host.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_memory_channel_layer")
async def test_people_have_budgets_of_their_own(
    alice: User,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.ROOMS_SOCKET_CHANGES = 2
    settings.ROOMS_SOCKET_CHANGES_WINDOW_SECONDS = 3600
    room = await database_sync_to_async(services.room_create)(
        host=alice, title="Floods", waiting_room=False
    )
    host, _ = await enter(room, me(alice))
    await host.expect("snapshot")
    flooder = await _open(room, await _api_join(APIClient(), room))
    for raised in (True, False, True):
        await flooder.send({"type": "hand.set", "raised": raised})
    assert (await flooder.expect("error"))["code"] == "too_many_changes"

    # Another guest in the same room, and the host, are not slowed down by it.
    neighbour_join = await _api_join(APIClient(), room)
    neighbour = await _open(room, neighbour_join)
    await neighbour.send({"type": "hand.set", "raised": True})
    await host.expect(
        "room.participant_updated",
        where=about(neighbour_join["participant"]["id"], hand_raised=True),
    )
    await host.send({"type": "hand.set", "raised": True})
    await host.expect(
        "room.participant_updated", where=lambda m: m["participant"]["role"] == "host"
    )
    for socket in (flooder, neighbour, host):
        await socket.close()

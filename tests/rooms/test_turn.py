from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from typing import Any

import pytest
from channels.db import database_sync_to_async
from rest_framework.test import APIClient

from accounts.models import User
from rooms import services, turn
from rooms.consumers import CLOSE_REMOVED
from rooms.models import Participant, ParticipantState, Room
from tests.conftest import as_user
from tests.factories import host_arrives
from tests.rooms.socket_client import Socket, enter, guest, me


@pytest.fixture
def with_turn(settings):  # type: ignore[no-untyped-def]
    settings.ROOMS_TURN_URLS = ["turn:turn.example.com:3478?transport=udp"]
    settings.ROOMS_TURN_SECRET = "s3cret"
    settings.ROOMS_TURN_TTL_SECONDS = 600
    return settings


def test_credentials_follow_coturn_rest_scheme(with_turn) -> None:  # type: ignore[no-untyped-def]
    [server] = turn.ice_servers(participant_id=42, now=1_000_000)
    assert server["username"] == "1000600:42"
    expected = hmac.new(b"s3cret", b"1000600:42", hashlib.sha1).digest()
    assert base64.b64decode(server["credential"]) == expected
    assert server["urls"] == ["turn:turn.example.com:3478?transport=udp"]


def test_no_turn_configured_gives_no_servers() -> None:
    assert turn.ice_servers(participant_id=1) == []


@pytest.mark.django_db
def test_only_admitted_people_get_credentials(with_turn, alice: User, bob: User) -> None:  # type: ignore[no-untyped-def]
    room = services.room_create(host=alice, title="Talk")
    host_arrives(room, alice)
    admitted = as_user(alice).post(f"/api/rooms/{room.token}/join/", {}, format="json").json()
    assert admitted["ice_servers"][0]["username"].endswith(f":{admitted['participant']['id']}")
    waiting = APIClient().post(
        f"/api/rooms/{room.token}/join/", {"display_name": "Gus"}, format="json"
    )
    assert waiting.json()["decision"]["outcome"] == "lobby"
    assert waiting.json()["ice_servers"] == []
    stranger = as_user(bob).post(f"/api/rooms/{room.token}/join/", {}, format="json").json()
    assert stranger["ice_servers"] == []


def test_credentials_are_renewed_halfway_through_their_lifetime(with_turn) -> None:  # type: ignore[no-untyped-def]
    assert (
        turn.renew_after_seconds() == 300
    )  # ROOMS_TURN_TTL_SECONDS = 600: 5 minutes left at worst


def test_no_renewal_without_turn() -> None:
    assert turn.renew_after_seconds() is None


# --- renewal over the room socket ---------------------------------------------------------
# Credentials of 2 s, renewed every second: several renewals fit in one test.

socket_test = pytest.mark.usefixtures("in_memory_channel_layer")


@pytest.fixture
def short_lived(with_turn):  # type: ignore[no-untyped-def]
    with_turn.ROOMS_TURN_TTL_SECONDS = 2
    return with_turn


def expiry(servers: list[dict[str, Any]], participant_id: int) -> int:
    """The expiry of the one credential given, checked to be a valid one for this person."""
    [server] = servers
    stamp, owner = server["username"].split(":")
    assert owner == str(participant_id)
    expected = hmac.new(b"s3cret", server["username"].encode(), hashlib.sha1).digest()
    assert base64.b64decode(server["credential"]) == expected
    return int(stamp)


async def collect(socket: Socket, *, seconds: float) -> list[dict[str, Any]]:
    """Every message the socket gets within `seconds` (a timed-out read would end the app)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    messages = []
    while loop.time() < deadline:
        if not await socket.silent(0.1):
            messages.append(await socket.next())
    return messages


async def open_room(host: User) -> tuple[Room, Socket]:
    """The host is in, with the waiting room off: guests come straight in."""
    room = await database_sync_to_async(services.room_create)(host=host, title="Talk")
    socket, _ = await enter(room, me(host))
    await socket.expect("snapshot")
    await socket.send({"type": "room.waiting_room", "waiting_room": False})
    await socket.expect("room.updated")
    return room, socket


@socket_test
@pytest.mark.django_db(transaction=True)
async def test_admitted_people_get_fresh_credentials_on_their_socket(  # type: ignore[no-untyped-def]
    short_lived, alice: User
) -> None:
    room, host = await open_room(alice)
    socket, result = await enter(room, guest())
    pid = result.participant.pk
    given = expiry((await socket.expect("snapshot"))["you"]["ice_servers"], pid)
    for _ in range(2):
        renewed = await socket.expect("turn.credentials", timeout=10)
        newer = expiry(renewed["ice_servers"], pid)
        assert newer >= given
        given = newer
    await socket.close()
    await host.close()


@socket_test
@pytest.mark.django_db(transaction=True)
async def test_lobby_members_get_credentials_only_once_admitted(  # type: ignore[no-untyped-def]
    short_lived, alice: User
) -> None:
    room = await database_sync_to_async(services.room_create)(host=alice, title="Talk")
    host, _ = await enter(room, me(alice))
    await host.expect("snapshot")
    waiting, result = await enter(room, guest())
    assert (await waiting.expect("lobby.status"))["reason"] == "waiting_room"
    assert await waiting.silent(3)  # three renewal periods: nothing reaches the lobby
    await host.send({"type": "lobby.admit", "participant_ids": [result.participant.pk]})
    snapshot = await waiting.expect("snapshot", timeout=5)
    expiry(snapshot["you"]["ice_servers"], result.participant.pk)
    renewed = await waiting.expect("turn.credentials", timeout=10)
    expiry(renewed["ice_servers"], result.participant.pk)
    await waiting.close()
    await host.close()


@socket_test
@pytest.mark.django_db(transaction=True)
async def test_removed_people_get_no_more_credentials(short_lived, alice: User) -> None:  # type: ignore[no-untyped-def]
    room, host = await open_room(alice)
    socket, result = await enter(room, guest())
    await socket.expect("turn.credentials", timeout=10)
    await host.send({"type": "participant.remove", "participant_id": result.participant.pk})
    await socket.expect("removed", timeout=5)
    assert await socket.expect_closed() == CLOSE_REMOVED
    assert await socket.silent(3)
    await host.close()


@socket_test
@pytest.mark.django_db(transaction=True)
async def test_a_removal_whose_notice_was_lost_stops_the_credentials(  # type: ignore[no-untyped-def]
    short_lived, alice: User
) -> None:
    room, host = await open_room(alice)
    socket, result = await enter(room, guest())
    await socket.expect("turn.credentials", timeout=10)
    # Removed, and the channel layer (at most once) lost the notice to this socket: the socket
    # still thinks its person is in the room, the database says otherwise.
    await database_sync_to_async(Participant.objects.filter(pk=result.participant.pk).update)(
        state=ParticipantState.REMOVED
    )
    # Four renewal periods: at most the one that read the database before the update.
    later = await collect(socket, seconds=4)
    assert [m["type"] for m in later].count("turn.credentials") <= 1, later
    await socket.close()
    await host.close()

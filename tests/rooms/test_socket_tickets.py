"""Socket tickets (rooms/socket_auth.py): an API client with a token gets a short-lived ticket
from `POST api/sockets/ticket/` and opens the sockets with `?auth=<ticket>`, as a browser that
cannot send `Authorization` on a WebSocket must."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import User
from config.asgi import application
from feed.services import notifications_create
from rooms import services
from tests.rooms.socket_client import HOST, ORIGIN, Socket, api_join, connect, enter, me

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("in_memory_channel_layer"),
]


def _token(user: User) -> str:
    user.set_password("a-secret-42")
    user.save()
    response = Client().post(
        "/api/auth/token/",
        {"username": user.username, "password": "a-secret-42"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return f"Token {response.json()['token']}"


def _ticket(authorization: str) -> dict[str, Any]:
    response = Client(headers={"Authorization": authorization}).post("/api/sockets/ticket/")
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


async def feed_with(query: str) -> tuple[bool, Socket]:
    communicator = WebsocketCommunicator(application, f"/ws/feed/?{query}", headers=[HOST, ORIGIN])
    connected, _ = await communicator.connect(timeout=5)
    return connected, Socket(communicator)


async def test_a_token_client_gets_live_cards_and_notifications(
    alice: User, bob: User, friends: None
) -> None:
    bobs = await database_sync_to_async(_token)(bob)
    issued = await database_sync_to_async(_ticket)(bobs)
    assert issued["expires_in"] > 0
    ok, feed = await feed_with(f"auth={issued['ticket']}")
    assert ok, "the feed socket refused a valid ticket"
    room = await database_sync_to_async(services.room_create)(
        host=alice, title="Coffee", waiting_room=False
    )
    host, _ = await enter(room, me(alice))
    card = await feed.expect("feed.room", where=lambda m: m["room"]["token"] == room.token)
    assert card["room"]["state"] == "open"
    await database_sync_to_async(notifications_create)(
        room=room, recipients=[bob], kind="room_live"
    )
    pushed = await feed.expect("notification", timeout=5)
    assert pushed["notification"]["room"]["token"] == room.token
    assert pushed["unread_count"] >= 1
    await feed.close()
    await host.close()


async def test_a_ticket_works_once(bob: User) -> None:
    issued = await database_sync_to_async(_ticket)(await database_sync_to_async(_token)(bob))
    ok, feed = await feed_with(f"auth={issued['ticket']}")
    assert ok
    await feed.close()
    assert not (await feed_with(f"auth={issued['ticket']}"))[0]
    assert not (await feed_with("auth=made-up"))[0]


def test_only_signed_in_callers_get_tickets(db: None) -> None:
    response = Client().post("/api/sockets/ticket/")
    assert response.status_code in (401, 403)
    assert "ticket" not in response.json()


async def test_a_token_client_resumes_the_room_socket_with_a_ticket(
    alice: User, bob: User, charlie: User, friends: None
) -> None:
    room = await database_sync_to_async(services.room_create)(
        host=alice, title="Coffee", waiting_room=False
    )
    host, _ = await enter(room, me(alice))
    bobs = await database_sync_to_async(_token)(bob)
    joined = await api_join(Client(headers={"Authorization": bobs}), room)
    ok, first = await connect(room, f"ticket={joined['ticket']}")
    assert ok
    resume_token = (await first.expect("hello"))["resume_token"]
    await first.expect("snapshot")
    await first.close()
    # No account on the connection: refused. Another account's ticket: refused.
    assert not (await connect(room, f"resume={resume_token}"))[0]
    charlies = await database_sync_to_async(_ticket)(await database_sync_to_async(_token)(charlie))
    assert not (await connect(room, f"resume={resume_token}&auth={charlies['ticket']}"))[0]
    # Bob's own ticket takes the seat back.
    issued = await database_sync_to_async(_ticket)(bobs)
    ok, back = await connect(room, f"resume={resume_token}&auth={issued['ticket']}")
    assert ok
    assert (await back.expect("snapshot"))["you"]["id"] == joined["participant"]["id"]
    await back.close()
    await host.close()

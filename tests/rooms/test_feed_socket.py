"""Live room cards on the feed socket (rooms/feed_socket.py, ws/feed/ in rooms.routing): only
people who may see a room get its card."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import User
from accounts.services import user_block
from config.asgi import application
from rooms import services
from rooms.models import Room
from tests.factories import UserFactory, befriend
from tests.rooms.socket_client import HOST, ORIGIN, Socket, enter, me

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("in_memory_channel_layer"),
]


async def feed_socket(user: User | None) -> tuple[bool, Socket]:
    headers = [HOST, ORIGIN]
    if user is not None:
        client = Client()
        await database_sync_to_async(client.force_login)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/feed/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    return connected, Socket(communicator)


async def card(socket: Socket, **fields: Any) -> dict[str, Any]:
    message = await socket.expect(
        "feed.room", where=lambda m: all(m["room"][k] == v for k, v in fields.items())
    )
    room: dict[str, Any] = message["room"]
    return room


async def test_anonymous_is_refused() -> None:
    assert not (await feed_socket(None))[0]


async def test_friends_see_the_room_go_live_fill_up_and_end(
    alice: User, bob: User, charlie: User, friends: None
) -> None:
    await database_sync_to_async(befriend)(alice, charlie)
    await database_sync_to_async(befriend)(bob, charlie)
    room = await database_sync_to_async(services.room_create)(
        host=alice, title="Coffee", waiting_room=False
    )
    _, watcher = await feed_socket(charlie)
    host, _ = await enter(room, me(alice))
    live = await card(watcher, state="open")
    assert (live["title"], live["participant_count"], live["link"]) == (
        "Coffee",
        1,
        f"/r/{room.token}/",
    )
    assert [f["display_name"] for f in live["friends_inside"]] == ["Alice"]
    member, _ = await enter(room, me(bob))
    fuller = await card(watcher, participant_count=2)
    assert {f["display_name"] for f in fuller["friends_inside"]} == {"Alice", "Bob"}
    await host.send({"type": "room.end"})
    removed = await watcher.expect("feed.room_removed")
    assert removed["token"] == room.token
    for socket in (watcher, host, member):
        await socket.close()


async def test_strangers_blocked_and_uninvited_get_nothing(
    alice: User, bob: User, charlie: User, friends: None
) -> None:
    dana = await database_sync_to_async(UserFactory)(username="dana")
    await database_sync_to_async(befriend)(alice, dana)
    await database_sync_to_async(user_block)(blocker=alice, blocked=dana)
    await database_sync_to_async(befriend)(alice, charlie)  # invitations go to friends only
    invite_only = await database_sync_to_async(services.room_create)(
        host=alice, title="Private", audience="invite_only", invitee_ids=[charlie.pk]
    )
    sockets = {u.username: (await feed_socket(u))[1] for u in (bob, charlie, dana)}
    host, _ = await enter(invite_only, me(alice))
    assert (await card(sockets["charlie"], state="open"))["title"] == "Private"
    assert await sockets["bob"].silent(0.3)  # a friend, but not invited
    assert await sockets["dana"].silent(0.1)  # blocked by the host
    for socket in (*sockets.values(), host):
        await socket.close()


async def test_feed_socket_is_read_only(alice: User) -> None:
    _, socket = await feed_socket(alice)
    await socket.send({"type": "room.end"})
    assert (await socket.expect("error"))["code"] == "read_only"
    await socket.close()


def test_live_card_is_the_api_card(alice: User, bob: User, friends: None) -> None:
    """The socket's card, GET /api/rooms/feed/'s and the site's GET /api/feed/'s are one
    shape, from one serializer."""
    from rooms.feed_socket import _card
    from tests.conftest import as_user

    room = services.room_create(host=alice, title="Same")
    seat = services.room_join(token=room.token, identity=me(alice)).participant
    services.participant_connected(participant_id=seat.pk)
    api_card = as_user(bob).get("/api/rooms/feed/").json()["live"][0]
    assert json.loads(json.dumps(_card(bob, room.pk))) == api_card
    assert as_user(bob).get("/api/feed/").json()["rooms"]["live"][0] == api_card
    assert Room.objects.get(pk=room.pk).state == "open"

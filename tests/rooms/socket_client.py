"""A test client for the room socket: the real ASGI app, in-process, one message at a time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import User
from config.asgi import application
from rooms import services
from rooms.models import Room
from rooms.services import Identity

# What a browser on the page http://127.0.0.1/ sends with its handshake.
ORIGIN = (b"origin", b"http://127.0.0.1")
HOST = (b"host", b"127.0.0.1")


class Socket:
    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.seen: list[dict[str, Any]] = []
        self.closed_with: int | None = None

    async def send(self, message: dict[str, Any] | str) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        await self.communicator.send_to(text_data=text)

    async def next(self, timeout: float = 2.0) -> dict[str, Any]:
        output = await self.communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            self.closed_with = output.get("code", 1000)
            return {"type": "<closed>", "code": self.closed_with}
        message: dict[str, Any] = json.loads(output["text"])
        self.seen.append(message)
        return message

    async def expect(
        self,
        kind: str,
        timeout: float = 2.0,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """The next message of type `kind` (matching `where`), skipping others (kept in `seen`)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no {kind!r} within {timeout}s; saw {self.seen[-5:]}")
            message = await self.next(left)
            if message["type"] == kind and (where is None or where(message)):
                return message

    async def expect_closed(self, timeout: float = 2.0) -> int:
        await self.expect("<closed>", timeout)
        assert self.closed_with is not None
        return self.closed_with

    async def silent(self, timeout: float = 0.2) -> bool:
        return await self.communicator.receive_nothing(timeout)

    async def close(self) -> None:
        # The application gets time to finish its disconnect (a database write, a commit and
        # a publish), as Daphne gives it; cancelling it midway (the default after 1 s, easily
        # reached on a loaded machine) would leave a publish waiting for ever.
        await self.communicator.disconnect(timeout=10)


async def connect(
    room: Room,
    query: str,
    *,
    origin: tuple[bytes, bytes] | None = ORIGIN,
    host: tuple[bytes, bytes] = HOST,
    cookie: str = "",
    authorization: str = "",
) -> tuple[bool, Socket]:
    headers = [host, origin] if origin else [host]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if authorization:
        headers.append((b"authorization", authorization.encode()))
    communicator = WebsocketCommunicator(
        application, f"/ws/rooms/{room.token}/?{query}", headers=headers
    )
    connected, _ = await communicator.connect(timeout=5)
    return connected, Socket(communicator)


async def join(room: Room, identity: Identity) -> services.JoinResult:
    return await database_sync_to_async(services.room_join)(token=room.token, identity=identity)


async def enter(room: Room, identity: Identity) -> tuple[Socket, services.JoinResult]:
    """Join through the service (as the API does) and open the socket with the ticket."""
    result = await join(room, identity)
    connected, socket = await connect(room, f"ticket={result.ticket}")
    assert connected, "socket refused"
    hello = await socket.expect("hello")
    assert hello["resume_token"]
    return socket, result


def about(participant_id: int, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    """Matches an event about this participant with these field values."""

    def match(message: dict[str, Any]) -> bool:
        person = message.get("participant") or {}
        return person.get("id") == participant_id and all(
            person.get(k) == v for k, v in fields.items()
        )

    return match


async def session_cookie(user: User) -> str:
    """The Cookie header of a browser where `user` is signed in."""
    from django.test import Client

    client = Client()
    await database_sync_to_async(client.force_login)(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def api_join(browser: Client, room: Room, display_name: str = "") -> dict[str, Any]:
    """POST the join API from this browser (its cookie jar keeps what the API set)."""

    def post() -> dict[str, Any]:
        response = browser.post(
            f"/api/rooms/{room.token}/join/",
            data={"display_name": display_name} if display_name else {},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        body: dict[str, Any] = response.json()
        return body

    return await database_sync_to_async(post)()


def cookie_header(browser: Client) -> str:
    """The Cookie header this browser sends: exactly the cookies the server set."""
    return "; ".join(f"{name}={morsel.value}" for name, morsel in browser.cookies.items())


def me(user: User) -> Identity:
    return Identity(user=user, device_id=f"dev-{user.pk}")


def guest(name: str = "Gus", gid: str = "a" * 32) -> Identity:
    return Identity(guest_id=gid, device_id="d" * 32, display_name=name)

"""A guest's whole visit to a room, written against Rooms' two published schemas only.

    python examples/guest_client.py http://127.0.0.1:8000/r/<token>/ --name Gus \
        --ice-address 127.0.0.1

It reads the OpenAPI document (`/api/schema/`) to find the join operation, and the sockets
AsyncAPI document (`/api/v1/schema/socket/`) to find the room socket and to check every frame it
sends and receives; then it joins as a guest through the link, waits in the lobby until a host
lets it in, opens the room socket, publishes silence and two receive slots over WebRTC (aiortc,
with ICE host candidates limited to `--ice-address` and no STUN or TURN server but the
room's own), waits for the media connection, and leaves.

Nothing here comes from Rooms' source: only the standard library, httpx, websockets, aiortc and
jsonschema. Each step prints one line; the exit status is 0 when the whole visit worked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
import websockets
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import AudioStreamTrack
from jsonschema import Draft7Validator

Frame = dict[str, Any]


class ContractError(Exception):
    """A frame that does not match the socket schema."""


class SocketContract:
    """The AsyncAPI document's room channel: which messages go which way, and their schemas."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        components = document["components"]
        self.validators: dict[tuple[str, str], list[Draft7Validator]] = {}
        for operation in document["operations"].values():
            if operation["channel"]["$ref"] != "#/channels/room":
                continue
            for ref in operation["messages"]:
                message = self._resolve(ref["$ref"])
                payload = message["payload"]
                validator = Draft7Validator({**payload, "components": components})
                key = (operation["action"], message["name"])
                self.validators.setdefault(key, []).append(validator)

    def _resolve(self, pointer: str) -> dict[str, Any]:
        node: Any = self.document
        for part in pointer.removeprefix("#/").split("/"):
            node = node[part]
        if "$ref" in node:
            return self._resolve(node["$ref"])
        result: dict[str, Any] = node
        return result

    def room_address(self, token: str) -> str:
        """The room socket's path, from the server entry and the channel's address."""
        server = self.document["servers"]["site"]
        prefix = server["pathname"].rstrip("/")
        address = self.document["channels"]["room"]["address"].replace("{token}", token)
        return f"{prefix}/{address}"

    def check(self, action: str, frame: Frame) -> None:
        """`action` as the server sees it: "receive" for what we send, "send" for what we
        get."""
        validators = self.validators.get((action, str(frame.get("type"))))
        if not validators:
            raise ContractError(f"{action}: {frame.get('type')!r} is not in the socket schema")
        if not any(v.is_valid(frame) for v in validators):
            errors = [e.message for v in validators for e in v.iter_errors(frame)]
            raise ContractError(f"{action} {frame['type']}: {errors[:3]}")


def join_path(openapi: dict[str, Any]) -> str:
    """The join operation's path template (`.../rooms/{token}/join/`, POST)."""
    for path, operations in sorted(openapi["paths"].items(), key=lambda item: len(item[0])):
        if path.endswith("/{token}/join/") and "post" in operations:
            return path
    raise LookupError("the OpenAPI document has no join operation")


class Visit:
    def __init__(self, link: str, name: str, ice_address: str, timeout: float) -> None:
        parts = urlsplit(link)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        segments = [s for s in parts.path.split("/") if s]
        self.token = segments[-1]
        self.name = name
        self.ice_address = ice_address
        self.timeout = timeout
        self.http = httpx.AsyncClient(base_url=self.origin, timeout=timeout)
        self.frames: asyncio.Queue[Frame] = asyncio.Queue()

    def say(self, text: str) -> None:
        print(text, flush=True)

    async def run(self) -> None:
        openapi = (await self.http.get("/api/schema/", params={"format": "json"})).json()
        socket_document = (await self.http.get("/api/v1/schema/socket/")).json()
        self.contract = SocketContract(socket_document)
        self.say(f"schemas: OpenAPI {openapi['openapi']}, AsyncAPI {socket_document['asyncapi']}")

        # Join as a guest: no account, a display name; the server sets the guest cookie.
        path = join_path(openapi).replace("{token}", self.token)
        response = await self.http.post(path, json={"display_name": self.name})
        if response.status_code != 200:
            raise RuntimeError(f"join refused: {response.status_code} {response.text}")
        joined = response.json()
        decision = joined["decision"]
        self.say(f"joined: {decision['outcome']} ({decision['reason']})")

        scheme = "wss" if self.origin.startswith("https") else "ws"
        url = f"{scheme}://{urlsplit(self.origin).netloc}"
        url += f"{self.contract.room_address(self.token)}?ticket={joined['ticket']}"
        cookies = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        async with websockets.connect(
            url,
            origin=websockets.Origin(self.origin),
            additional_headers={"Cookie": cookies} if cookies else {},
            max_size=2**20,
        ) as ws:
            self.ws = ws
            reader = asyncio.create_task(self._read())
            try:
                await self._visit()
            finally:
                reader.cancel()
        await self.http.aclose()

    async def _read(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            self.contract.check("send", frame)
            await self.frames.put(frame)

    async def send(self, frame: Frame) -> None:
        self.contract.check("receive", frame)
        await self.ws.send(json.dumps(frame))

    async def expect(self, *kinds: str) -> Frame:
        """The next frame of one of `kinds`; others are skipped (an error is raised)."""
        while True:
            frame = await asyncio.wait_for(self.frames.get(), self.timeout)
            if frame["type"] in kinds:
                return frame
            if frame["type"] == "error" or frame["type"] in ("removed", "lobby.denied"):
                raise RuntimeError(f"refused: {frame}")

    async def _visit(self) -> None:
        hello = await self.expect("hello")
        self.say(f"socket open (resume token of {len(hello['resume_token'])} characters)")
        frame = await self.expect("lobby.status", "snapshot")
        while frame["type"] == "lobby.status":
            self.say(f"waiting in the lobby: {frame['reason']}")
            frame = await self.expect("lobby.status", "snapshot")
        you = frame["you"]
        self.say(f"admitted as participant {you['id']} at version {frame['version']}")

        # Media: our own ICE configuration (the room's TURN servers if any, no STUN), host
        # candidates on the given address only.
        import aioice.ice

        address = self.ice_address
        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [address]
        servers = [
            RTCIceServer(urls=s["urls"], username=s["username"], credential=s["credential"])
            for s in you["ice_servers"]
        ]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        connected = asyncio.Event()

        @pc.on("connectionstatechange")
        def _state() -> None:
            if pc.connectionState == "connected":
                connected.set()

        pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        pc.addTransceiver("audio", direction="recvonly")
        pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        offer_id = uuid.uuid4().hex
        await self.send(
            {"type": "media.offer", "sdp": pc.localDescription.sdp, "offer_id": offer_id}
        )
        while True:
            answer = await self.expect("media.answer")
            if answer.get("offer_id") == offer_id:
                break
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        self.say("offer answered")
        await asyncio.wait_for(connected.wait(), self.timeout)
        self.say("media connected")

        await self.send({"type": "leave"})
        await self.expect("left")
        await pc.close()
        self.say("left")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("link", help="the room's link, http(s)://host/.../r/<token>/")
    parser.add_argument("--name", default="Guest")
    parser.add_argument("--ice-address", default="127.0.0.1", help="our ICE host candidate")
    parser.add_argument("--timeout", type=float, default=60.0, help="per step, in seconds")
    args = parser.parse_args()
    try:
        asyncio.run(Visit(args.link, args.name, args.ice_address, args.timeout).run())
    except (ContractError, RuntimeError, TimeoutError, OSError) as error:
        print(f"failed: {error!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A room client that joins as a browser does: the join API, then the room socket.

Used by the bots (tests, the benchmarks, the command line). It keeps the live room state with
the same reducer as every client (`rooms.snapshots.apply_event`), relays media negotiation for
a `Bot`, and re-offers when the SFU asks for more receive slots. Like the web client
(rooms/static/rooms/js/room/media.js) it moves to another SFU worker on `media.state` "moving",
builds a new media connection when the server says the old one is gone (`media.state`
"failed") or the connection itself fails, and can resume its socket (through another web
process too) with the resume token of its last `hello`.

    python -m rooms.mediabot.client --url http://127.0.0.1:8000 --room <token> --bots 3 \
        --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import websockets
from websockets.typing import Origin

from rooms.sfu.ice import use_host_addresses
from rooms.snapshots import Snapshot, apply_event

from .bot import Bot

logger = logging.getLogger(__name__)

# Between attempts to build a new media connection (the web client waits as long).
MEDIA_RETRY_SECONDS = 2.0
# `media.state` "failed" reasons that mean the server dropped this person's media peer, what
# ever connection it was: a new one is built even when ours still looks connected.
PEER_DROPPED = frozenset({"media_reset", "worker_moved"})
# What the server says before it closes the socket for good (rooms/consumers.py `_finish`).
VISIT_OVER = frozenset({"removed", "room.ended", "lobby.denied", "left", "replaced"})


class JoinRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


class RoomClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        name: str = "Bot",
        api_token: str | None = None,
        password: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.name = name
        self.password = password
        self._api_token = api_token
        headers = {"Authorization": f"Token {api_token}"} if api_token else {}
        self.http = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=10)
        self.ws: Any = None
        self.participant_id: int | None = None
        self.snapshot: Snapshot | None = None
        self.lobby_reason = ""
        self.resume_token = ""
        self.closed_with: int | None = None
        self.messages: list[dict[str, Any]] = []
        # mid -> {"participant_id", "kind"} (audio, camera or screen), None when idle.
        self.slots: dict[str, dict[str, Any] | None] = {}
        self.bot: Bot | None = None
        # Bots before a move (make before break): closed once the new one is connected.
        self.retired: list[Bot] = []
        self._bot_options: dict[str, Any] = {}
        self._answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._negotiating = asyncio.Lock()
        self._offers = 0
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._renegotiations: set[asyncio.Task[None]] = set()
        self._resync: asyncio.Task[None] | None = None
        self._restart: asyncio.Task[None] | None = None
        self._restart_wanted = False
        # From the start of a rebuild until the answer to its offer: a peer-dropped notice
        # that arrives meanwhile is about the connection being replaced (a worker posts its
        # notices and answers in order; the server's own come before our offer).
        self._replacing = False
        self._media_started = False
        self._media_over = False
        self.joined_at = 0.0
        # New media connections built after the first (each rebuild and each move).
        self.media_restarts = 0

    # --- joining -------------------------------------------------------------------------

    async def join(self) -> dict[str, Any]:
        """Call the join API and open the room socket with its ticket."""
        self.joined_at = time.monotonic()
        body: dict[str, Any] = {"display_name": self.name}
        if self.password is not None:
            body["password"] = self.password
        response = await self.http.post(f"/api/rooms/{self.token}/join/", json=body)
        data: dict[str, Any] = response.json()
        if response.status_code != 200:
            error = data.get("error", {})
            raise JoinRefused(response.status_code, error.get("code", ""), error.get("message", ""))
        self.participant_id = data["participant"]["id"]
        await self._connect(f"ticket={data['ticket']}")
        return data

    async def resume(self, base_url: str | None = None) -> None:
        """Open the room socket again after it dropped, with the resume token of the last
        `hello`, as a browser does; through another web process when `base_url` is given.
        The seat is kept: no join through the API. A refused resume raises (the handshake is
        refused) or ends with `closed_with` set (4503: worth another try). Once the socket is
        back, a media connection that failed meanwhile is built again."""
        if self._reader is not None and not self._reader.done():
            await self.ws.close()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if base_url is not None:
            self.base_url = base_url.rstrip("/")
            self.http.base_url = httpx.URL(self.base_url)
        self.closed_with = None
        self.snapshot = None
        await self._connect(f"resume={quote(self.resume_token, safe='')}")
        if self._media_started and (self._restart_wanted or self._media_failed()):
            self._restart_media()

    async def _connect(self, query: str) -> None:
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        # The socket routes sit under the same prefix as the site's Rooms URLs (base_url's path).
        url = f"{scheme}://{parts.netloc}{parts.path}/ws/rooms/{self.token}/?{query}"
        origin = Origin(f"{parts.scheme}://{parts.netloc}")
        # An API client shows its token on the socket too: a resume checks the account. A
        # guest is known by the cookie the join API set, which a browser sends on the socket.
        headers = {"Authorization": self.http.headers["Authorization"]} if self._api_token else {}
        cookies = "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())
        if cookies:
            headers["Cookie"] = cookies
        self.ws = await websockets.connect(
            url, origin=origin, additional_headers=headers, max_size=2**20
        )
        self._reader = asyncio.create_task(self._read())

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0 or self.closed_with is not None:
                return predicate()
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return True

    @property
    def admitted(self) -> bool:
        return self.snapshot is not None and self.closed_with is None

    # --- the socket ------------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self._on_message(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed_with = self.ws.close_code or 1006
            self._changed.set()

    def _on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        self.messages.append(message)
        if kind == "hello":
            self.resume_token = message["resume_token"]
        elif kind == "snapshot":
            self.snapshot = {k: message[k] for k in ("version", "room", "roster")}  # type: ignore[assignment]
        elif kind == "lobby.status":
            self.lobby_reason = message["reason"]
        elif kind == "media.answer" or (
            kind == "error" and str(message.get("regarding", "")).startswith("media")
        ):
            self._answers.put_nowait(message)
        elif kind == "media.renegotiate" and self.bot is not None:
            audio, video = message["audio_slots"], message["video_slots"]
            task = asyncio.create_task(self._renegotiate(audio, video))
            self._renegotiations.add(task)
            task.add_done_callback(self._renegotiations.discard)
        elif kind == "media.state" and message.get("state") == "moving" and self.bot is not None:
            # The room moved to another SFU worker: connect there while the old connection
            # still plays, then leave the old one.
            task = asyncio.create_task(self._move())
            self._renegotiations.add(task)
            task.add_done_callback(self._renegotiations.discard)
        elif kind == "media.state" and message.get("state") == "failed" and self._media_started:
            # The server dropped our peer (a worker that lost its commands, a moved room, a
            # seat that was marked dropped). Any other failure is about one connection: the
            # one we just left (after a move or a rebuild) changes nothing, and ours failing
            # is seen on ours as well.
            dropped = message.get("reason") in PEER_DROPPED and not self._replacing
            if dropped or self._media_failed():
                self._restart_media()
        elif kind in VISIT_OVER:
            self._media_over = True  # no new media connection for a visit that is over
        elif kind == "media.slots":
            self.slots = dict(message["slots"])
        elif self.snapshot is not None and "version" in message:
            updated = apply_event(self.snapshot, message)
            if updated is None:
                self._resync = asyncio.create_task(self.send({"type": "snapshot.request"}))
            else:
                self.snapshot = updated
        self._changed.set()

    # --- media -----------------------------------------------------------------------------

    async def signaling(self, offer_sdp: str) -> str:
        """The bot's signaling: offer over the room socket, wait for the SFU's answer.

        Called with `_negotiating` held, so one offer is out at a time. Each offer carries an
        id the server echoes: a reply to an earlier offer (one that timed out) is skipped.
        """
        self._offers += 1
        offer_id = f"{self.participant_id}-{self._offers}"
        await self.send({"type": "media.offer", "sdp": offer_sdp, "offer_id": offer_id})
        deadline = time.monotonic() + 15
        while True:
            reply = await asyncio.wait_for(
                self._answers.get(), max(0.0, deadline - time.monotonic())
            )
            if reply.get("offer_id") in (offer_id, None):
                break
        self._replacing = False
        if reply["type"] != "media.answer":
            raise ConnectionError(f"offer refused: {reply.get('code')}: {reply.get('message')}")
        return str(reply["sdp"])

    def new_bot(self, **bot_options: Any) -> Bot:
        """A bot for a new media connection (subclasses use their own kind of bot)."""
        return Bot(self.name, self.signaling, **bot_options)

    async def start_media(self, **bot_options: Any) -> Bot:
        self._bot_options = bot_options
        self.bot = self._watched(self.new_bot(**bot_options))
        async with self._negotiating:
            await self.bot.start()
        self._media_started = True
        return self.bot

    def _watched(self, bot: Bot) -> Bot:
        # Like the web client: our own connection failing (or closed by the other end) is
        # rebuilt too, not only what the server tells us.
        def changed() -> None:
            if bot is self.bot and self._media_started and self._media_failed():
                self._restart_media()

        bot.pc.on("connectionstatechange", changed)
        return bot

    def _media_failed(self) -> bool:
        return self.bot is not None and self.bot.pc.connectionState in ("failed", "closed")

    def _next_options(self, old: Bot) -> dict[str, Any]:
        # As many receive slots as the old connection had been asked for.
        options = dict(self._bot_options)
        options["audio_slots"], options["video_slots"] = old.wanted_slots
        return options

    async def _move(self) -> None:
        async with self._negotiating:
            old = self.bot
            if old is None:
                return
            new = self._watched(self.new_bot(**self._next_options(old)))
            await new.start()
            self.media_restarts += 1
            self.bot = new
            self.retired.append(old)
            await old.close()

    def _restart_media(self) -> None:
        """Build a new media connection, once for any number of requests that arrive before
        it starts; one asked while it negotiates builds another after it."""
        self._restart_wanted = True
        if self._media_over or (self._restart is not None and not self._restart.done()):
            return
        self._restart = asyncio.create_task(self._restart_loop())
        self._renegotiations.add(self._restart)
        self._restart.add_done_callback(self._renegotiations.discard)

    async def _restart_loop(self) -> None:
        while self._restart_wanted and self.closed_with is None and not self._media_over:
            async with self._negotiating:
                self._restart_wanted = False
                self._replacing = True
                old = self.bot
                if old is None:
                    return
                # Break before make, as the web client does: the old peer is gone already.
                new = self._watched(self.new_bot(**self._next_options(old)))
                self.bot = new
                self.retired.append(old)
                await old.close()
                self.media_restarts += 1
                try:
                    await new.start()
                    continue
                except Exception as error:  # whatever failed, the next attempt starts afresh
                    logger.info("%s: new media connection failed (%r); retrying", self.name, error)
                    self._restart_wanted = True
                finally:
                    self._replacing = False
            # Offered while the worker was not taking commands, or refused: try again soon.
            # A closed socket stops here; `resume` starts again once it is back.
            await asyncio.sleep(MEDIA_RETRY_SECONDS)

    async def _renegotiate(self, audio_slots: int, video_slots: int) -> None:
        # After the negotiation in progress, never beside it (aiortc: one offer at a time).
        async with self._negotiating:
            if self.bot is not None:
                await self.bot.renegotiate(audio_slots, video_slots)

    async def close(self) -> None:
        self._media_over = True
        for task in (*self._renegotiations, self._resync):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.bot is not None:
            await self.bot.close()
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.http.aclose()


def _admitted(client: RoomClient) -> bool:
    return client.admitted


async def _run_bots(args: argparse.Namespace) -> None:
    if args.ice_address:
        use_host_addresses(tuple(args.ice_address))
    clients = [
        RoomClient(args.url, args.room, name=f"Bot {n + 1}", password=args.password)
        for n in range(args.bots)
    ]
    try:
        for n, client in enumerate(clients):
            await client.join()
            if not await client.wait_until(functools.partial(_admitted, client), timeout=30):
                print(f"{client.name}: not admitted ({client.lobby_reason or client.closed_with})")
                continue
            await client.start_media(variant=n % 3, audio_level=30 if n == 0 else 60)
        await asyncio.sleep(args.duration)
        for client in clients:
            bot = client.bot
            if bot is None:
                continue
            video = sum(s.packets for s in bot.streams("video"))
            audio = sum(s.packets for s in bot.streams("audio"))
            decoded = sum(s.frames_decoded for s in bot.streams("video"))
            print(f"{client.name}: {video} video / {audio} audio packets, {decoded} frames decoded")
    finally:
        for client in clients:
            await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Join a room with bots that publish media.")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--room", required=True, help="the room's link token")
    parser.add_argument("--bots", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--password", default=None)
    parser.add_argument(
        "--ice-address",
        action="append",
        default=[],
        help="an address the bots offer as ICE candidates (repeatable; e.g. 127.0.0.1)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_run_bots(args))


if __name__ == "__main__":
    main()

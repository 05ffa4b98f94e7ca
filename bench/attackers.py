"""The attackers of bench/abuse.py: each runs in a process of its own, so its own work does not
delay the honest clients the bench times in the main process.

Every function here is called in a spawned process (`run_attacker`): it waits until `start_at`
(time.time(), shared by both processes), attacks until `stop_at`, and returns a plain dict of
counts with the instants it actually started and stopped. Nothing imports Django: the attackers
know the servers only by their URLs, as a client on the network would.

Addresses: the bench's servers trust one proxy (ROOMS_TRUSTED_PROXY_COUNT=1), so on loopback an
`X-Forwarded-For` header stands for the address a proxy would have seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import multiprocessing
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin

from bench.passwords import attacker_address

REQUEST_TIMEOUT = 10.0
# A flooder sends this many messages, then waits for the server to answer a ping. Writing
# without waiting is another attack (see bench/README.md): the server queues every frame.
FLOOD_BATCH = 10
PONG_WAIT = 2.0
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@contextlib.contextmanager
def run_attacker(
    function: Callable[..., dict[str, Any]], *args: Any, timeout: float
) -> Iterator[Callable[[], dict[str, Any]]]:
    """Start `function(*args)` in a spawned process; the block gets a callable that waits (at
    most `timeout` seconds from now) for its result. The process is ended on leaving the block,
    finished or not."""
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        pending = pool.apply_async(function, args)
        deadline = time.monotonic() + timeout

        def result() -> dict[str, Any]:
            counts: dict[str, Any] = pending.get(timeout=max(1.0, deadline - time.monotonic()))
            return counts

        yield result
    finally:
        pool.terminate()
        pool.join()


async def _until(instant: float) -> None:
    await asyncio.sleep(max(0.0, instant - time.time()))


def _error_code(response: httpx.Response) -> str:
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        return str(response.json().get("error", {}).get("code", ""))
    return ""


# --- log-in guesses --------------------------------------------------------------------------

# What each answer means: the password was compared (and wrong), the limiter refused to compare
# it, or the guess got in.
_FORM_OUTCOMES = {200: "checked", 302: "in", 429: "refused"}
_TOKEN_OUTCOMES = {400: "checked", 200: "in", 429: "refused"}


def guess_logins(
    base_url: str, username: str, start_at: float, stop_at: float, clients: int
) -> dict[str, Any]:
    """`clients` parallel clients guess `username`'s password as fast as the server answers,
    half through the HTML log-in form and half through POST /api/auth/token/, every guess from
    another address. Returns {"form": {outcome: n}, "token": {...}, "started", "stopped"}."""
    return asyncio.run(_guess_logins(base_url, username, start_at, stop_at, clients))


async def _guess_logins(
    base_url: str, username: str, start_at: float, stop_at: float, clients: int
) -> dict[str, Any]:
    tallies: dict[str, Counter[str]] = {"form": Counter(), "token": Counter()}
    guesses = itertools.count(1)

    async def client(kind: str) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT) as http:
            csrf = ""
            if kind == "form":
                page = await http.get("/accounts/login/")
                found = CSRF_FIELD.search(page.text)
                if found is None:
                    raise RuntimeError(f"no CSRF field on the log-in page ({page.status_code})")
                csrf = found.group(1)
            await _until(start_at)
            while time.time() < stop_at:
                n = next(guesses)
                password = f"wrong-{n}"
                headers = {"X-Forwarded-For": attacker_address(n)}  # a new one every guess
                try:
                    if kind == "form":
                        form = {"username": username, "password": password}
                        response = await http.post(
                            "/accounts/login/",
                            data={**form, "csrfmiddlewaretoken": csrf},
                            headers=headers,
                        )
                        outcome = _FORM_OUTCOMES.get(response.status_code)
                    else:
                        response = await http.post(
                            "/api/auth/token/",
                            json={"username": username, "password": password},
                            headers=headers,
                        )
                        outcome = _TOKEN_OUTCOMES.get(response.status_code)
                except httpx.HTTPError as error:
                    tallies[kind][f"no answer ({type(error).__name__})"] += 1
                    continue
                tallies[kind][outcome or f"other {response.status_code}"] += 1

    kinds = ["form" if n % 2 == 0 else "token" for n in range(clients)]
    await _until(start_at)
    started = time.time()
    await asyncio.gather(*(client(kind) for kind in kinds))
    return {
        "form": dict(tallies["form"]),
        "token": dict(tallies["token"]),
        "started": started,
        "stopped": time.time(),
    }


# --- room password guesses -------------------------------------------------------------------


def guess_room_password(
    base_url: str, token: str, addresses: int, start_at: float, stop_at: float, clients: int
) -> dict[str, Any]:
    """`clients` parallel clients send wrong passwords to the room's join API as fast as the
    server answers (Retry-After ignored), each guess without cookies (a new guest) and from the
    next of `addresses` addresses in turn. Returns {"answers": {"<status> <code>": n}, ...}."""
    return asyncio.run(_guess_room_password(base_url, token, addresses, start_at, stop_at, clients))


async def _guess_room_password(
    base_url: str, token: str, addresses: int, start_at: float, stop_at: float, clients: int
) -> dict[str, Any]:
    answers: Counter[str] = Counter()
    guesses = itertools.count(1)

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT) as http:
            while time.time() < stop_at:
                n = next(guesses)
                http.cookies.clear()
                try:
                    response = await http.post(
                        f"/api/rooms/{token}/join/",
                        json={"display_name": "Guesser", "password": f"guess-{n:08d}"},
                        headers={"X-Forwarded-For": attacker_address(n % addresses)},
                    )
                except httpx.HTTPError as error:
                    answers[f"no answer ({type(error).__name__})"] += 1
                    continue
                answers[f"{response.status_code} {_error_code(response)}".strip()] += 1

    await _until(start_at)
    started = time.time()
    await asyncio.gather(*(client() for _ in range(clients)))
    return {"answers": dict(answers), "started": started, "stopped": time.time()}


# --- a socket flood --------------------------------------------------------------------------


def flood_hands(
    servers: list[tuple[str, str]], token: str, start_at: float, stop_at: float, cookies: bool
) -> dict[str, Any]:
    """A guest that raises and lowers its hand as fast as the server handles it and joins
    again (a new join API call, a new socket, on the next of `servers`: (http URL, ws URL))
    whenever its socket is closed. With `cookies` it keeps its cookie jar, as a browser does;
    without, every join is a new guest. Returns the participant ids it had, and counts."""
    return asyncio.run(_flood_hands(servers, token, start_at, stop_at, cookies))


class _FloodSocket:
    """One socket of the flooder. It follows its own hand in what the room says, so that every
    hand.set it sends asks for a change (a change refused leaves the hand where it was)."""

    def __init__(self, ws: ClientConnection, participant_id: int, counts: Counter[str]) -> None:
        self.ws = ws
        self.participant_id = participant_id
        self.counts = counts
        self.raised = False
        self.pong = asyncio.Event()

    async def read(self) -> None:
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "error":
                    self.counts[f"error {message.get('code')}"] += 1
                elif kind == "pong":
                    self.pong.set()
                elif kind == "snapshot":
                    self.raised = bool(message["you"]["hand_raised"])
                elif message.get("participant", {}).get("id") == self.participant_id:
                    self.raised = bool(message["participant"].get("hand_raised"))
        except ConnectionClosed:
            pass
        finally:
            self.pong.set()  # nothing more will come

    async def flood(self, stop_at: float) -> None:
        """FLOOD_BATCH changes at a time, each batch followed by a ping whose pong says the
        server has handled it: as fast as the server handles them, with no more than a batch
        waiting in its queue."""
        reader = asyncio.create_task(self.read())
        try:
            while time.time() < stop_at and not reader.done():
                raised = not self.raised
                for _ in range(FLOOD_BATCH):
                    await self.ws.send(json.dumps({"type": "hand.set", "raised": raised}))
                    self.counts["hand.set sent"] += 1
                    raised = not raised
                self.pong.clear()
                await self.ws.send(json.dumps({"type": "ping"}))
                # The server drops a message it answers with `slow_down`, maybe this ping.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.pong.wait(), PONG_WAIT)
        except ConnectionClosed:
            pass
        finally:
            if not reader.done():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.ws.close(), 2)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), 3)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def _flood_hands(
    servers: list[tuple[str, str]], token: str, start_at: float, stop_at: float, cookies: bool
) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    participants: list[int] = []
    # One client for every server: they share a host name, so they share the guest's cookies.
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as http:
        await _until(start_at)
        started = time.time()
        for turn in itertools.count():
            if time.time() >= stop_at:
                break
            base, ws_base = servers[turn % len(servers)]
            if not cookies:
                http.cookies.clear()
            try:
                response = await http.post(
                    f"{base}/api/rooms/{token}/join/", json={"display_name": "Flooder"}
                )
            except httpx.HTTPError as error:
                counts[f"join: no answer ({type(error).__name__})"] += 1
                continue
            if response.status_code != 200:
                counts[f"join {response.status_code} {_error_code(response)}".strip()] += 1
                wait = float(response.headers.get("Retry-After") or 1)
                await asyncio.sleep(min(wait, max(0.0, stop_at - time.time())))
                continue
            joined = response.json()
            if joined["decision"]["outcome"] != "admit":
                counts[f"join {joined['decision']['outcome']}"] += 1
                await asyncio.sleep(min(1.0, max(0.0, stop_at - time.time())))
                continue
            participant_id = joined["participant"]["id"]
            if participant_id not in participants:
                participants.append(participant_id)
            try:
                async with connect(
                    f"{ws_base}/ws/rooms/{token}/?ticket={joined['ticket']}",
                    origin=Origin(base),
                    open_timeout=REQUEST_TIMEOUT,
                    close_timeout=2,
                    ping_interval=None,
                ) as ws:
                    counts["sockets"] += 1
                    await _FloodSocket(ws, participant_id, counts).flood(stop_at)
                    if time.time() < stop_at:
                        counts[f"closed by the server ({ws.close_code})"] += 1
            except (OSError, TimeoutError, InvalidHandshake) as error:
                counts[f"socket refused ({type(error).__name__})"] += 1
    return {
        "participants": participants,
        "counts": dict(counts),
        "started": started,
        "stopped": time.time(),
    }


# --- frames written without waiting ----------------------------------------------------------


def write_frames(
    base_url: str, ws_base: str, token: str, start_at: float, stop_at: float
) -> dict[str, Any]:
    """A guest joins and writes hand.set frames on its socket as fast as its own connection
    takes them, without waiting for any answer, until `stop_at`; then closes the socket."""
    return asyncio.run(_write_frames(base_url, ws_base, token, start_at, stop_at))


async def _write_frames(
    base_url: str, ws_base: str, token: str, start_at: float, stop_at: float
) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT) as http:
        response = await http.post(f"/api/rooms/{token}/join/", json={"display_name": "Writer"})
        response.raise_for_status()
        joined = response.json()
    async with connect(
        f"{ws_base}/ws/rooms/{token}/?ticket={joined['ticket']}",
        origin=Origin(base_url),
        open_timeout=REQUEST_TIMEOUT,
        close_timeout=2,
        ping_interval=None,
    ) as ws:
        socket = _FloodSocket(ws, joined["participant"]["id"], counts)
        reader = asyncio.create_task(socket.read())
        await _until(start_at)
        started = time.time()
        raised = True
        try:
            while time.time() < stop_at and not reader.done():
                await ws.send(json.dumps({"type": "hand.set", "raised": raised}))
                counts["frames written"] += 1
                raised = not raised
                await asyncio.sleep(0)  # the reader gets its turn
        except ConnectionClosed:
            pass
        stopped = time.time()
        if reader.done() or ws.close_code is not None:
            counts[f"closed by the server ({ws.close_code})"] += 1
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    return {"counts": dict(counts), "started": started, "stopped": stopped}

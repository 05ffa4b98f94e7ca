"""How the tests use the site: as browsers do (a cookie jar, the CSRF token, the URLs and
configuration a page hands its scripts, WebSockets with the page's Origin), and the steps a
member's browser takes in Rooms."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
from django.urls import reverse
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

PASSWORD = "hostsite-pass-2026"

_CONFIG = re.compile(
    r'<script id="(?P<id>[\w-]+)" type="application/json">(?P<json>.*?)</script>', re.S
)


def page_data(html: str) -> dict[str, Any]:
    """Every json_script block of a page, by element id, as the page's scripts read them."""
    return {m["id"]: json.loads(m["json"]) for m in _CONFIG.finditer(html)}


class Browser:
    """A browser's HTTP side: one cookie jar, the CSRF header the page's scripts send."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(base_url=url, timeout=15, follow_redirects=False)
        self.sockets: list[Socket] = []

    async def sign_in(self, email: str, password: str = PASSWORD) -> None:
        """Through the site's own log-in form."""
        page = await self.http.get("/login/")
        assert page.status_code == 200, page.text
        token = self.http.cookies["csrftoken"]
        answer = await self.http.post(
            "/login/",
            data={"csrfmiddlewaretoken": token, "username": email, "password": password},
        )
        assert answer.status_code == 302, answer.text
        assert "sessionid" in self.http.cookies

    async def get(self, url: str) -> httpx.Response:
        return await self.http.get(url)

    async def post(
        self, url: str, body: dict[str, Any] | None = None, *, csrf_token: str = ""
    ) -> httpx.Response:
        """A script's JSON POST, with the CSRF token its page gave it (by default the one in
        the CSRF cookie, as the site's own scripts send it)."""
        token = csrf_token or self.http.cookies.get("csrftoken")
        headers = {"X-CSRFToken": token} if token else {}
        return await self.http.post(url, json=body or {}, headers=headers)

    async def socket(self, path: str, *, origin: str = "") -> Socket:
        """A WebSocket to `path` on the site, from this browser: its cookies and the Origin of
        the page that opens it (the site's own, unless `origin` says another)."""
        url = self.url.replace("http", "ws", 1) + path
        cookies = "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())
        ws = await connect(
            url,
            origin=Origin(origin or self.url),
            additional_headers={"Cookie": cookies} if cookies else {},
            open_timeout=10,
            close_timeout=2,
            ping_interval=None,
        )
        self.sockets.append(Socket(ws))
        return self.sockets[-1]

    async def close(self) -> None:
        for each in self.sockets:
            await each.close()
        await self.http.aclose()


class Socket:
    """A room socket as the page's script holds it: JSON messages in, JSON messages out."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def expect(
        self,
        kind: str,
        timeout: float = 10.0,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """The next message of type `kind` (matching `where`), skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                kinds = [m.get("type") for m in self.seen[-10:]]
                raise AssertionError(f"no {kind!r} within {timeout}s; last seen: {kinds}")
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except ConnectionClosed as closed:
                raise AssertionError(
                    f"socket closed ({closed.rcvd}) waiting for {kind!r}; "
                    f"seen: {[m.get('type') for m in self.seen]}"
                ) from None
            except TimeoutError:
                continue
            message: dict[str, Any] = json.loads(raw)
            self.seen.append(message)
            if message.get("type") == kind and (where is None or where(message)):
                return message

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 3)


# --- what a member's browser does in Rooms ---------------------------------------------------

TITLE = "Tuesday book club"


def room_path(token: str) -> str:
    return reverse("rooms:room", kwargs={"token": token})


async def signed_in(browser: Callable[[], Browser], person: Any) -> Browser:
    opened = browser()
    await opened.sign_in(person.email)
    return opened


def api(name: str, **kwargs: str) -> str:
    """A Rooms API URL, where this site mounted it."""
    return reverse(f"rooms:{name}", kwargs=kwargs)


async def create_room(host: Browser, **fields: Any) -> dict[str, Any]:
    """What the site's 'start a room' button sends: the API, with the session and CSRF token."""
    answer = await host.post(api("api-rooms"), {"title": TITLE, **fields})
    assert answer.status_code == 201, answer.text
    room: dict[str, Any] = answer.json()
    return room


async def room_config(browser: Browser, token: str) -> dict[str, Any]:
    """Open the room page and read what it hands its scripts."""
    page = await browser.get(room_path(token))
    assert page.status_code == 200, page.text
    config: dict[str, Any] = page_data(page.text)["room-config"]
    return config


async def enter(
    browser: Browser, token: str, *, display_name: str = "", password: str | None = None
) -> tuple[dict[str, Any], Socket]:
    """What the room page's script does on Join, with the URLs and CSRF token the page gave it:
    the join API with the form's body (a name for a guest, the password when the room has
    one), then the room socket with the join's ticket."""
    config = await room_config(browser, token)
    answer = await browser.post(
        f"{config['urls']['api']}join/",
        {"display_name": display_name, "password": password},
        csrf_token=config["csrf_token"],
    )
    assert answer.status_code == 200, answer.text
    joined: dict[str, Any] = answer.json()
    ticket = quote(joined["ticket"], safe="")
    socket = await browser.socket(f"{config['urls']['socket']}?ticket={ticket}")
    hello = await socket.expect("hello")
    assert hello["resume_token"]
    return joined, socket


async def open_room(browser: Callable[[], Browser], host: Any) -> tuple[Browser, str, Socket]:
    """The host creates a room and goes in: the room is open, the host present."""
    page = await signed_in(browser, host)
    room = await create_room(page)
    joined, socket = await enter(page, room["token"])
    assert joined["decision"]["outcome"] == "admit"
    snapshot = await socket.expect("snapshot")
    assert snapshot["you"]["role"] == "host"
    return page, room["token"], socket


async def admit(host: Browser, token: str, participant_id: int) -> None:
    """What the host's Security panel does on "Let in": the room's API, as the page gave it."""
    config = await room_config(host, token)
    answer = await host.post(
        f"{config['urls']['api']}lobby/admit/",
        {"participant_ids": [participant_id]},
        csrf_token=config["csrf_token"],
    )
    assert answer.status_code == 200, answer.text


def names(snapshot: dict[str, Any]) -> list[str]:
    return sorted(p["display_name"] for p in snapshot["roster"])

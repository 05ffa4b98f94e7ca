"""Who is calling: the services' `Identity`, built from a request.

A signed-in caller is their account. Anyone else is a guest, known by a signed `rooms_guest`
cookie that the first join issues. Everyone who joins also gets a signed `rooms_device`
cookie, so a ban follows the browser (or cookie jar) even under a new guest identity or a
different account. A cookie that fails its signature or its age is treated as absent: the
caller simply becomes a new guest, never an error.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from rooms.addresses import client_address
from rooms.services import Identity
from rooms.users import signed_in

GUEST_COOKIE = "rooms_guest"
GUEST_SALT = "rooms.guest"
DEVICE_COOKIE = "rooms_device"
DEVICE_SALT = "rooms.device"
_SALTS = {GUEST_COOKIE: GUEST_SALT, DEVICE_COOKIE: DEVICE_SALT}
_ID = re.compile(r"[0-9a-f]{32}")


def _max_age() -> int:
    return settings.ROOMS_GUEST_COOKIE_DAYS * 86_400


@dataclass(frozen=True, slots=True)
class Caller:
    identity: Identity
    # Cookie name -> value to (re)send with the response: new ones, and renewed ones on join.
    cookies: dict[str, str] = field(default_factory=dict)


def _read(request: HttpRequest, name: str) -> str:
    value = request.get_signed_cookie(name, default="", salt=_SALTS[name], max_age=_max_age())
    # Signed by us, but check the shape anyway: ids are stored and compared as 32 hex chars.
    return value if isinstance(value, str) and _ID.fullmatch(value) else ""


def guest_id_from_cookies(cookies: Mapping[str, str]) -> str:
    """The signed guest id from a cookie mapping (a WebSocket handshake's), or "".

    Read through Django's own `get_signed_cookie`, so it matches `set_signed_cookie` whatever
    salt scheme the installed Django version uses (5.2 changed it)."""
    request = HttpRequest()
    request.COOKIES = dict(cookies)
    return _read(request, GUEST_COOKIE)


def caller_for(request: HttpRequest, *, display_name: str = "", issue: bool = False) -> Caller:
    """The caller's identity. With `issue`, missing guest/device ids are created, and all the
    ids in use are returned in `cookies` so `remember` renews them on the response."""
    user = signed_in(request.user)
    device_id = _read(request, DEVICE_COOKIE)
    guest_id = "" if user is not None else _read(request, GUEST_COOKIE)
    cookies: dict[str, str] = {}
    if issue:
        device_id = device_id or uuid.uuid4().hex
        cookies[DEVICE_COOKIE] = device_id
        if user is None:
            guest_id = guest_id or uuid.uuid4().hex
            cookies[GUEST_COOKIE] = guest_id
    identity = Identity(
        user=user,
        guest_id=guest_id,
        device_id=device_id,
        display_name=display_name,
        # Scopes the wrong-password counter: the connection's peer, or the client behind
        # ROOMS_TRUSTED_PROXY_COUNT proxies (rooms.addresses).
        client_key=client_address(request),
    )
    return Caller(identity=identity, cookies=cookies)


def remember(response: HttpResponseBase, caller: Caller) -> None:
    for name, value in caller.cookies.items():
        response.set_signed_cookie(
            name,
            value,
            salt=_SALTS[name],
            max_age=_max_age(),
            httponly=True,
            samesite="Lax",
            secure=not settings.DEBUG,
        )

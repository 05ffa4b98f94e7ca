"""The client's address: one notion for every address-based limit, HTTP and WebSocket alike.

By default it is the peer of the connection (`REMOTE_ADDR`; the ASGI scope's `client`), which a
client cannot choose. `X-Forwarded-For` is written by whoever sends the request, so it is read
only when `ROOMS_TRUSTED_PROXY_COUNT` says how many reverse proxies stand in front of the server:
each of them appends the address it received the request from, so with N proxies the client is
the N-th entry from the right. Entries further left came from the client and are never used.
A header with fewer entries than that did not pass through every proxy: the peer is used then.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest

# What limits key on when no address is known (an ASGI server that gives no client): one shared
# bucket, never "no limit".
UNKNOWN = "unknown"


def _normalised(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def _pick(peer: str, forwarded_for: Iterable[str]) -> str:
    trusted = settings.ROOMS_TRUSTED_PROXY_COUNT
    if trusted:
        entries = [entry.strip() for value in forwarded_for for entry in value.split(",")]
        if len(entries) >= trusted:
            return _normalised(entries[-trusted]) or UNKNOWN
    return _normalised(peer) or UNKNOWN


def client_address(request: HttpRequest) -> str:
    """The address of whoever sent this request, or UNKNOWN."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    return _pick(request.META.get("REMOTE_ADDR") or "", [forwarded] if forwarded else [])


def scope_client_address(scope: Mapping[str, Any]) -> str:
    """The same for an ASGI scope (a WebSocket handshake)."""
    client = scope.get("client")
    peer = str(client[0]) if client else ""
    forwarded = [
        value.decode("latin-1")
        for name, value in scope.get("headers", ())
        if name.lower() == b"x-forwarded-for"
    ]
    return _pick(peer, forwarded)

"""API clients on the sockets: a short-lived socket ticket, or `Authorization: Token <key>` on
the WebSocket handshake.

Browsers cannot set headers on a WebSocket and are known by their session cookie
(`channels.auth.AuthMiddlewareStack`). An API client has no session: it asks the API for a
socket ticket (`POST <prefix>api/sockets/ticket/`, with its token or a session) and opens a
socket with `?auth=<ticket>`: the feed socket, or the room socket's resume (`?resume=`, which
checks that the same account is on the new connection). A ticket names one account, works
once, within `TICKET_SECONDS`, and wins over a session cookie on the same connection. Clients
that can set headers may send `Authorization: Token <key>` instead (`TokenAuthMiddleware`). An
invalid ticket or token is not an error here: the connection is anonymous and the socket decides
what that means.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth import get_user_model
from django.core.cache import cache

from rooms.users import User, signed_in

TICKET_SECONDS = 60
_TICKET_BYTES = 24


def _ticket_key(ticket: str) -> str:
    # The cache holds a digest: whoever reads the cache cannot open sockets with it.
    return "rooms:socket-ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(user: User) -> str:
    """A single-use ticket naming `user` on either socket for `TICKET_SECONDS`."""
    ticket = secrets.token_urlsafe(_TICKET_BYTES)
    cache.set(_ticket_key(ticket), user.pk, timeout=TICKET_SECONDS)
    return ticket


def redeem_ticket(ticket: str) -> User | None:
    """The account a ticket names, once; None for an unknown, spent or expired one."""
    if not 0 < len(ticket) <= 64:
        return None
    key = _ticket_key(ticket)
    user_id = cache.get(key)
    # Only the caller whose delete removed the entry wins a race between two redeems.
    if user_id is None or not cache.delete(key):
        return None
    user: User | None = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return user


async def ticket_user(scope: Any) -> User | None:
    """The account named by the connection's `?auth=` ticket (spending it), if any."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    ticket = query.get("auth", [""])[0]
    if not ticket:
        return None
    found: User | None = await database_sync_to_async(redeem_ticket)(ticket)
    return found


async def socket_user(scope: Any) -> User | None:
    """Who is on this connection: a socket ticket, else the session or token the middleware
    put in the scope."""
    found = await ticket_user(scope)
    return found if found is not None else signed_in(scope.get("user"))


def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    """Put inside `AuthMiddlewareStack`: a token wins over an anonymous session."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            header = dict(scope.get("headers", [])).get(b"authorization", b"")
            kind, _, key = header.decode("latin-1").partition(" ")
            if kind.lower() == "token" and 0 < len(key.strip()) <= 64:
                found = await database_sync_to_async(_user_for_token)(key.strip())
                if found is not None:
                    scope = {**scope, "user": found}
        return await super().__call__(scope, receive, send)

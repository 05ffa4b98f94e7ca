"""API clients on the sockets: `Authorization: Token <key>` on the WebSocket handshake.

Browsers cannot set headers on a WebSocket and are known by their session cookie
(`channels.auth.AuthMiddlewareStack`). An API client has no session: without this, its resume
(`?resume=`, which checks that the same account is on the new connection) was always refused.
A valid token names the account, as it does on the API; an invalid one is not an error here
(the connection is anonymous and the socket decides what that means).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware


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

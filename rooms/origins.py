"""Which pages may open the room and feed sockets: exact origins (scheme, host and port).

A browser sends the page's origin with every WebSocket handshake, and cookies go along whatever
page opens the socket, so this check is what keeps another site's page from acting as a signed-in
visitor. Host names alone are not enough: another port on the same machine, or plain http next to
https, is another site.

Accepted, as Django accepts the Origin of a form POST: the socket's own origin (the scheme and
`Host` it was opened with, the host being one of `ALLOWED_HOSTS`), since the page and the socket
come from the same server, and each origin in `ROOMS_ALLOWED_ORIGINS` (the reference site
defaults it to `CSRF_TRUSTED_ORIGINS`). Every comparison is exact, default ports aside.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from rooms.addresses import scope_client_address

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_origin(value: str) -> str | None:
    """`scheme://host[:port]` in lower case with the default port left out, or None when
    `value` is not an http(s) origin (a path, credentials, a query, a wildcard or "null")."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or "*" in host:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    values = [v for k, v in scope.get("headers", ()) if k.lower() == name]
    if len(values) != 1:
        return None  # missing, or repeated (a browser sends exactly one)
    return bytes(values[0]).decode("latin-1")


def _is_secure(scope: Mapping[str, Any]) -> bool:
    # As Django's request.is_secure(): behind a TLS proxy the proxy says so in a header.
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure_value = proxy_header
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        value = _header(scope, header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "wss"


def own_origin(scope: Mapping[str, Any]) -> str | None:
    """The origin this socket was opened on, if its Host is one of ALLOWED_HOSTS."""
    host = _header(scope, b"host")
    if host is None:
        return None
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return canonical_origin(f"{'https' if _is_secure(scope) else 'http'}://{host}")


def accepted_origins(scope: Mapping[str, Any]) -> set[str]:
    configured = (canonical_origin(o) for o in settings.ROOMS_ALLOWED_ORIGINS)
    origins = {origin for origin in configured if origin is not None}
    own = own_origin(scope)
    if own is not None:
        origins.add(own)
    return origins


def origin_accepted(scope: Mapping[str, Any]) -> bool:
    origin = _header(scope, b"origin")
    canonical = canonical_origin(origin) if origin is not None else None
    return canonical is not None and canonical in accepted_origins(scope)


class OriginValidator:
    """ASGI middleware for the WebSocket router: refuses the handshake (403) unless the Origin
    is accepted. Wrap the socket routes with it, outside the auth middleware."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_accepted(scope):
            log.warning(
                "socket refused: origin %r is not accepted (client %s)",
                (_header(scope, b"origin") or "")[:200],
                scope_client_address(scope),
            )
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)

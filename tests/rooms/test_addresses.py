"""rooms.addresses: the client's address for every limit, from a request or a socket's scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from rooms.addresses import UNKNOWN, client_address, scope_client_address

# (trusted proxies, peer, X-Forwarded-For, the client's address)
TABLE = [
    # No proxy trusted: the header is whatever the client wrote, so it is ignored.
    (0, "198.51.100.9", None, "198.51.100.9"),
    (0, "198.51.100.9", "203.0.113.7", "198.51.100.9"),
    (0, "2001:db8::1", "203.0.113.7", "2001:db8::1"),
    # One proxy (the peer) appended the address it saw: the last entry. Anything the client
    # put in front of it is ignored.
    (1, "10.0.0.2", "203.0.113.7", "203.0.113.7"),
    (1, "10.0.0.2", "6.6.6.6, 203.0.113.7", "203.0.113.7"),
    (1, "10.0.0.2", " 6.6.6.6 ,203.0.113.7 ", "203.0.113.7"),
    # Two proxies: the outer one wrote the client, the inner one the outer proxy.
    (2, "10.0.0.3", "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
    # Fewer entries than trusted proxies: the request skipped a proxy; the peer it is.
    (2, "10.0.0.3", "203.0.113.7", "10.0.0.3"),
    (1, "10.0.0.2", None, "10.0.0.2"),
    # What a trusted proxy wrote is not an address: one shared "unknown" bucket, never a pass.
    (1, "10.0.0.2", "6.6.6.6, garbage", UNKNOWN),
    (0, "", None, UNKNOWN),
    # Normalised, so one address is one key however it is spelled.
    (1, "10.0.0.2", "2001:DB8:0:0::7", "2001:db8::7"),
]


@pytest.mark.parametrize(("trusted", "peer", "forwarded", "expected"), TABLE)
def test_client_address_of_a_request(
    settings: Any, trusted: int, peer: str, forwarded: str | None, expected: str
) -> None:
    settings.ROOMS_TRUSTED_PROXY_COUNT = trusted
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=peer, **headers)
    assert client_address(request) == expected


@pytest.mark.parametrize(("trusted", "peer", "forwarded", "expected"), TABLE)
def test_the_same_for_a_socket_scope(
    settings: Any, trusted: int, peer: str, forwarded: str | None, expected: str
) -> None:
    settings.ROOMS_TRUSTED_PROXY_COUNT = trusted
    headers = [(b"host", b"127.0.0.1")]
    if forwarded is not None:
        headers.append((b"x-forwarded-for", forwarded.encode()))
    scope = {"type": "websocket", "client": [peer, 51000] if peer else None, "headers": headers}
    assert scope_client_address(scope) == expected


def test_a_repeated_header_counts_as_one_list(settings: Any) -> None:
    # HTTP joins repeated headers with commas (Django does for requests); a scope keeps them
    # apart, and the rightmost entry is still the last proxy's.
    settings.ROOMS_TRUSTED_PROXY_COUNT = 1
    scope = {
        "type": "websocket",
        "client": ["10.0.0.2", 51000],
        "headers": [(b"x-forwarded-for", b"6.6.6.6"), (b"X-Forwarded-For", b"203.0.113.7")],
    }
    assert scope_client_address(scope) == "203.0.113.7"
    assert scope_client_address({"type": "websocket", "headers": []}) == UNKNOWN

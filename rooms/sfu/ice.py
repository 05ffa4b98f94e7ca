"""Which host addresses aioice offers as ICE candidates.

aioice gathers candidates from the module-level ``aioice.ice.get_host_addresses(use_ipv4,
use_ipv6)``, which lists every non-loopback interface. A worker bound to one interface, and the
tests (which must stay on 127.0.0.1), need that list to be configurable. The override is
process-wide because aioice looks the function up at gather time; install it once at start-up
(``Sfu`` does it from ``SfuConfig.ice_addresses``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import aioice.ice

_default_get_host_addresses: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses
_installed: tuple[str, ...] | None = None


def _validate(addresses: Sequence[str]) -> tuple[str, ...]:
    result = []
    for address in addresses:
        try:
            result.append(str(ipaddress.ip_address(address)))
        except ValueError:
            raise ValueError(f"not an IP address for ICE: {address!r}") from None
    return tuple(result)


def use_host_addresses(addresses: Sequence[str] | None) -> None:
    """Offer exactly ``addresses`` as host candidates; None or empty restores aioice's default."""
    global _installed
    if not addresses:
        aioice.ice.get_host_addresses = _default_get_host_addresses  # type: ignore[assignment]
        _installed = None
        return
    fixed = _validate(addresses)

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in fixed if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses
    _installed = fixed


def installed_host_addresses() -> tuple[str, ...] | None:
    return _installed


@contextmanager
def host_addresses(addresses: Sequence[str]) -> Iterator[None]:
    """Temporarily restrict host candidates (tests, tools)."""
    previous = _installed
    use_host_addresses(addresses)
    try:
        yield
    finally:
        use_host_addresses(previous)

"""Keep a worker's media sockets inside a UDP port range (for firewalls).

aioice binds every host candidate with `create_datagram_endpoint(local_addr=(address, 0))`
and has no port range option. A worker therefore runs on an event loop whose datagram
endpoints asked for "any port" take the first free port of the configured range instead.
Only the SFU worker process uses this loop; the kernel's range applies everywhere else.
"""

from __future__ import annotations

import errno
import threading
from typing import Any

import uvloop


class PortRange:
    """Hands out ports round-robin, so a port closed a moment ago is not reused at once."""

    def __init__(self, first: int, last: int) -> None:
        if not 1024 <= first <= last <= 65535:
            raise ValueError(f"bad UDP port range {first}-{last}")
        self.first, self.last = first, last
        self._cursor = first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.last - self.first + 1

    def candidates(self) -> list[int]:
        """Every port of the range, starting after the last one taken."""
        with self._lock:
            start = self._cursor - self.first
        ports = list(range(self.first, self.last + 1))
        return ports[start:] + ports[:start]

    def taken(self, port: int) -> None:
        with self._lock:
            self._cursor = port + 1 if port < self.last else self.first


class PortRangeLoop(uvloop.Loop):
    port_range: PortRange | None = None

    async def create_datagram_endpoint(
        self, protocol_factory: Any, local_addr: Any = None, remote_addr: Any = None, **kwargs: Any
    ) -> Any:
        ports = self.port_range
        if ports is None or local_addr is None or local_addr[1] != 0:
            return await super().create_datagram_endpoint(
                protocol_factory, local_addr=local_addr, remote_addr=remote_addr, **kwargs
            )
        last_error: OSError | None = None
        for port in ports.candidates():
            try:
                endpoint = await super().create_datagram_endpoint(
                    protocol_factory,
                    local_addr=(local_addr[0], port),
                    remote_addr=remote_addr,
                    **kwargs,
                )
            except OSError as exc:
                # uvloop reports a busy port as a bare OSError (no errno): try the next one.
                last_error = exc
                continue
            ports.taken(port)
            return endpoint
        raise OSError(
            errno.EADDRINUSE, f"no free UDP port in {ports.first}-{ports.last}: {last_error}"
        )


def loop_factory(first: int | None, last: int | None) -> Any:
    """An event loop factory for `uvloop.run`: the range when both ends are set."""

    def make() -> PortRangeLoop:
        loop = PortRangeLoop()
        if first is not None and last is not None:
            loop.port_range = PortRange(first, last)
        return loop

    return make

"""An impaired network in user space: a UDP relay between one client and the SFU that applies,
per direction, random loss, a rate limit with a drop-tail queue, and a one-way delay.

``tc netem`` needs a kernel module this machine does not have; this does the same job for one
media connection. The client (a bot, or a browser whose SDP passes through
``shape_signaling``) is made to see the relay as the SFU and the SFU to see it as the client:
``shape_signaling`` replaces the host candidates of the offer with the relay's server-side
address and those of the answer with its client-side address, so ICE checks, DTLS and media all
cross it. It relays bytes as they are (SRTP stays end to end).

    shaper = await UdpShaper.start(up=LinkSpec(loss=0.05), down=LinkSpec(rate_bps=500_000))
    bot = Bot("alice", shape_signaling(signaling, shaper), ice_addresses=("127.0.0.1",))
    ...
    shaper.close()

A direction (``Link``) works like a bottleneck router port: a datagram is first lost at random
(probability ``loss``), then joins a FIFO queue drained at ``rate_bps`` (tail drop when more
than ``queue_bytes`` wait), then arrives ``delay`` seconds after it left the queue. Datagrams
keep their order. ``Link.set_rate`` changes the bottleneck mid-call (a link that drops from
2 Mbit/s to 300 kbit/s). ``Link.admit`` and ``Link.set_rate`` are pure (the time is passed
in), so their behaviour is tested without clocks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import math
import random
import re
import socket
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

RECEIVE_BUFFER = 4 * 1024 * 1024
# Below this a datagram would wait for hours, and the order the link keeps would hold every
# later one behind it.
MIN_RATE = 1000.0


@dataclass(frozen=True, slots=True)
class LinkSpec:
    rate_bps: float | None = None
    """Bottleneck rate in bit/s; None: no limit (and no queue)."""
    queue_bytes: int = 64_000
    """Bytes that may wait for the bottleneck; a datagram that does not fit is dropped."""
    loss: float = 0.0
    """Probability that a datagram is lost, independently of the others."""
    delay: float = 0.0
    """One-way delay in seconds, after the queue."""

    def __post_init__(self) -> None:
        if self.rate_bps is not None and self.rate_bps <= 0:
            raise ValueError("rate_bps must be positive")
        if self.rate_bps is not None and not (MIN_RATE <= self.rate_bps < math.inf):
            raise ValueError(f"rate_bps is at least {MIN_RATE} bit/s, and finite")
        if not 0.0 <= self.loss <= 1.0:
            raise ValueError("loss is a probability")
        if not (0 <= self.delay < math.inf) or self.queue_bytes < 0:
            raise ValueError("delay (finite) and queue_bytes cannot be negative")


class Link:
    """One direction of the shaped path: decides when each datagram arrives, or drops it."""

    def __init__(self, spec: LinkSpec, rng: random.Random | None = None) -> None:
        self.spec = spec
        self._rng = rng or random.Random()  # noqa: S311 - a network's loss, not a secret
        self._busy_until = float("-inf")
        self._last_arrival = float("-inf")
        self.offered = 0
        self.lost = 0
        """Dropped at random."""
        self.overflowed = 0
        """Dropped because the queue was full."""
        self.delivered = 0
        self.delivered_bytes = 0

    def set_rate(self, rate_bps: float | None, now: float) -> None:
        """From ``now`` on, the bottleneck runs at ``rate_bps`` (None: no limit). The bytes
        still queued at ``now`` count at the new rate for the datagrams that follow (the
        queued ones keep the times they were given), so the port's backlog drains as if it
        had slowed down or sped up, and the queue limit stays in bytes."""
        spec = self.spec
        backlog = 0.0
        if spec.rate_bps is not None and self._busy_until > now:
            backlog = (self._busy_until - now) * spec.rate_bps / 8
        self.spec = LinkSpec(rate_bps, spec.queue_bytes, spec.loss, spec.delay)
        if rate_bps is not None:
            self._busy_until = now + backlog * 8 / rate_bps if backlog else self._busy_until
        else:
            self._busy_until = float("-inf")

    def admit(self, size: int, now: float) -> float | None:
        """When a datagram of ``size`` bytes offered at ``now`` arrives at the far end; None
        when it is dropped. Arrival times never go backwards (the order is kept)."""
        spec = self.spec
        self.offered += 1
        if spec.loss and self._rng.random() < spec.loss:
            self.lost += 1
            return None
        leaves = now
        if spec.rate_bps is not None:
            start = max(now, self._busy_until)
            waiting = (start - now) * spec.rate_bps / 8  # bytes still ahead in the queue
            if waiting + size > spec.queue_bytes:
                self.overflowed += 1
                return None
            leaves = start + size * 8 / spec.rate_bps
            self._busy_until = leaves
        arrival = max(leaves + spec.delay, self._last_arrival)
        self._last_arrival = arrival
        self.delivered += 1
        self.delivered_bytes += size
        return arrival


Address = tuple[str, int]


class _Side(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, Address], None]) -> None:
        self._on_datagram = on_datagram
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # As the bots' own sockets: a relay stalled by a busy process must not be where
            # datagrams are lost (only the link model drops them).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._on_datagram(data, addr)


class _Direction:
    """A ``Link`` and the datagrams in flight on it, sent from one socket at their arrival
    times (one timer at a time, so equal times cannot reorder them)."""

    def __init__(self, link: Link, loop: asyncio.AbstractEventLoop) -> None:
        self.link = link
        self._loop = loop
        self._flight: deque[tuple[float, bytes, Address]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self.out: asyncio.DatagramTransport | None = None

    def offer(self, data: bytes, to: Address | None) -> None:
        if to is None:
            return  # nowhere to go yet
        arrival = self.link.admit(len(data), self._loop.time())
        if arrival is None:
            return
        self._flight.append((arrival, data, to))
        if self._timer is None:
            self._due()

    def _due(self) -> None:
        self._timer = None
        now = self._loop.time()
        flight = self._flight
        while flight and flight[0][0] <= now:
            _, data, to = flight.popleft()
            if self.out is not None and not self.out.is_closing():
                self.out.sendto(data, to)
        if flight:
            self._timer = self._loop.call_at(flight[0][0], self._due)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._flight.clear()


class UdpShaper:
    """The relay: ``client_address`` is where the client sends (it stands for the SFU),
    ``server_address`` where the SFU sends (it stands for the client). ``up`` is the
    client → SFU direction, ``down`` the SFU → client one."""

    def __init__(self, up: Link, down: Link) -> None:
        self.up_link, self.down_link = up, down
        self.client: Address | None = None
        """The client's own address (from its offer, or its first datagram)."""
        self.server: Address | None = None
        """The SFU's address (from the answer)."""
        self.client_address: Address = ("", 0)
        self.server_address: Address = ("", 0)
        self._up: _Direction | None = None
        self._down: _Direction | None = None

    @classmethod
    async def start(
        cls,
        up: LinkSpec | None = None,
        down: LinkSpec | None = None,
        *,
        host: str = "127.0.0.1",
        seed: int | None = None,
    ) -> UdpShaper:
        rng = random.Random(seed)  # noqa: S311 - a network's loss, not a secret
        shaper = cls(Link(up or LinkSpec(), rng), Link(down or LinkSpec(), rng))
        loop = asyncio.get_running_loop()
        shaper._up = _Direction(shaper.up_link, loop)
        shaper._down = _Direction(shaper.down_link, loop)
        client_side, _ = await loop.create_datagram_endpoint(
            lambda: _Side(shaper._from_client), local_addr=(host, 0)
        )
        server_side, _ = await loop.create_datagram_endpoint(
            lambda: _Side(shaper._from_server), local_addr=(host, 0)
        )
        shaper._up.out = server_side
        shaper._down.out = client_side
        shaper.client_address = client_side.get_extra_info("sockname")[:2]
        shaper.server_address = server_side.get_extra_info("sockname")[:2]
        return shaper

    def _from_client(self, data: bytes, addr: Address) -> None:
        if self.client is None:
            self.client = addr
        if addr == self.client and self._up is not None:
            self._up.offer(data, self.server)

    def _from_server(self, data: bytes, addr: Address) -> None:
        if addr == self.server and self._down is not None:
            self._down.offer(data, self.client)

    def close(self) -> None:
        for direction in (self._up, self._down):
            if direction is not None:
                direction.close()
                if direction.out is not None:
                    direction.out.close()


_CANDIDATE = re.compile(
    r"^a=candidate:(\S+) (\d+) (udp) (\d+) (\S+) (\d+) typ host(.*)$", re.IGNORECASE
)


def swap_candidates(sdp: str, replacement: Address) -> tuple[str, Address | None]:
    """The SDP with its first UDP host candidate (per m-line) pointing at ``replacement`` and
    every other candidate removed; also the address that first candidate had."""
    original: Address | None = None
    lines = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            seen = False
        if line.startswith("a=candidate:"):
            match = _CANDIDATE.match(line)
            if match is None or match.group(2) != "1" or seen:
                continue  # another component, a TCP, relayed or reflexive one: not shaped
            seen = True
            if original is None:
                original = (match.group(5), int(match.group(6)))
            host, port = replacement
            line = (
                f"a=candidate:{match.group(1)} 1 {match.group(3)} {match.group(4)} {host} {port}"
                f" typ host{match.group(7)}"
            )
        lines.append(line)
    return "\r\n".join(lines) + "\r\n", original


def shape_signaling(
    signaling: Callable[[str], Awaitable[str]], shaper: UdpShaper
) -> Callable[[str], Awaitable[str]]:
    """The client's signaling with its media routed through ``shaper`` (see the module)."""

    async def shaped(offer: str) -> str:
        offer, client = swap_candidates(offer, shaper.server_address)
        if client is None:
            raise ValueError("the offer has no UDP host candidate to shape")
        shaper.client = client
        answer, server = swap_candidates(await signaling(offer), shaper.client_address)
        if server is None:
            raise ValueError("the answer has no UDP host candidate to shape")
        shaper.server = server
        return answer

    return shaped


# --- as a process: ``python -m rooms.mediabot.shaper`` --------------------------------------

COMMANDS = """Commands, one per line on standard input:
  server HOST PORT    where the SFU is (the address the answer gave; the client's own address
                      is learnt from its first datagram)
  up-rate BPS|none    the client -> SFU bottleneck from now on
  down-rate BPS|none  the SFU -> client bottleneck from now on
  stats               print one JSON line: each direction's counters
The relay prints "client HOST PORT" (where the client must send) once it listens, "ok" after
each command it took and "error: ..." after one it did not; it ends with standard input."""


def _rate(text: str) -> float | None:
    if text == "none":
        return None
    rate = float(text) if text.isascii() else math.nan
    if not MIN_RATE <= rate < math.inf:
        raise ValueError(f"a rate is a number of bit/s from {MIN_RATE:.0f}, or none")
    return rate


def _command(shaper: UdpShaper, line: str, now: float) -> str:
    """Apply one command line (see ``COMMANDS``); what to print back."""
    words = line.split()
    try:
        match words:
            case ["server", host, port]:
                number = int(port) if port.isascii() and port.isdigit() else 0
                if not 0 < number < 65536:
                    raise ValueError("the port is 1..65535")
                # As the SFU's datagrams will name it (127.1 would match none of them).
                shaper.server = (str(ipaddress.IPv4Address(host)), number)
            case ["up-rate", rate]:
                shaper.up_link.set_rate(_rate(rate), now)
            case ["down-rate", rate]:
                shaper.down_link.set_rate(_rate(rate), now)
            case ["stats"]:
                return json.dumps(
                    {
                        name: {
                            "offered": link.offered,
                            "lost": link.lost,
                            "overflowed": link.overflowed,
                            "delivered": link.delivered,
                            "delivered_bytes": link.delivered_bytes,
                        }
                        for name, link in (("up", shaper.up_link), ("down", shaper.down_link))
                    }
                )
            case _:
                return f"error: unknown command {line.strip()!r}"
    except (ValueError, OSError) as error:
        return f"error: {error}"
    return "ok"


async def _serve(args: argparse.Namespace) -> None:
    up = LinkSpec(rate_bps=args.up_rate, loss=args.up_loss, delay=args.delay)
    down = LinkSpec(rate_bps=args.down_rate, loss=args.down_loss, delay=args.delay)
    shaper = await UdpShaper.start(up, down, host=args.host, seed=args.seed)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    host, port = shaper.client_address
    print(f"client {host} {port}", flush=True)
    try:
        while True:
            try:
                line = await reader.readline()
            except ValueError:  # a line past the reader's limit (it is dropped)
                print("error: line too long", flush=True)
                continue
            if not line:
                break
            text = line.decode("utf-8", "replace")
            if text.strip():
                print(_command(shaper, text, loop.time()), flush=True)
    finally:
        shaper.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m rooms.mediabot.shaper",
        description="A shaped UDP path between one client and the SFU (see the module).",
        epilog=COMMANDS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--up-rate", type=_rate, default=None, metavar="BPS")
    parser.add_argument("--down-rate", type=_rate, default=None, metavar="BPS")
    parser.add_argument("--up-loss", type=float, default=0.0, metavar="P")
    parser.add_argument("--down-loss", type=float, default=0.0, metavar="P")
    parser.add_argument("--delay", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        LinkSpec(args.up_rate, loss=args.up_loss, delay=args.delay)
        LinkSpec(args.down_rate, loss=args.down_loss, delay=args.delay)
    except ValueError as error:
        parser.error(str(error))
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()

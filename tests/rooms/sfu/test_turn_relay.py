"""A client that may only use a TURN relay gets media to and from the SFU through Debian's
coturn, configured exactly as docs/coturn.md says (with its loopback additions for tests) and
given credentials by rooms/turn.py.

coturn runs as a process of this test (`make coturn` installs the package; the system service
is never used): its own port on 127.0.0.1, `use-auth-secret` with a static secret, no TLS, no
CLI, a log file in the test's temporary directory.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aioice import stun
from aiortc import RTCIceServer

from rooms import turn

from .conftest import Harness

DOC = Path(__file__).resolve().parents[3] / "docs" / "coturn.md"
TURNSERVER = "/usr/bin/turnserver"
LOUD = 30
# The TLS lines of the production configuration: the test server has no certificate.
TLS_KEYS = {"tls-listening-port", "cert", "pkey"}


@dataclass
class Coturn:
    port: int
    secret: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def documented_blocks() -> tuple[list[str], list[str]]:
    """The production configuration and the loopback additions, as docs/coturn.md gives them."""
    blocks = re.findall(r"```conf\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) == 2, "docs/coturn.md: the production block, then the loopback block"
    production, loopback = (
        [line.strip() for line in block.splitlines() if line.strip()] for block in blocks
    )
    return production, loopback


def _key(line: str) -> str:
    return line.split("=", 1)[0].strip()


def loopback_config(*, port: int, secret: str, workdir: Path) -> str:
    production, loopback = documented_blocks()
    redefined = {_key(line) for line in loopback if not line.startswith("#")}
    lines = []
    for line in production:
        key = _key(line)
        if line.startswith("#") or key in TLS_KEYS or key in redefined:
            continue
        if key == "static-auth-secret":
            line = f"static-auth-secret={secret}"
        assert "<" not in line, f"a placeholder the test does not fill: {line}"
        lines.append(line)
    for line in loopback:
        if line.startswith("listening-port="):
            line = f"listening-port={port}"
        lines.append(line)
    # The process's own files: never the system's (log, pid, coturn's user database).
    lines += [
        f"log-file={workdir / 'turn.log'}",
        "simple-log",
        "verbose",
        f"pidfile={workdir / 'turn.pid'}",
        f"userdb={workdir / 'turndb'}",
    ]
    return "\n".join(lines) + "\n"


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (coturn listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free port on 127.0.0.1")


async def stun_answers(port: int) -> bool:
    """One STUN Binding request to coturn; True when it answers."""
    loop = asyncio.get_running_loop()
    answered = loop.create_future()

    class Probe(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            if not answered.done():
                answered.set_result(True)

    transport, _ = await loop.create_datagram_endpoint(Probe, remote_addr=("127.0.0.1", port))
    try:
        request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
        transport.sendto(bytes(request))
        try:
            return await asyncio.wait_for(answered, 0.5)
        except TimeoutError:
            return False
    finally:
        transport.close()


@pytest.fixture
async def coturn(tmp_path: Path) -> AsyncIterator[Coturn]:
    assert os.access(TURNSERVER, os.X_OK), "coturn is not installed: run `make coturn`"
    port, secret = free_port(), secrets.token_urlsafe(30)
    config = tmp_path / "turnserver.conf"
    config.write_text(loopback_config(port=port, secret=secret, workdir=tmp_path))
    server = Coturn(port=port, secret=secret, log=tmp_path / "turn.log")
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [TURNSERVER, "-c", str(config), "--no-cli"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(60):  # up to ~30 s on a loaded machine
            if process.poll() is not None:
                pytest.fail(f"turnserver exited with {process.returncode}:\n{server.log_text()}")
            if await stun_answers(port):
                break
        else:
            pytest.fail(f"turnserver did not answer on port {port}:\n{server.log_text()}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_loopback_additions_are_for_tests_only() -> None:
    production, loopback = documented_blocks()
    assert "allow-loopback-peers" in loopback
    assert "allow-loopback-peers" not in production
    # In production the relay reaches nothing but the addresses allowed one by one.
    assert "denied-peer-ip=0.0.0.0-255.255.255.255" in production
    assert "denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" in production


async def test_a_relay_only_client_gets_media_through_coturn_to_the_sfu(  # type: ignore[no-untyped-def]
    coturn: Coturn,  # first: it stops after the harness closed the bots and their allocations
    harness: Harness,
    settings,
) -> None:
    settings.ROOMS_TURN_URLS = [f"turn:127.0.0.1:{coturn.port}?transport=udp"]
    settings.ROOMS_TURN_SECRET = coturn.secret
    [server] = turn.ice_servers(participant_id=7)
    relayed = await harness.join(
        "relayed",
        variant=0,
        level=LOUD,
        ice_servers=[RTCIceServer(**server)],
        relay_only=True,
    )
    direct = await harness.join("direct", variant=1, level=LOUD)
    # The relay-only client has nothing but its relayed candidate; the other one goes direct.
    assert relayed.local_candidate_type == "relay"
    assert direct.local_candidate_type == "host"

    def both_ways() -> bool:
        return (
            relayed.origin_packets("video", 1) >= 30
            and relayed.origin_packets("audio", 1) >= 25
            and direct.origin_packets("video", 0) >= 30
            and direct.origin_packets("audio", 0) >= 25
        )

    assert await relayed.wait_until(both_ways, timeout=20), coturn.log_text()[-3000:]
    for bot in (relayed, direct):
        for stream in bot.streams("video"):
            assert stream.decode_errors == 0
        assert sum(s.frames_decoded for s in bot.streams("video")) > 0
    log = coturn.log_text()
    assert f"username=<{server['username']}>" in log  # coturn took Rooms' credential
    assert "CHANNEL_BIND processed, success" in log
    assert "Forbidden" not in log

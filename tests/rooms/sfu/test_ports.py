"""A worker's media sockets stay in the configured UDP port range."""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvloop

from rooms.mediabot.bot import Bot
from rooms.sfu import Sfu, SfuConfig
from rooms.sfu.ice import host_addresses
from rooms.sfu.ports import PortRange, loop_factory


def test_port_range_is_checked() -> None:
    with pytest.raises(ValueError):
        PortRange(80, 90)
    with pytest.raises(ValueError):
        PortRange(50010, 50000)
    assert len(PortRange(50000, 50009)) == 10


def test_sfu_candidates_use_the_range_and_skip_busy_ports() -> None:
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 47100))  # the first port of the range is taken

    async def scenario() -> list[int]:
        sfu = Sfu(SfuConfig(ice_addresses=("127.0.0.1",)), sink=lambda event: None)
        room = sfu.room("r")

        async def signaling(sdp: str) -> str:
            return await room.offer("bot", sdp)

        bot = Bot("bot", signaling, ice_addresses=("127.0.0.1",))
        try:
            await bot.start(timeout=10)
            answer = room.peers["bot"].pc.localDescription.sdp
            return [
                int(line.split()[5])
                for line in answer.splitlines()
                if line.startswith("a=candidate:")
            ]
        finally:
            await bot.close()
            await sfu.close()

    try:
        with host_addresses(("127.0.0.1",)):
            ports = uvloop.run(scenario(), loop_factory=loop_factory(47100, 47199))
    finally:
        busy.close()
    assert ports and all(47101 <= port <= 47199 for port in ports)


def test_without_a_range_the_kernel_picks() -> None:
    async def bind() -> int:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        port: int = transport.get_extra_info("sockname")[1]
        transport.close()
        return port

    assert uvloop.run(bind(), loop_factory=loop_factory(None, None)) > 0

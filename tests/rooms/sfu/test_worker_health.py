"""A worker's own port: /healthz, /readyz (which follows its command loop) and /metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from channels.layers import InMemoryChannelLayer

from rooms.sfu.health import HealthServer
from rooms.sfu.placement import MemoryPlacement
from rooms.sfu.worker import Worker

from .conftest import make_config


class FlakyLayer(InMemoryChannelLayer):
    """The in-memory layer, whose receive can be made to fail as channels-redis's does while
    Redis is down."""

    down = False

    async def receive(self, channel: str) -> dict[str, Any]:
        if self.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        message: dict[str, Any] = await super().receive(channel)
        return message


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.fixture
async def served() -> AsyncIterator[tuple[Worker, FlakyLayer, httpx.AsyncClient]]:
    layer = FlakyLayer()
    worker = Worker(
        make_config(), layer, MemoryPlacement(), worker_id="w-health", heartbeat_seconds=0.1
    )
    health = HealthServer(worker, port=0)  # the kernel picks a free port
    await health.start()
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{health.port}", timeout=10)
    try:
        yield worker, layer, client
    finally:
        await client.aclose()
        await health.close()
        await worker.close()


async def test_health_port_answers_for_the_worker(
    served: tuple[Worker, FlakyLayer, httpx.AsyncClient],
) -> None:
    worker, _, client = served
    live = await client.get("/healthz")
    assert live.status_code == 200
    assert live.json() == {"status": "ok", "worker": "w-health"}
    # Not started: not registered, so not ready.
    before = await client.get("/readyz")
    assert before.status_code == 503
    assert before.json()["checks"]["registered"] is False

    await worker.start()
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "worker": "w-health",
        "checks": {"running": True, "receiving_commands": True, "registered": True},
    }
    assert (await client.get("/nope")).status_code == 404
    assert (await client.post("/readyz")).status_code == 405

    async def lag_measured() -> bool:
        text = (await client.get("/metrics")).text
        return 'rooms_event_loop_lag_seconds_count{loop="sfu"}' in text and (
            'rooms_event_loop_lag_seconds_count{loop="sfu"} 0.0' not in text
        )

    assert await eventually(lag_measured)
    page = await client.get("/metrics")
    assert page.headers["content-type"].startswith("text/plain")
    for line in (
        "rooms_sfu_workers_ready 1.0",
        "rooms_sfu_rooms 0.0",
        'rooms_sfu_peers{state="connected"} 0.0',
        "# TYPE rooms_sfu_forwarded_packets_total counter",
        "# TYPE rooms_sfu_nack_retransmissions_total counter",
        "# TYPE rooms_sfu_send_datagrams_total counter",
        "# TYPE rooms_sfu_slot_switches_total counter",
        "# TYPE rooms_sfu_upstream_packets_lost_total counter",
        "# TYPE rooms_sfu_subscriber_loss_ratio gauge",
        "process_resident_memory_bytes",
    ):
        assert line in page.text, line


async def test_readyz_fails_while_the_worker_cannot_take_commands(
    served: tuple[Worker, FlakyLayer, httpx.AsyncClient],
) -> None:
    worker, layer, client = served
    await worker.start()
    assert (await client.get("/readyz")).status_code == 200

    layer.down = True
    # The worker's pending receive takes this; its next one meets the outage.
    await layer.send(worker.channel, {"type": "sfu.probe"})

    async def status_is(code: int) -> bool:
        return (await client.get("/readyz")).status_code == code

    assert await eventually(lambda: status_is(503))
    down = (await client.get("/readyz")).json()
    assert down["status"] == "unavailable"
    assert down["checks"]["receiving_commands"] is False
    assert down["checks"]["running"] is True
    assert (await client.get("/healthz")).status_code == 200  # alive, only not ready
    assert "rooms_sfu_workers_ready 0.0" in (await client.get("/metrics")).text

    layer.down = False
    assert await eventually(lambda: status_is(200))


async def test_health_port_shrugs_off_garbage(
    served: tuple[Worker, FlakyLayer, httpx.AsyncClient],
) -> None:
    _, _, client = served
    port = client.base_url.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x16\x03\x01 not http at all\r\n\r\n")
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 10) == b""  # closed without an answer
    writer.close()
    await writer.wait_closed()
    assert (await client.get("/healthz")).status_code == 200

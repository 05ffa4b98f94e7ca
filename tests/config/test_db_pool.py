"""One daphne holds at most DB_POOL_MAX PostgreSQL connections, however many requests are in
flight, and what waits too long for one gets a JSON 503, never another 5xx."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import Counter

import httpx
import psycopg
import pytest
from django.db import connection

from rooms import services
from tests.conftest import require_postgres
from tests.factories import UserFactory
from tests.rooms.live_harness import Daphne, database_url

POOL_MAX = 4
PARALLEL = 60


class ConnectionPeak:
    """Samples, on a connection of its own, how many connections carry `app_name`."""

    def __init__(self, url: str, app_name: str) -> None:
        self.url = url
        self.app_name = app_name
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _count(self, conn: psycopg.Connection[tuple[int]]) -> int:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            [self.app_name],
        ).fetchone()
        return int(row[0]) if row else 0

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            while True:
                self.peak = max(self.peak, self._count(conn))
                self.samples += 1
                if self._stop.wait(0.005):
                    self.peak = max(self.peak, self._count(conn))
                    return

    def __enter__(self) -> ConnectionPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_requests_stay_within_the_pool_and_get_no_5xx_but_503() -> None:
    require_postgres()
    host = UserFactory(username="pool_host")
    room = services.room_create(host=host, title="Busy", waiting_room=False)
    app_name = f"rooms-pool-{secrets.token_hex(4)}"
    own_url = database_url(connection.settings_dict)
    server = Daphne(
        "pool",
        database_url=f"{own_url}?application_name={app_name}",
        redis_url=None,
        DB_POOL_MIN="1",
        DB_POOL_MAX=str(POOL_MAX),
        DB_POOL_TIMEOUT="30",
        LOG_LEVEL="ERROR",
    )

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=PARALLEL, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as http:
            url = f"/api/rooms/{room.token}/"
            return await asyncio.gather(*(http.get(url) for _ in range(PARALLEL)))

    server.start()
    try:
        server.wait_ready(timeout=60)
        with ConnectionPeak(own_url, app_name) as watch:
            responses = asyncio.run(burst())
    finally:
        server.stop()

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[200] > 0
    for response in responses:
        if response.status_code == 503:
            assert int(response.headers["retry-after"]) > 0
            assert response.json()["error"]["code"] == "unavailable"
    assert watch.samples > 1
    assert 0 < watch.peak <= POOL_MAX, f"the server held {watch.peak} connections"

"""Outages over a real daphne: the database unreachable from the start (no PostgreSQL needed:
the server points at a port where nothing listens), and PostgreSQL going away under a live
room and coming back (the test database stops accepting the server's connections)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest
from django.db import connection
from psycopg import sql
from rest_framework.authtoken.models import Token

from rooms import services
from tests.conftest import require_postgres
from tests.factories import UserFactory
from tests.rooms.live_harness import Daphne, LiveSocket, database_url, free_port, join

UNAVAILABLE = "The service is briefly unavailable. Try again in a few seconds."


def assert_json_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["retry-after"]) > 0
    assert response.json() == {"error": {"code": "unavailable", "message": UNAVAILABLE}}


@contextmanager
def running(server: Daphne) -> Iterator[Daphne]:
    """Started, and answering HTTP (any status: without a database an answer takes as long as
    the pool's wait, longer than the harness's own readiness probe waits)."""
    server.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{server.url}/api/rooms/-/", timeout=30)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.process is None:
                    raise
                if server.process.poll() is not None:
                    raise RuntimeError(f"daphne exited:\n{server.log_tail()}") from None
                time.sleep(0.2)
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("debug", ["true", "false"])
def test_api_and_pages_answer_503_when_the_database_is_unreachable(debug: str) -> None:
    server = Daphne(
        "nodb",
        database_url=f"postgres://postgres@127.0.0.1:{free_port()}/rooms",
        redis_url=None,
        DEBUG=debug,
        SECRET_KEY=secrets.token_urlsafe(45),
        SECURE_SSL_REDIRECT="false",
        DB_POOL_TIMEOUT="1",
        LOG_LEVEL="ERROR",
    )
    with running(server), httpx.Client(base_url=server.url, timeout=30) as http:
        assert_json_503(http.get("/api/rooms/unknownroomtoken/"))
        assert_json_503(http.post("/api/auth/token/", json={"username": "a", "password": "b"}))
        assert_json_503(http.get("/api/me/", headers={"Authorization": "Token " + "a" * 40}))
        http.cookies.set("sessionid", "x" * 32)
        assert_json_503(http.get("/api/rooms/"))
        page = http.get("/")
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert int(page.headers["retry-after"]) > 0
    assert "Rooms is briefly unavailable" in page.text
    assert "Traceback" not in page.text


# --- PostgreSQL going away under a live room --------------------------------------------------


@contextmanager
def database_refusing(app_name: str) -> Iterator[Any]:
    """Yields a function that switches the test database's outage on and off: it stops
    accepting connections and the server's own are ended. Always switched off at the end.
    Runs on a connection of its own to the server's `postgres` database."""
    name = connection.settings_dict["NAME"]
    maintenance = database_url({**connection.settings_dict, "NAME": "postgres"})
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as admin:

        def outage(on: bool) -> None:
            allow = sql.SQL("false" if on else "true")
            admin.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                    sql.Identifier(name), allow
                )
            )
            if on:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    [app_name],
                )

        try:
            yield outage
        finally:
            outage(False)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_outage_under_a_live_room_is_answered_and_recovered_from() -> None:
    require_postgres()
    host = UserFactory(username="outage_host", display_name="Host")
    key = Token.objects.create(user=host).key
    room = services.room_create(host=host, title="Outage", waiting_room=False)
    app_name = f"rooms-outage-{secrets.token_hex(4)}"
    server = Daphne(
        "outage",
        database_url=f"{database_url(connection.settings_dict)}?application_name={app_name}",
        redis_url=None,
        DB_POOL_MAX="4",
        DB_POOL_TIMEOUT="2",
        LOG_LEVEL="ERROR",
    )

    async def scenario(outage: Any) -> None:
        headers = {"Authorization": f"Token {key}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
            joined = await join(http, room.token)
            socket = await LiveSocket.open(server, room.token, joined["ticket"], timeout=30)
            await socket.expect_type("hello", timeout=30)
            await socket.expect_type("snapshot", timeout=30)

            outage(True)
            await socket.send({"type": "hand.set", "raised": True})
            error = await socket.expect_type("error", timeout=60)
            # Which step meets the outage first varies (the handler, or Channels tidying the
            # connections before it); whichever it is, the answer is the retryable one, and
            # names the message when it is about one.
            assert {k: v for k, v in error.items() if k != "regarding"} == {
                "type": "error",
                "code": "unavailable",
                "message": UNAVAILABLE,
                "retry_after": 5,
            }, socket.received
            assert error.get("regarding", "hand.set") == "hand.set", socket.received
            await socket.send({"type": "ping"})
            await socket.expect_type("pong", timeout=30)
            assert_json_503(await http.get(f"/api/rooms/{room.token}/"))

            outage(False)
            # The pool reconnects by itself: no restart.
            for _ in range(120):
                response = await http.get(f"/api/rooms/{room.token}/")
                if response.status_code == 200:
                    break
                assert_json_503(response)
                await asyncio.sleep(0.5)
            assert response.status_code == 200
            await socket.send({"type": "hand.set", "raised": True})
            updated = await socket.expect_type("room.participant_updated", timeout=30)
            assert updated["participant"]["hand_raised"] is True
            await socket.close()

    with running(server), database_refusing(app_name) as outage:
        asyncio.run(scenario(outage))

"""Outages are answered, not crashed (in-process): a Redis that does not answer, a database
that fails while the session middleware saves; 503 with Retry-After, JSON under /api/ in the
API's error shape, a plain page elsewhere (config/errors.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings
from rest_framework.test import APIClient

from accounts.models import User
from rooms import services
from rooms.models import Participant
from tests.factories import PASSWORD
from tests.rooms.live_harness import free_port

ROOM_PASSWORD = "open sesame 2026"


@contextmanager
def redis_down() -> Iterator[None]:
    """The cache (login limits, room password counters) points where no Redis listens."""
    location = f"redis://127.0.0.1:{free_port()}/0"
    backend = "django.core.cache.backends.redis.RedisCache"
    with override_settings(CACHES={"default": {"BACKEND": backend, "LOCATION": location}}):
        yield


def assert_json_503(response: Any) -> None:
    assert response.status_code == 503, response.content[:500]
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    assert response.json() == {
        "error": {
            "code": "unavailable",
            "message": "The service is briefly unavailable. Try again in a few seconds.",
        }
    }


def test_log_in_while_redis_is_down_is_a_json_503(alice: User) -> None:
    with redis_down():
        response = APIClient().post(
            "/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
        )
    assert_json_503(response)


def test_a_room_password_while_redis_is_down_is_a_json_503(alice: User) -> None:
    room = services.room_create(host=alice, title="Locked up", password=ROOM_PASSWORD)
    with redis_down():
        response = APIClient().post(
            f"/api/rooms/{room.token}/join/",
            {"display_name": "Gus", "password": "a guess"},
            format="json",
        )
    assert_json_503(response)
    assert not Participant.objects.filter(room=room).exists()


def _failing(statement: str) -> Any:
    """A database that goes away when it is asked `statement` (the test client's requests run
    on this thread's connection)."""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith(statement):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return connection.execute_wrapper(wrapper)


SESSION_READ = 'SELECT "django_session"'
SESSION_WRITE = 'UPDATE "django_session"'


def signed_in(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_a_session_that_cannot_be_read_is_a_json_503_on_the_api(alice: User) -> None:
    client = signed_in(alice)
    with _failing(SESSION_READ):
        response = client.get("/api/me/")
    assert_json_503(response)


def assert_page_503(response: Any) -> None:
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "Rooms is briefly unavailable" in page
    assert "Traceback" not in page
    assert "OperationalError" not in page


@pytest.mark.parametrize("debug", [False, True])
def test_an_outage_met_in_a_middleware_is_answered(alice: User, settings: Any, debug: bool) -> None:
    """Django's LoginRequiredMiddleware reads the session before any view runs. What a
    middleware raises is rendered as a 500 (a traceback page under DEBUG) before any other
    middleware can see the exception."""
    settings.DEBUG = debug
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
    ]
    client = signed_in(alice)
    with _failing(SESSION_READ):
        api = client.get("/api/rooms/")
        page = client.get("/")
    assert_json_503(api)
    assert_page_503(page)


def test_database_lost_while_the_session_is_saved_is_a_plain_503_page(alice: User) -> None:
    """The log-in view succeeds; the session middleware's save, after the view, meets the
    outage, which Django reports as a 400 (SessionInterrupted)."""
    client = Client(raise_request_exception=False)
    with _failing(SESSION_WRITE):
        response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert_page_503(response)

"""Logs: what the configured handler writes has time, level, process and ids, and never a
ticket, a resume token, a room's link token or a password."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.hashers import make_password
from django.test import Client

from accounts.models import User
from rooms import services
from rooms.logs import JsonFormatter, TextFormatter, redact
from rooms.models import Room
from rooms.sfu import logcontext
from tests.rooms.socket_client import connect, cookie_header, enter, me

PASSWORD = "correct horse battery"


def _configured_handler() -> logging.Handler:
    """The handler settings.LOGGING put on the root logger."""
    return next(h for h in logging.getLogger().handlers if h.name == "console")


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """Everything logged during the test, at every level, exactly as the configured handler
    (its formatter and filters) would write it."""
    configured = _configured_handler()
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(configured.formatter)
    for log_filter in configured.filters:
        handler.addFilter(log_filter)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_memory_channel_layer")
async def test_join_connect_and_resume_log_no_secrets(
    alice: User, bob: User, friends: None, written: io.StringIO
) -> None:
    room = await database_sync_to_async(services.room_create)(host=alice, title="Secret link")
    await Room.objects.filter(pk=room.pk).aupdate(password_hash=make_password(PASSWORD))
    host, host_join = await enter(room, me(alice))
    await host.expect("snapshot")

    browser = Client()
    await database_sync_to_async(browser.force_login)(bob)
    url = f"/api/rooms/{room.token}/join/"

    def post(body: dict[str, Any]) -> Any:
        return browser.post(url, body, content_type="application/json")

    wrong = await database_sync_to_async(post)({"password": "guessing " + PASSWORD})
    assert wrong.status_code == 403  # Django logs refusals with their path
    joined = await database_sync_to_async(post)({"password": PASSWORD})
    assert joined.status_code == 200
    ticket = joined.json()["ticket"]
    assert not (await connect(room, "ticket=forged" + ticket[6:]))[0]
    ok, member = await connect(room, f"ticket={ticket}")
    assert ok
    first_resume = (await member.expect("hello"))["resume_token"]
    await member.expect("snapshot")
    await member.send({"type": "hand.set", "raised": "maybe"})  # invalid: an error answer
    await member.expect("error")
    await member.communicator.disconnect(code=1006, timeout=10)  # dropped, not left
    ok, back = await connect(room, f"resume={first_resume}", cookie=cookie_header(browser))
    assert ok
    second_resume = (await back.expect("hello"))["resume_token"]
    assert not (await connect(room, f"resume={first_resume}"))[0]  # spent
    await back.close()
    await host.close()

    text = written.getvalue()
    assert "Forbidden" in text  # the logs were captured: the refused join is there
    secrets = {
        "room link token": room.token,
        "join ticket": ticket,
        "host's ticket": host_join.ticket,
        "resume token": first_resume,
        "second resume token": second_resume,
        "password": PASSWORD,
    }
    leaked = [what for what, secret in secrets.items() if secret in text]
    assert leaked == [], text


def test_json_lines_carry_time_level_process_and_ids() -> None:
    record = logging.LogRecord(
        "rooms.consumers", logging.WARNING, __file__, 1, "peer of %s failed", ("bob",), None
    )
    record.room_id, record.participant_id = 7, 42
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING"
    assert line["logger"] == "rooms.consumers"
    assert line["message"] == "peer of bob failed"
    assert (line["room_id"], line["participant_id"]) == (7, 42)
    assert isinstance(line["process"], int)
    assert line["time"].endswith("Z") and "T" in line["time"]


def test_the_context_names_the_room_and_participant(written: io.StringIO) -> None:
    log = logging.getLogger("rooms.test")
    with logcontext.about(5, 9):
        log.warning("inside")
    log.warning("outside")
    inside, outside = written.getvalue().strip().splitlines()[-2:]
    assert "room=5 participant=9" in inside or '"room_id": 5' in inside
    assert "room=" not in outside and "room_id" not in outside


def test_text_lines_are_readable() -> None:
    record = logging.LogRecord("rooms.sfu.worker", logging.ERROR, __file__, 1, "boom", (), None)
    record.room_id, record.participant_id = 3, None
    line = TextFormatter().format(record)
    assert " ERROR   rooms.sfu.worker [pid " in line
    assert line.endswith("] room=3: boom")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Forbidden: /api/rooms/ShAU80Jc6byr-e_EyeuDh43ceWh931IG/join/", "/api/rooms/"),
        ("WSCONNECT /ws/rooms/ShAU80Jc6byr-e_EyeuDh43ceWh931IG/?ticket=abc.def:ghi", "WSCONNECT"),
        ("GET /r/ShAU80Jc6byr-e_EyeuDh43ceWh931IG/", "GET /r/"),
        ("body {'password': 'hunter2hunter2'}", "body"),
        ('{"resume_token": "eyJwIjo1fQ:1tX:abc"}', "resume_token"),
        ("Authorization: Token 0123456789abcdef0123456789abcdef01234567", "Authorization"),
        ("?resume=eyJwIjo1fQ:1tX:abc&x=1", "x=1"),
    ],
)
def test_redaction(text: str, kept: str) -> None:
    cleaned = redact(text)
    assert "[redacted]" in cleaned
    assert kept in cleaned
    for secret in ("ShAU80Jc6byr", "abc.def", "hunter2", "eyJwIjo1fQ", "0123456789abcdef"):
        assert secret not in cleaned


def test_codes_and_ids_are_not_redacted() -> None:
    line = "room socket refused: invalid_ticket (room 12, wrong_password, 40 tokens)"
    assert redact(line) == line


def test_media_libraries_speak_from_warning_up() -> None:
    assert logging.getLogger("aioice.ice").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("aiortc.rtcpeerconnection").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("rooms.consumers").getEffectiveLevel() <= logging.INFO


def test_django_prints_no_unformatted_second_line(settings) -> None:  # type: ignore[no-untyped-def]
    """In DEBUG, Django's own console handler printed refused requests again, link token and
    all; its records go through the project's redacting handler only."""
    import logging

    handlers = logging.getLogger("django").handlers
    assert handlers == []
    assert logging.getLogger("django").propagate is True

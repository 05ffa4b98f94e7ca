"""The sockets' contract (rooms/socket_schema.py): served next to the OpenAPI schema, rendered
in docs/socket.md and on the docs page, generated from the models the server validates with.
Every frame the suite exchanges is checked against it (tests/socket_contract.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from jsonschema import Draft7Validator

from rooms import frames, messages, socket_schema
from tests import socket_contract as contract

DOCS = Path(__file__).resolve().parents[2] / "docs" / "socket.md"


def test_docs_socket_md_is_the_rendered_contract(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("socket_schema", "--markdown")
    assert DOCS.read_text() == capsys.readouterr().out, (
        "docs/socket.md is stale: python manage.py socket_schema --markdown > docs/socket.md"
    )


def test_the_contract_is_served_next_to_the_openapi_schema(db: None) -> None:
    response = Client().get("/api/schema/socket/")
    assert response.status_code == 200
    document = response.json()
    assert document["asyncapi"] == "3.0.0"
    assert document["servers"]["site"]["host"] == "testserver"
    assert set(document["channels"]) == {"room", "feed"}
    # Every payload schema is a valid JSON Schema.
    for schema in document["components"]["schemas"].values():
        Draft7Validator.check_schema(schema)
    # Every client message and server frame the code knows is in it.
    room_in = socket_schema.frame_schemas("room", "receive")
    room_out = socket_schema.frame_schemas("room", "send")
    for kind in ("ping", "media.offer", "room.waiting_room", "lobby.admit"):
        assert kind in room_in
    for kind in (
        "hello", "snapshot", "room.lobby_waiting", "room.lobby_denied", "room.cohost_added",
        "room.ban_lifted", "room.updated", "removed", "report.received", "media.stats",
        "media.slots", "media.renegotiate", "room.ended", "room.version", "error",
    ):  # fmt: skip
        assert kind in room_out, kind
    feed_out = socket_schema.frame_schemas("feed", "send")
    assert {"feed.room", "feed.room_removed", "notification"} <= set(feed_out)


def test_every_event_the_services_publish_is_catalogued() -> None:
    from rooms.events import EVENTS, Audience

    catalogued = set(socket_schema.frame_schemas("room", "send"))
    # Changes nobody hears about reach everyone as room.version.
    heard = {kind for kind, audience in EVENTS.values() if audience != Audience.NOBODY}
    assert heard | {"room.version"} <= catalogued
    assert len(frames.ROOM_EVENTS) == len(
        {socket_schema._frame_type(e) for e in frames.ROOM_EVENTS}
    )


def test_the_docs_page_lists_the_sockets(db: None) -> None:
    description = Client().get("/api/schema/?format=json").json()["info"]["description"]
    assert "api/schema/socket/" in description
    assert "`room.lobby_waiting`" in description


@pytest.mark.parametrize(
    ("message", "value"),
    [
        ({"type": "room.waiting_room", "waiting_room": False}, False),
        ({"type": "room.waiting_room", "enabled": True}, True),
        ({"type": "room.signed_in_only", "signed_in_only": True}, True),
        ({"type": "room.screen_share", "participants_can_share_screen": False}, False),
        ({"type": "room.screen_share", "participants_allowed": True}, True),
    ],
)
def test_settings_take_the_rest_names_and_the_deprecated_ones(
    message: dict[str, object], value: bool
) -> None:
    parsed = messages.parse(message)
    assert parsed.value is value  # type: ignore[union-attr]
    assert contract.problems("room", "receive", message) == []


@pytest.mark.parametrize(
    "message",
    [
        {"type": "room.waiting_room"},
        {"type": "room.waiting_room", "waiting_room": True, "enabled": True},
        {"type": "room.waiting_room", "waiting_room": None},
        {"type": "lobby.admit"},
        {"type": "lobby.admit", "all": False},
        {"type": "lobby.admit", "all": True, "participant_ids": [1]},
        {"type": "report", "reason": "spam", "details": "a\x00"},
        {"type": "media.offer", "sdp": "v=0", "offer_id": "not ok"},
    ],
)
def test_the_schema_refuses_what_the_server_refuses(message: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        messages.parse(message)
    assert contract.problems("room", "receive", message) != []


def test_the_contract_check_catches_a_frame_outside_it() -> None:
    assert contract.server_frame("room", '{"type": "hello"}') != []
    assert contract.server_frame("room", '{"type": "hello", "resume_token": "x", "y": 1}')
    assert contract.server_frame("room", '{"type": "no.such"}') != []
    assert contract.server_frame("room", '{"type": "hello", "resume_token": "x"}') == []


def test_a_site_with_a_prefix_serves_the_contract_with_its_path(
    client: Client, settings: Any, db: None
) -> None:
    settings.ROOT_URLCONF = "tests.rooms.prefix_urls"
    document = client.get("/video/api/schema/socket/", secure=True).json()
    server = document["servers"]["site"]
    assert (server["protocol"], server["pathname"]) == ("wss", "/video")
    assert document["channels"]["room"]["address"] == "ws/rooms/{token}/"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_memory_channel_layer")
async def test_the_suite_wide_check_sees_the_frames_a_test_exchanges(
    socket_contract: list[str], alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from channels.db import database_sync_to_async

    from rooms import consumers, services
    from tests.rooms.socket_client import enter, me

    async def off_contract_pong(self: Any, message: Any) -> None:
        await self.send_json({"type": "pong", "late": True})

    monkeypatch.setattr(consumers.RoomConsumer, "_on_ping", off_contract_pong)
    monkeypatch.setitem(consumers._HANDLERS, messages.Ping, off_contract_pong)
    room = await database_sync_to_async(services.room_create)(host=alice, title="Checked")
    host, _ = await enter(room, me(alice))
    await host.expect("snapshot")
    await host.send({"type": "ping"})
    await host.expect("pong")
    # A client message the server accepts although the schema refuses it: here, one the
    # schema was made to refuse.
    monkeypatch.setattr(contract, "problems", lambda *args: ["refused"])
    await host.send({"type": "ping"})
    await host.expect("pong")
    await host.close()
    assert any("pong" in found and "late" in found for found in socket_contract), socket_contract
    assert any("the server accepted" in found for found in socket_contract), socket_contract
    socket_contract.clear()  # seen: this test passes only because it looked


def test_every_reference_in_the_document_resolves() -> None:
    document = socket_schema.document()

    def resolve(pointer: str) -> Any:
        node: Any = document
        for part in pointer.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for value in node for ref in refs(value)]
        return []

    every = refs(document)
    assert len(every) > 100
    for ref in every:
        assert resolve(ref) is not None, ref
    # An operation's messages are its channel's (AsyncAPI 3).
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(channel + "/messages/")

"""The socket contract test: every frame the suite exchanges on the room and feed sockets, both
ways, is checked against the AsyncAPI document the server serves (`rooms.socket_schema`), with a
JSON Schema validator, not with the server's own models.

Frames the server sends must validate. Frames a client sends must get the same verdict from the
schema as from the server's validation (`rooms.messages.parse`): tests send invalid messages on
purpose, and the contract is that the schema refuses exactly what the server refuses.
tests/conftest.py applies it to every test (`socket_contract`)."""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft7Validator
from pydantic import ValidationError

from rooms import messages, socket_schema


def _inlined(node: Any, schemas: dict[str, Any]) -> Any:
    """The schema with its references to components replaced by what they name (the
    frames' types are not recursive): validating is then several times faster."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            # Draft-07: a $ref's sibling keywords are ignored, as here.
            return _inlined(schemas[ref.rsplit("/", 1)[1]], schemas)
        return {key: _inlined(value, schemas) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(value, schemas) for value in node]
    return node


@functools.cache
def _validator(name: str) -> Draft7Validator:
    schemas = socket_schema.document()["components"]["schemas"]
    return Draft7Validator(_inlined(schemas[name], schemas))


def problems(socket: str, direction: str, frame: Any) -> list[str]:
    """Why `frame` (parsed JSON) is not a valid `direction` ("send": the server's, "receive":
    a client's) frame of `socket` ("room" or "feed"); empty when it is."""
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        return [f"{socket} {direction}: not an object with a string type: {frame!r:.200}"]
    names = socket_schema.frame_schemas(socket, direction).get(frame["type"])
    if not names:
        return [f"{socket} {direction}: undocumented type {frame['type']!r}"]
    found: list[str] = []
    for name in names:
        errors = sorted(_validator(name).iter_errors(frame), key=lambda e: list(e.path))
        if not errors:
            return []
        found += [
            f"{socket} {direction} {frame['type']} ({name}) at "
            f"{'/'.join(map(str, e.path)) or '.'}: {e.message:.300}"
            for e in errors[:3]
        ]
    return found


def server_frame(socket: str, text: str) -> list[str]:
    return problems(socket, "send", json.loads(text))


def client_frame(raw: Any, *, accepted: bool | None = None) -> list[str]:
    """Whether the schema and the server agree on a room-socket client message. `accepted`:
    the server's verdict when it is known (in-process), else the server's model is asked."""
    if accepted is None:
        try:
            messages.parse(raw)
            accepted = True
        except ValidationError:
            accepted = False
    found = problems("room", "receive", raw)
    if accepted and found:
        return [f"the server accepted a message the schema refuses: {found}"]
    if not accepted and not found:
        return [f"the server refused a message the schema accepts: {raw!r:.300}"]
    return []

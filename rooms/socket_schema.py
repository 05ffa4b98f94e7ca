"""The sockets' contract: an AsyncAPI 3 document generated from the messages the room socket
validates (`rooms.messages`) and the frames both sockets send (`rooms.frames`).

Served at `<prefix>api/v1/schema/socket/` (and `api/schema/socket/`, next to the site's OpenAPI
schema), rendered as
docs/socket.md (`python manage.py socket_schema --markdown`; a test keeps the file in step) and
summed up in the OpenAPI document's description (`describe_sockets`, a drf-spectacular
postprocessing hook). Every payload schema is JSON Schema (draft-07, AsyncAPI's default).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, get_args

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from pydantic import BaseModel, TypeAdapter
from typing_extensions import get_type_hints

from rooms import frames, messages
from rooms.links import rooms_prefix

VERSION = "1.0.0"

OVERVIEW = """\
Rooms has two WebSockets, both under the prefix the site mounted Rooms at:

- **The room socket**, `ws/rooms/{token}/`: one per visit. Open it with the single-use
  `ticket` from `POST api/rooms/{token}/join/`; after a drop, within the grace period (15 s),
  with `?resume=<resume_token>` (from `hello`) instead. A resume must come from the same
  person: the guest's `rooms_guest` cookie, or the account's session, `Authorization: Token`
  header or socket ticket (`&auth=<ticket>`, from `POST api/sockets/ticket/`).
- **The feed socket**, `ws/feed/`: live room cards and the site's notifications for a
  signed-in person: a browser's session, `Authorization: Token <key>`, or `?auth=<ticket>`.

The handshake's `Origin` must be the socket's own origin or one of `ROOMS_ALLOWED_ORIGINS`.
Frames are JSON text, at most 64 KB, each an object with a `type`. Clients must ignore
fields and frame types they do not know.

**Close codes**: 4000 left, 4003 refused (a bad ticket, denied from the lobby, not signed
in on the feed), 4004 removed, 4005 room ended, 4009 replaced by a newer connection of the
same visit, 4029 flooding, 4503 unavailable (the database or Redis is down: reconnect with
the same ticket or resume token). Any other close is a dropped connection: resume.

**Room state: the reference reducer** (`rooms.snapshots.apply_event` in Python,
`applyEvent` in `rooms/static/rooms/js/room/state.js`; a test runs both on the same inputs):
hold the last `snapshot` (`version`, `room`, `roster`, `lobby` for hosts), then for every
frame with a `version`:

1. `version` not above yours: you have it already (a socket may hear a few events its
   snapshot contains); change nothing.
2. `version` above yours + 1: you missed one (the server's fan-out is at-most-once); send
   `snapshot.request` and replace everything with the snapshot it brings.
3. Otherwise take `version`; take `room` when the event has one; when it has a
   `participant`, take them out of `roster` and `lobby`, then put them back in the roster
   when their `state` is `admitted`, in the lobby when it is `lobby` (both kept by `id`).
   `data` says what changed, for telling people; the state is in `room` and `participant`.

`room.version` frames move the version on with nothing else: changes you are not told about.
Frames without a `version` (`media.*`, `room.speakers`, `turn.credentials`, ...) are not part
of the room's state and apply as they come. Who hears what: everyone admitted hears every
event, except events about the lobby (and unmute requests, bans lifted, invitations), which
only hosts and co-hosts hear; the others get `room.version` for them. Lobby members hear
only `lobby.status` about themselves.

**Deprecated names**: the setting messages take the REST API's field names
(`room.waiting_room {waiting_room}`, `room.signed_in_only {signed_in_only}`,
`room.screen_share {participants_can_share_screen}`); the old `enabled` and
`participants_allowed` are still accepted until the next major version. The top-level
`ended_by` of `room.ended` is the same as its `data.ended_by`.
"""

# (channel, direction) -> the types making it up. "receive": the server receives (client
# messages); "send": the server sends.
_CLIENT = tuple(get_args(get_args(messages.ClientMessage)[0]))


def _frame_type(model: Any) -> str:
    if isinstance(model, type) and issubclass(model, BaseModel):
        annotation = model.model_fields["type"].annotation
    else:
        annotation = get_type_hints(model)["type"]
    (kind,) = get_args(annotation)
    return str(kind)


def _summary(model: Any) -> str:
    doc = inspect.getdoc(model) or ""
    return doc.split("\n\n")[0].replace("\n", " ")


def _drop_null_defaults(schema: Any) -> None:
    """`"default": null` on a field whose schema has no null (a field that may only be left
    out) says nothing true: drop it."""
    if isinstance(schema, dict):
        if schema.get("default", 0) is None and schema.get("type") not in (None, "null"):
            del schema["default"]
        for value in schema.values():
            _drop_null_defaults(value)
    elif isinstance(schema, list):
        for value in schema:
            _drop_null_defaults(value)


def _forbid_extra(schema: Any) -> None:
    """Server frames are complete: a key they do not declare is a contract breach."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
        for value in schema.values():
            _forbid_extra(value)
    elif isinstance(schema, list):
        for value in schema:
            _forbid_extra(value)


def _channels() -> dict[str, dict[str, tuple[Any, ...]]]:
    return {
        "room": {"receive": _CLIENT, "send": frames.ROOM_FRAMES},
        "feed": {"receive": (), "send": (*frames.FEED_FRAMES, *frames.PUSH_FRAMES.values())},
    }


@functools.cache
def _built() -> dict[str, Any]:
    """The document without servers (those depend on the request)."""
    channels = _channels()
    adapters: list[tuple[Any, Any, TypeAdapter[Any]]] = []
    names: dict[Any, str] = {}
    for directions in channels.values():
        for models in directions.values():
            for model in models:
                if model in names:
                    continue
                names[model] = model.__name__
                adapters.append((model, "validation", TypeAdapter(model)))
    if len(set(names.values())) != len(names):
        raise RuntimeError("two socket message types share a name")
    _, definitions = TypeAdapter.json_schemas(adapters, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = definitions.get("$defs", {})
    client_names = {model.__name__ for model in _CLIENT}
    for name, schema in schemas.items():
        _drop_null_defaults(schema)
        if name not in client_names:
            _forbid_extra(schema)

    component_messages: dict[str, Any] = {}
    for model, name in names.items():
        component_messages[name] = {
            "name": _frame_type(model),
            "title": _frame_type(model),
            "summary": _summary(model),
            "description": inspect.getdoc(model) or "",
            "payload": {"$ref": f"#/components/schemas/{name}"},
        }
    doc_channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for socket, directions in channels.items():
        refs = {
            names[model]: {"$ref": f"#/components/messages/{names[model]}"}
            for models in directions.values()
            for model in models
        }
        doc_channels[socket] = {**_CHANNEL_INFO[socket], "messages": refs}
        for direction, models in directions.items():
            if not models:
                continue
            operations[f"{socket}.{'client' if direction == 'receive' else 'server'}"] = {
                "action": direction,
                "channel": {"$ref": f"#/channels/{socket}"},
                "summary": _OPERATION_SUMMARY[(socket, direction)],
                "messages": [
                    {"$ref": f"#/channels/{socket}/messages/{names[model]}"} for model in models
                ],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Rooms sockets",
            "version": VERSION,
            "description": OVERVIEW,
        },
        "defaultContentType": "application/json",
        "channels": doc_channels,
        "operations": operations,
        "components": {"messages": component_messages, "schemas": schemas},
    }


def forget() -> None:
    """Build the document again next time (a push frame was registered)."""
    _built.cache_clear()


_CHANNEL_INFO: dict[str, dict[str, Any]] = {
    "room": {
        "address": "ws/rooms/{token}/",
        "title": "The room socket",
        "description": "One per visit: a snapshot, then versioned events; host controls; "
        "signaling with the media relay.",
        "parameters": {"token": {"description": "The room's link token."}},
        "bindings": {
            "ws": {
                "query": {
                    "type": "object",
                    "properties": {
                        "ticket": {
                            "type": "string",
                            "description": "The single-use join ticket from the join API.",
                        },
                        "resume": {
                            "type": "string",
                            "description": "The last `hello`'s resume_token, after a drop.",
                        },
                        "auth": {
                            "type": "string",
                            "description": "With `resume`: a socket ticket naming the account "
                            "(POST api/sockets/ticket/).",
                        },
                    },
                }
            }
        },
    },
    "feed": {
        "address": "ws/feed/",
        "title": "The feed socket",
        "description": "Live room cards and the host site's pushes (notifications) for a "
        "signed-in person. Read-only: anything sent is answered with `error` `read_only`.",
        "bindings": {
            "ws": {
                "query": {
                    "type": "object",
                    "properties": {
                        "auth": {
                            "type": "string",
                            "description": "A socket ticket (POST api/sockets/ticket/).",
                        }
                    },
                }
            }
        },
    },
}

_OPERATION_SUMMARY = {
    ("room", "receive"): "What a client may send on the room socket.",
    ("room", "send"): "What the server sends on the room socket.",
    ("feed", "send"): "What the server sends on the feed socket.",
}


def document(*, host: str = "", secure: bool = False, prefix: str = "/") -> dict[str, Any]:
    """The AsyncAPI document; with `host`, a server entry saying where the sockets are."""
    built = dict(_built())
    if host:
        built["servers"] = {
            "site": {
                "host": host,
                "protocol": "wss" if secure else "ws",
                "pathname": prefix.rstrip("/") or "/",
                "description": "This site; the channels' addresses follow this path.",
            }
        }
    return built


@require_GET
def socket_schema_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        document(host=request.get_host(), secure=request.is_secure(), prefix=rooms_prefix()),
        json_dumps_params={"indent": 2},
    )


# --- reading the document -------------------------------------------------------------------


def frame_schemas(socket: str, direction: str) -> dict[str, list[str]]:
    """type -> the component schema names a frame of that type may match."""
    built = _built()
    found: dict[str, list[str]] = {}
    operation = built["operations"].get(
        f"{socket}.{'client' if direction == 'receive' else 'server'}"
    )
    for ref in operation["messages"] if operation else []:
        name = ref["$ref"].rsplit("/", 1)[1]
        message = built["components"]["messages"][name]
        found.setdefault(message["name"], []).append(name)
    return found


# --- Markdown -------------------------------------------------------------------------------


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[1]}`"
    if "const" in schema:
        return f'`"{schema["const"]}"`'
    if "enum" in schema:
        return " \\| ".join(f'`"{v}"`' if v != "" else '`""`' for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_type_of(option) for option in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_type_of(schema['additionalProperties'])}"
    if kind == "null":
        return "null"
    return str(kind or "any")


def _limits(schema: dict[str, Any]) -> str:
    words = []
    for key, text in (
        ("minimum", ">= {}"),
        ("maximum", "<= {}"),
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("minItems", "at least {} items"),
        ("maxItems", "at most {} items"),
        ("pattern", "matching `{}`"),
    ):
        if key in schema:
            words.append(text.format(schema[key]))
    return "; ".join(words)


def _fields_table(schema: dict[str, Any]) -> list[str]:
    properties = schema.get("properties", {})
    if not properties:
        return ["No fields."]
    required = set(schema.get("required", []))
    lines = ["| field | type | required | meaning |", "|---|---|---|---|"]
    # `type` first, then the fields in their declared order.
    ordered = sorted(properties.items(), key=lambda item: item[0] != "type")
    for name, field in ordered:
        meaning = field.get("description", "").replace("\n", " ").replace("|", "\\|")
        if field.get("deprecated"):
            meaning = "**Deprecated**" + meaning.removeprefix("Deprecated")
        limits = _limits(field)
        if limits:
            meaning = f"{meaning} ({limits})" if meaning else limits
        needed = "yes" if name in required else "no"
        if "default" in field and name not in required:
            needed = f"no (default `{_json(field['default'])}`)"
        lines.append(f"| `{name}` | {_type_of(field)} | {needed} | {meaning} |")
    if "oneOf" in schema:
        options = [
            " and ".join(
                f'`"{name}": true`'
                if option.get("properties", {}).get(name) == {"const": True}
                else f"`{name}`"
                for name in option.get("required", [])
                if name != "type"
            )
            for option in schema["oneOf"]
        ]
        choice = " or ".join(option for option in options if option)
        lines.append("")
        lines.append(f"Exactly one of: {choice}.")
    return lines


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def markdown() -> str:
    built = _built()
    schemas = built["components"]["schemas"]
    out = [
        "# The sockets' contract",
        "",
        "<!-- Generated by `python manage.py socket_schema --markdown` from rooms/messages.py",
        "     and rooms/frames.py; tests/rooms/test_socket_schema.py keeps it in step. -->",
        "",
        f"AsyncAPI {built['asyncapi']} document: `GET <prefix>api/v1/schema/socket/` (also at",
        "`api/schema/socket/`; this file is its rendering). The REST API is described by the",
        "OpenAPI schema at `api/schema/`.",
        "",
        OVERVIEW,
    ]
    for socket, info in built["channels"].items():
        out += [f"## {info['title']}: `{info['address']}`", "", info["description"], ""]
        for key, title in (("client", "Client messages"), ("server", "Server frames")):
            operation = built["operations"].get(f"{socket}.{key}")
            if operation is None:
                continue
            out += [f"### {title}", ""]
            for ref in operation["messages"]:
                name = ref["$ref"].rsplit("/", 1)[1]
                message = built["components"]["messages"][name]
                out += [f"#### `{message['name']}`", "", message["description"], ""]
                out += _fields_table(schemas[name])
                out.append("")
    shared = sorted(name for name in schemas if name not in built["components"]["messages"])
    out += ["## Shared types", ""]
    for name in shared:
        description = schemas[name].get("description", "")
        out += [f"### `{name}`", ""]
        if description:
            out += [description, ""]
        out += _fields_table(schemas[name])
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# --- the OpenAPI document's description -----------------------------------------------------


def describe_sockets(result: dict[str, Any], generator: Any, request: Any, public: Any) -> Any:
    """drf-spectacular postprocessing hook: the docs page (`api/docs/`) lists the sockets'
    messages and links their contract."""
    built = _built()
    lines = [
        "",
        "## Sockets",
        "",
        "The room socket and the feed socket are described by an AsyncAPI 3 document at "
        "[`api/schema/socket/`](../schema/socket/) (docs/socket.md renders it).",
        "",
    ]
    for socket, info in built["channels"].items():
        lines += [f"**{info['title']}** (`{info['address']}`)", ""]
        for key, title in (("client", "client messages"), ("server", "server frames")):
            operation = built["operations"].get(f"{socket}.{key}")
            if operation is None:
                continue
            lines.append(f"- {title}:")
            for ref in operation["messages"]:
                message = built["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]
                lines.append(f"  - `{message['name']}`: {message['summary']}")
        lines.append("")
    info = result.setdefault("info", {})
    info["description"] = (info.get("description") or "") + "\n" + "\n".join(lines)
    return result

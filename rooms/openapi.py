"""The error responses of the OpenAPI schema: every status an operation can answer with, and
for each the codes it may carry, as an enum (rooms/errors.py makes the bodies).

`errors({404: ["room_not_found"], 410: ["room_ended"]}, method="POST", body=True)` gives an
operation's error responses for `extend_schema(responses=...)`: the statuses and codes its
services raise, and those every such operation can meet on the way in (a body that is not JSON,
credentials, CSRF, an outage). A site may use it for its own API (the reference site does).

`ok(200, RoomDetailSerializer, ROOM_DETAIL)` gives an operation's success response with an
example of its body; the examples of the API's shapes are written once, below, and
tests/test_api_examples.py checks each against its operation's schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

DESCRIPTIONS = {
    400: "The request is not valid: a field (`invalid`, with per-field messages in `fields`), "
    "a body that is not JSON (`malformed_request`) or a rule about the values.",
    401: "Missing or bad credentials (`WWW-Authenticate` names the scheme).",
    403: "Not allowed (with a session: also a missing CSRF token, `forbidden`).",
    404: "Nothing by that name, or nothing the caller may know about.",
    409: "Conflicts with the current state.",
    410: "The room has ended.",
    415: "The body is not `application/json`.",
    429: "Too many attempts; `Retry-After` says when to try again.",
    503: "PostgreSQL or Redis is unreachable; `Retry-After` says when to try again.",
}


def error_schema(codes: Iterable[str], *, fields: bool = False) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "code": {"type": "string", "enum": sorted(set(codes))},
        "message": {"type": "string", "description": "For people; may change."},
    }
    if fields:
        detail["fields"] = {
            "type": "object",
            "additionalProperties": True,
            "description": "Per-field messages (with `invalid`).",
        }
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "object", "required": ["code", "message"], "properties": detail}
        },
    }


def errors(
    codes: Mapping[int, Iterable[str]],
    *,
    method: str = "GET",
    body: bool = False,
    signed_in: bool = True,
    query: bool = False,
) -> dict[int, OpenApiResponse]:
    """The error responses of one operation. `codes`: what its own rules answer, by status;
    `body`: it reads a JSON body; `signed_in`: it needs an account; `query`: it validates query
    parameters."""
    by_status: dict[int, set[str]] = {status: set(names) for status, names in codes.items()}

    def add(status: int, *names: str) -> None:
        by_status.setdefault(status, set()).update(names)

    # Any request Django can't take in (more query fields than DATA_UPLOAD_MAX_NUMBER_FIELDS).
    add(400, "malformed_request")
    if body:
        add(400, "invalid")
        add(415, "unsupported_media_type")
    if query:
        add(400, "invalid")
    add(401, "authentication_failed")  # a bad token, whatever the operation
    if signed_in:
        add(401, "not_authenticated")
    if method.upper() not in {"GET", "HEAD", "OPTIONS"}:
        add(403, "forbidden")  # a session without its CSRF token
    add(503, "unavailable")
    responses = {}
    for status, names in sorted(by_status.items()):
        first = sorted(names)[0]
        responses[status] = OpenApiResponse(
            response=error_schema(names, fields=status == 400),
            description=DESCRIPTIONS.get(status, ""),
            examples=[
                OpenApiExample(
                    f"{status} {first}",
                    value={"error": {"code": first, "message": "What went wrong, for people."}},
                    status_codes=[str(status)],
                    response_only=True,
                )
            ],
        )
    return responses


# --- success responses ----------------------------------------------------------------------


def ok(
    status: int, response: Any, *examples: Any, names: Iterable[str] = ()
) -> dict[int, OpenApiResponse]:
    """An operation's success response `response` (a serializer) with one example of its body
    per value in `examples` (named by `names`, in order, or "Success")."""
    labels = list(names) or [f"{status} Success"] * len(examples)
    return {
        status: OpenApiResponse(
            response=response,
            examples=[
                OpenApiExample(label, value=value, status_codes=[str(status)], response_only=True)
                for label, value in zip(labels, examples, strict=True)
            ],
        )
    }


def page_of(*results: Any, path: str) -> dict[str, Any]:
    """One page of a list (rooms/pagination.py): here the first, with a next one."""
    return {
        "next": f"https://rooms.example.com{path}?cursor=cD0yMDMwLTAxLTAx&page_size=2",
        "previous": None,
        "results": list(results),
    }


ROOM_TOKEN = "k3Jd9xQeVt2mPz8LwRbN4sYhGf7cUa1o"  # noqa: S105 (a made-up room link)
_ROOM_PUBLIC = {
    "token": ROOM_TOKEN,
    "link": f"/r/{ROOM_TOKEN}/",
    "title": "Quiz night",
    "description": "Bring a pen.",
    "host_name": "Alice",
    "state": "open",
    "scheduled_start": "2030-01-01T16:00:00Z",
    "audience": "friends",
    "has_password": False,
    "waiting_room": True,
    "signed_in_only": False,
    "locked": False,
    "capacity": 12,
    "participant_count": 3,
}
ROOM_PUBLIC: dict[str, Any] = dict(_ROOM_PUBLIC)
ROOM_DETAIL: dict[str, Any] = {
    **_ROOM_PUBLIC,
    "host_id": 7,
    "participants_can_share_screen": True,
    "several_screen_shares": False,
    "version": 5,
    "created_at": "2029-12-20T09:30:00Z",
    "opened_at": "2030-01-01T16:01:12Z",
    "ended_at": None,
}
ENDED_ROOM: dict[str, Any] = {
    **ROOM_DETAIL,
    "state": "ended",
    "participant_count": 0,
    "version": 9,
    "ended_at": "2030-01-01T17:45:00Z",
}
PARTICIPANT: dict[str, Any] = {
    "id": 42,
    "user_id": 8,
    "display_name": "Bob",
    "is_guest": False,
    "role": "participant",
    "state": "admitted",
    "lobby_reason": "",
    "hand_raised": False,
    "audio_muted": True,
    "camera_off": False,
    "joined_at": "2030-01-01T16:03:40Z",
}
HOST_PARTICIPANT: dict[str, Any] = {
    **PARTICIPANT,
    "id": 41,
    "user_id": 7,
    "display_name": "Alice",
    "role": "host",
    "audio_muted": False,
    "joined_at": "2030-01-01T16:01:12Z",
}
GUEST_IN_LOBBY: dict[str, Any] = {
    **PARTICIPANT,
    "id": 43,
    "user_id": None,
    "display_name": "Gina",
    "is_guest": True,
    "state": "lobby",
    "lobby_reason": "waiting_room",
    "audio_muted": False,
    "joined_at": None,
}
JOINED: dict[str, Any] = {
    "participant": PARTICIPANT,
    "decision": {"outcome": "admit", "reason": "audience"},
    "ticket": "tk_5c1f0e7d2b9a4c36",
    "ice_servers": [
        {
            "urls": ["turn:turn.example.com:3478?transport=udp"],
            "username": "1893456000:42",
            "credential": "q8M1yH0cZ6l0p2xW9bT3nR4sV5u=",
        }
    ],
}
IN_LOBBY: dict[str, Any] = {
    "participant": GUEST_IN_LOBBY,
    "decision": {"outcome": "lobby", "reason": "waiting_room"},
    "ticket": "tk_9e2a6b1c4d8f7a03",
    "ice_servers": [],
}
ROSTER: dict[str, Any] = {
    "participants": [HOST_PARTICIPANT, PARTICIPANT],
    "lobby": [GUEST_IN_LOBBY],
}
MEMBER: dict[str, Any] = {"user_id": 8, "display_name": "Bob", "created_at": "2029-12-21T10:00:00Z"}
BAN: dict[str, Any] = {
    "id": 3,
    "user_id": None,
    "display_name": "Gina",
    "is_guest": True,
    "reason": "Spam in the chat",
    "created_at": "2030-01-01T16:20:05Z",
}
REPORT: dict[str, Any] = {
    "id": 11,
    "reason": "spam",
    "status": "open",
    "created_at": "2030-01-01T16:21:30Z",
}
ROOM_CARD: dict[str, Any] = {
    "token": ROOM_TOKEN,
    "link": f"/r/{ROOM_TOKEN}/",
    "title": "Quiz night",
    "description": "Bring a pen.",
    "host": {"id": 7, "display_name": "Alice"},
    "state": "open",
    "scheduled_start": "2030-01-01T16:00:00Z",
    "participant_count": 3,
    "host_present": True,
    "friends_inside": [{"id": 8, "display_name": "Bob"}],
    "audience": "friends",
    "has_password": False,
}
UPCOMING_CARD: dict[str, Any] = {
    **ROOM_CARD,
    "token": "Vb7Qw2Lr9sXe4Tn1Kc8Pz3Hm6Jd0Ya5u",
    "link": "/r/Vb7Qw2Lr9sXe4Tn1Kc8Pz3Hm6Jd0Ya5u/",
    "title": "Book club",
    "description": "",
    "state": "scheduled",
    "scheduled_start": "2030-01-03T18:00:00Z",
    "participant_count": 0,
    "host_present": False,
    "friends_inside": [],
}
ROOM_FEED: dict[str, Any] = {"live": [ROOM_CARD], "upcoming": [UPCOMING_CARD]}

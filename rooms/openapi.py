"""The error responses of the OpenAPI schema: every status an operation can answer with, and
for each the codes it may carry, as an enum (rooms/errors.py makes the bodies).

`errors({404: ["room_not_found"], 410: ["room_ended"]}, method="POST", body=True)` gives an
operation's error responses for `extend_schema(responses=...)`: the statuses and codes its
services raise, and those every such operation can meet on the way in (a body that is not JSON,
credentials, CSRF, an outage). A site may use it for its own API (the reference site does).
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

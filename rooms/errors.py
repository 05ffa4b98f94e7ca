"""One error shape for the whole API.

Domain errors carry a stable `code` and a human `message`; DRF's own exceptions and Django's
404 are rendered in the same shape:

    {"error": {"code": "room_full", "message": "This room is full.", "fields": {...}}}

The rooms API views use `api_exception_handler` whatever the site's REST_FRAMEWORK settings say
(rooms/api.py), so the shape holds on any host site. A site may use it for its own API too
(the reference site does, through REST_FRAMEWORK["EXCEPTION_HANDLER"]).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.utils.functional import Promise
from django.utils.translation import gettext
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler

from rooms import outages

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule said no. Subclasses fix the HTTP status; `code` is stable for clients."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidInput(DomainError):
    status = 400


class NotFound(DomainError):
    status = 404

    def __init__(self, code: str = "not_found", message: str | None = None) -> None:
        super().__init__(code, message if message is not None else gettext("Not found."))


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Gone(DomainError):
    status = 410


class TooManyRequests(DomainError):
    """A limit said "not now". The API answers 429 with `Retry-After` when it is known."""

    status = 429

    def __init__(self, code: str, message: str, *, retry_after: int = 0) -> None:
        super().__init__(code, message)
        self.retry_after = retry_after


def error_body(code: str, message: str | Promise, fields: Any = None) -> dict[str, Any]:
    # str(): a lazily translated message is written in the active language (the request's).
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    return {"error": body}


_DRF_CODES: dict[type[drf.APIException], str] = {
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "authentication_failed",
    drf.PermissionDenied: "forbidden",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.ParseError: "malformed_request",
    drf.Throttled: "throttled",
}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        refusal = Response(error_body(exc.code, exc.message), status=exc.status)
        # A limit that says when to come back says it in the header too.
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, int) and retry_after > 0:
            refusal["Retry-After"] = str(retry_after)
        return refusal
    if outages.is_outage(exc):
        log_outage(exc, context["request"].path)
        return Response(
            error_body("unavailable", outages.MESSAGE),
            status=503,
            headers={"Retry-After": str(outages.RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, (SuspiciousOperation, BadRequest, MultiPartParserError)):
        # What Django itself answers 400 (too many fields, a body over the size limit, a
        # broken multipart body): the same here, in the error shape.
        return Response(
            error_body("malformed_request", gettext("The request is malformed.")), status=400
        )
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        # A model-level check reached by client input (e.g. a tampered pagination cursor).
        exc = drf.ValidationError(exc.messages)
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, drf.APIException):
        return response if response is not None else _server_error(exc, context)
    if isinstance(exc, drf.ValidationError):
        response.data = error_body("invalid", gettext("Some fields are not valid."), exc.detail)
    else:
        code = _DRF_CODES.get(type(exc), "error")
        response.data = error_body(code, str(exc.detail))
    return response


def _server_error(exc: Exception, context: dict[str, Any]) -> Response:
    """A bug: logged with its traceback, and answered in the error shape, never an HTML page
    (whatever the site's handler500 renders). The signal is the one Django sends for an
    uncaught exception, so error reporters (and the test client) still hear of it."""
    request = context.get("request")
    path = getattr(request, "path", "?")
    log.error("server error for %s", path, exc_info=exc)
    got_request_exception.send(sender=None, request=getattr(request, "_request", request))
    return Response(
        error_body("server_error", gettext("Something went wrong on our side.")), status=500
    )


def log_outage(error: BaseException, path: str) -> None:
    """One line per request, not a traceback: an outage meets every request in flight."""
    log.warning("service unavailable for %s: %s: %s", path, type(error).__name__, error)

"""One error shape for the whole API.

Domain errors carry a stable `code` and a human `message`; DRF's own exceptions and Django's
404 are rendered in the same shape:

    {"error": {"code": "room_full", "message": "This room is full.", "fields": {...}}}
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
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

    def __init__(self, code: str = "not_found", message: str = "Not found.") -> None:
        super().__init__(code, message)


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


def error_body(code: str, message: str, fields: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
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
        _log_outage(exc, context["request"].path)
        return Response(
            error_body("unavailable", outages.MESSAGE),
            status=503,
            headers={"Retry-After": str(outages.RETRY_AFTER_SECONDS)},
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
        return response
    if isinstance(exc, drf.ValidationError):
        response.data = error_body("invalid", "Some fields are not valid.", exc.detail)
    else:
        code = _DRF_CODES.get(type(exc), "error")
        response.data = error_body(code, str(exc.detail))
    return response


# --- Django's own error pages, in the API's shape under /api/ ----------------------------------
# Errors Django raises before a view runs (no route, too many fields, a body over
# DATA_UPLOAD_MAX_MEMORY_SIZE) would otherwise reach API clients as HTML pages.


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> Any:
    if exception is not None and outages.is_outage(exception):
        # Django's session middleware reports a session it could not save as a 400
        # (SessionInterrupted), whatever the reason; a database outage is not the client's.
        _log_outage(exception, request.path)
        return outage_response(request)
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "The request is malformed."), status=400)
    from django.views.defaults import bad_request as html

    return html(request, exception or Exception())


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> Any:
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    from django.views.defaults import page_not_found as html

    return html(request, exception or Http404())


def server_error(request: HttpRequest) -> Any:
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side."), status=500
        )
    from django.views.defaults import server_error as html

    return html(request)


# --- Outages: PostgreSQL or Redis unreachable, or no pooled connection in time -----------------
# DRF views answer them in api_exception_handler. Everything else (plain Django views, the
# session middleware saving a session, a template rendered after its view) ends in Django's
# uncaught-exception path, which renders a 500 (under DEBUG a traceback page) before any
# middleware sees the exception. That path sends `got_request_exception` with the request while
# the exception is being handled; OutageMiddleware notes it there and, outermost, answers 503.


def outage_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the API's JSON shape under /api/, a plain page elsewhere (rendered
    without the request: context processors would query the database that is down)."""
    response: HttpResponse
    if _is_api(request):
        response = JsonResponse(error_body("unavailable", outages.MESSAGE), status=503)
    else:
        html = render_to_string("503.html", {"retry_after": outages.RETRY_AFTER_SECONDS})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(outages.RETRY_AFTER_SECONDS)
    return response


def _log_outage(error: BaseException, path: str) -> None:
    # One line per request, not a traceback: an outage meets every request in flight.
    log.warning("service unavailable for %s: %s: %s", path, type(error).__name__, error)


_OUTAGE_SEEN = "_rooms_outage"


def _note_outage(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    error = sys.exc_info()[1]
    if request is not None and error is not None and outages.is_outage(error):
        setattr(request, _OUTAGE_SEEN, error)


class OutageMiddleware:
    """First in MIDDLEWARE, so that it sees the response of every other layer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        got_request_exception.connect(_note_outage, dispatch_uid=f"{__name__}.outages")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        error = getattr(request, _OUTAGE_SEEN, None)
        if error is not None and response.status_code >= 500:
            _log_outage(error, request.path)
            return outage_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if outages.is_outage(exception):
            _log_outage(exception, request.path)
            return outage_response(request)
        return None

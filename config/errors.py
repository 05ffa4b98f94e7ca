"""One error shape for the whole API.

Domain errors carry a stable `code` and a human `message`; DRF's own exceptions and Django's
404 are rendered in the same shape:

    {"error": {"code": "room_full", "message": "This room is full.", "fields": {...}}}
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler


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

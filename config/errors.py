"""The reference site's error pages and outage answers, in the API's shape under /api/.

The domain errors and the API exception handler belong to Rooms (rooms/errors.py); they are
imported back here so that the site's own apps (accounts, feed) raise the same errors.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from rooms import outages
from rooms.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    TooManyRequests,
    api_exception_handler,
    error_body,
    log_outage,
)

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "Gone",
    "InvalidInput",
    "NotFound",
    "OutageMiddleware",
    "TooManyRequests",
    "api_exception_handler",
    "api_not_found",
    "bad_request",
    "error_body",
    "outage_response",
    "page_not_found",
    "server_error",
]

# --- Django's own error pages, in the API's shape under /api/ ----------------------------------
# Errors Django raises before a view runs (no route, too many fields, a body over
# DATA_UPLOAD_MAX_MEMORY_SIZE) would otherwise reach API clients as HTML pages.


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> Any:
    if exception is not None and outages.is_outage(exception):
        # Django's session middleware reports a session it could not save as a 400
        # (SessionInterrupted), whatever the reason; a database outage is not the client's.
        log_outage(exception, request.path)
        return outage_response(request)
    if _is_api(request):
        # The code DRF's parse errors get too (rooms/errors.py): one code per condition.
        return JsonResponse(
            error_body("malformed_request", _("The request is malformed.")), status=400
        )
    from django.views.defaults import bad_request as html

    return html(request, exception or Exception())


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> Any:
    if _is_api(request):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    from django.views.defaults import page_not_found as html

    return html(request, exception or Http404())


@csrf_exempt
def api_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


def server_error(request: HttpRequest) -> Any:
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", _("Something went wrong on our side.")), status=500
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
            log_outage(error, request.path)
            return outage_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if outages.is_outage(exception):
            log_outage(exception, request.path)
            return outage_response(request)
        return None

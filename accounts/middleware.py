"""An account's own language comes before the browser's.

Django's LocaleMiddleware has chosen the language from the language cookie, else
Accept-Language, else LANGUAGE_CODE; for a signed-in person who chose a language with the
switcher (accounts.views.set_language saves it in User.language) that choice wins, on every
device they sign in from.

Probes (load balancers, Prometheus) are left alone: reading the account would load the
session and the user, and /healthz promises to touch no database.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from accounts.languages import supported

# Where config.urls mounts Rooms' health and metrics views (rooms.health_urls).
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in PROBE_PATHS:
            return self.get_response(request)
        user = getattr(request, "user", None)
        language = supported(getattr(user, "language", "")) if user is not None else None
        if language and user is not None and user.is_authenticated:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)

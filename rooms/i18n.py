"""The language Rooms speaks to a given person when no request of theirs says it.

Inside a request, Django's active language is already the person's (the host site's
LocaleMiddleware and whatever it puts before it). Outside one (a room socket's messages, a
notification or reminder written for its recipient by a task or by someone else's request)
Rooms asks the adapter (`RoomsAdapter.language`) for a signed-in person, and for a guest reads
what their browser sent when the socket opened: the language cookie, then Accept-Language.
Whatever is found is narrowed to settings.LANGUAGES, else settings.LANGUAGE_CODE.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.http.cookie import parse_cookie
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from rooms.adapter import get_adapter
from rooms.users import User


def supported(code: object) -> str | None:
    """`code` as a language of settings.LANGUAGES ("fr-CA" → "fr"), or None."""
    if not isinstance(code, str) or not code or len(code) > 32:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def default_language() -> str:
    return supported(settings.LANGUAGE_CODE) or settings.LANGUAGE_CODE


def language_for(user: User | None) -> str:
    """The language to write to `user` in: the adapter's answer, else the site default."""
    if user is not None and getattr(user, "is_authenticated", False):
        chosen = supported(get_adapter().language(user))
        if chosen:
            return chosen
    return default_language()


@contextmanager
def override_for(user: User | None) -> Iterator[str]:
    """`with override_for(recipient):` renders lazy strings in the recipient's language."""
    language = language_for(user)
    with translation.override(language):
        yield language


def language_from_headers(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The language a browser asked for in a socket's handshake (ASGI `scope["headers"]`): the
    language cookie the switcher sets, else the first supported Accept-Language entry."""
    cookie_header = ""
    accept = ""
    for name, value in headers:
        if name == b"cookie":
            cookie_header = value.decode("latin-1")
        elif name == b"accept-language":
            accept = value.decode("latin-1")
    chosen = supported(parse_cookie(cookie_header).get(settings.LANGUAGE_COOKIE_NAME))
    if chosen:
        return chosen
    for code, _quality in parse_accept_lang_header(accept[:1000]):
        if code == "*":
            break
        chosen = supported(code)
        if chosen:
            return chosen
    return None


def language_for_scope(scope: Mapping[str, Any]) -> str:
    """The language of a socket's person: an account's choice, else what the browser sent,
    else the site default."""
    user = scope.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        chosen = supported(get_adapter().language(user))
        if chosen:
            return chosen
    return language_from_headers(scope.get("headers") or []) or default_language()

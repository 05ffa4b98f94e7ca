"""The languages this site offers (settings.LANGUAGES) and how a stored choice is read."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


def supported(code: object) -> str | None:
    """`code` as one of settings.LANGUAGES (a variant such as "fr-ca" becomes "fr"), or None
    when it is empty or not offered."""
    if not isinstance(code, str) or not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def choices() -> list[tuple[str, str]]:
    return [(code, name) for code, name in settings.LANGUAGES]

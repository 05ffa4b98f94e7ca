"""System checks of Rooms' settings (defaults and meanings: rooms/conf.py).

`manage.py check` (and every management command that runs checks: migrate, runserver, sfu)
reports a wrong setting by name, with what it must be and what it is, instead of a failure
deep inside a request or a media worker later on. Registered in RoomsConfig.ready().

Ids: rooms.E001 a value of the wrong type, rooms.E002 a number out of range, rooms.E003 a
value of the wrong form (an address, a URL, an origin) or a template no loader finds,
rooms.E004 settings that contradict each other, rooms.E005 a dotted path that does not import
or names the wrong kind of class.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.module_loading import import_string

# Whole numbers and their ranges (bounds included).
_INT_RANGES: dict[str, tuple[int, int]] = {
    "ROOMS_MAX_CAPACITY": (1, 50),
    "ROOMS_START_GRACE_SECONDS": (0, 3600),
    "ROOMS_RESUME_GRACE_SECONDS": (0, 600),
    "ROOMS_JOIN_TICKET_TTL_SECONDS": (5, 3600),
    "ROOMS_GUEST_COOKIE_DAYS": (1, 3650),
    "ROOMS_REMINDER_MINUTES": (1, 1440),
    "ROOMS_NO_SHOW_MINUTES": (1, 1440),
    "ROOMS_IDLE_MINUTES": (1, 1440),
    "ROOMS_CREATED_PER_HOUR": (1, 100_000),
    "ROOMS_INVITATIONS_PER_HOUR": (1, 100_000),
    "ROOMS_REPORTS_PER_HOUR": (1, 100_000),
    "ROOMS_PASSWORD_MIN_LENGTH": (1, 128),
    "ROOMS_PASSWORD_ATTEMPTS": (1, 1000),
    "ROOMS_PASSWORD_BACKOFF_MAX_SECONDS": (1, 86_400),
    "ROOMS_PASSWORD_WINDOW_SECONDS": (1, 86_400),
    "ROOMS_PASSWORD_ROOM_GUESSES": (1, 10_000),
    "ROOMS_PASSWORD_ROOM_WINDOW_SECONDS": (10, 86_400),
    "ROOMS_JOINS_PER_ADDRESS": (1, 100_000),
    "ROOMS_JOINS_PER_ROOM": (1, 1_000_000),
    "ROOMS_JOIN_WINDOW_SECONDS": (1, 86_400),
    "ROOMS_LOBBY_MAX": (1, 10_000),
    "ROOMS_SOCKET_CHANGES": (1, 100_000),
    "ROOMS_SOCKET_CHANGES_WINDOW_SECONDS": (1, 86_400),
    "ROOMS_TRUSTED_PROXY_COUNT": (0, 10),
    "ROOMS_CELERY_METRICS_PORT": (0, 65535),
    "ROOMS_SFU_LAST_N": (0, 49),
    "ROOMS_SFU_AUDIO_SLOTS": (1, 10),
    "ROOMS_SFU_DEAD_AFTER_SECONDS": (1, 60),
    "ROOMS_SFU_HEALTH_PORT": (0, 65535),
    "ROOMS_TURN_TTL_SECONDS": (60, 86_400),
}
# Seconds that may be fractions (the lease runs on a timer).
_NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "ROOMS_LEASE_RENEW_SECONDS": (1, 60),
    "ROOMS_LEASE_SECONDS": (2, 600),
}
_BOOLS = ("ROOMS_EMBEDDED", "ROOMS_LEASE", "ROOMS_SFU_EMBEDDED")
_STRINGS = ("ROOMS_METRICS_TOKEN", "ROOMS_TURN_SECRET")
_NONEMPTY_STRINGS = ("ROOMS_BASE_TEMPLATE",)
_IP_ADDRESSES = ("ROOMS_CELERY_METRICS_ADDRESS", "ROOMS_SFU_HEALTH_ADDRESS")
_REDIS_SCHEMES = ("redis", "rediss", "unix")


def check_settings(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name, (low, high) in _INT_RANGES.items():
        errors += _whole_number(name, low, high)
    # Up to ROOMS_MAX_CAPACITY; when that is wrong itself, up to the most it could be.
    high = _INT_RANGES["ROOMS_MAX_CAPACITY"][1]
    if not _whole_number("ROOMS_MAX_CAPACITY", 1, high):
        high = settings.ROOMS_MAX_CAPACITY
    errors += _whole_number("ROOMS_DEFAULT_CAPACITY", 1, high)
    for name, (low_f, high_f) in _NUMBER_RANGES.items():
        errors += _number(name, low_f, high_f)
    for name in _BOOLS:
        if not isinstance(getattr(settings, name), bool):
            errors.append(_wrong_type(name, "True or False"))
    for name in _STRINGS:
        if not isinstance(getattr(settings, name), str):
            errors.append(_wrong_type(name, "a string"))
    for name in _NONEMPTY_STRINGS:
        value = getattr(settings, name)
        if not isinstance(value, str) or not value:
            errors.append(_wrong_type(name, "a non-empty string"))
    for name in _IP_ADDRESSES:
        errors += _ip_address(name)
    errors += _redis_url()
    errors += _lease()
    errors += _each(
        "ROOMS_ALLOWED_ORIGINS",
        _is_origin,
        "exact origins like https://social.example.com or http://127.0.0.1:8000",
    )
    errors += _each("ROOMS_METRICS_ALLOWED_IPS", _is_network, "IP addresses or networks")
    errors += _each("ROOMS_SFU_ICE_ADDRESSES", _is_ip, "IP addresses")
    errors += _each(
        "ROOMS_SFU_STUN_URLS", lambda url: url.startswith("stun:"), "URLs starting with stun:"
    )
    errors += _udp_ports()
    errors += _each(
        "ROOMS_TURN_URLS",
        lambda url: url.startswith(("turn:", "turns:", "stun:")),
        "URLs starting with turn:, turns: or stun:",
    )
    if settings.ROOMS_TURN_URLS and not settings.ROOMS_TURN_SECRET:
        errors.append(
            Error(
                "ROOMS_TURN_SECRET must be set when ROOMS_TURN_URLS is set.",
                hint="The static-auth-secret of coturn's use-auth-secret (docs/coturn.md).",
                id="rooms.E004",
            )
        )
    errors += _authentication_classes()
    errors += _adapter()
    errors += _base_template()
    return errors


# --- one kind of value each ----------------------------------------------------------------


def _wrong_type(name: str, expected: str) -> Error:
    value = getattr(settings, name)
    return Error(f"{name} must be {expected}, got {value!r}.", id="rooms.E001")


def _whole_number(name: str, low: int, high: int) -> list[CheckMessage]:
    value = getattr(settings, name)
    if isinstance(value, bool) or not isinstance(value, int):
        return [_wrong_type(name, "a whole number")]
    if not low <= value <= high:
        return [Error(f"{name} must be between {low} and {high}, got {value}.", id="rooms.E002")]
    return []


def _number(name: str, low: float, high: float) -> list[CheckMessage]:
    value = getattr(settings, name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [_wrong_type(name, "a number")]
    if not low <= value <= high:
        return [Error(f"{name} must be between {low} and {high}, got {value}.", id="rooms.E002")]
    return []


def _each(name: str, valid: Callable[[str], bool], expected: str) -> list[CheckMessage]:
    """A list or tuple of strings, each of which `valid` accepts."""
    values = getattr(settings, name)
    if isinstance(values, str) or not isinstance(values, list | tuple):
        return [_wrong_type(name, f"a list of {expected}")]
    return [
        Error(f"{name} must list {expected}, got {value!r}.", id="rooms.E003")
        for value in values
        if not isinstance(value, str) or not valid(value)
    ]


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_network(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def _is_origin(value: str) -> bool:
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and "*" not in value
        and parts.path in ("", "/")
        and not parts.query
        and not parts.username
    )


def _ip_address(name: str) -> list[CheckMessage]:
    value = getattr(settings, name)
    if not isinstance(value, str) or not _is_ip(value):
        return [Error(f"{name} must be an IP address, got {value!r}.", id="rooms.E003")]
    return []


def _redis_url() -> list[CheckMessage]:
    value = settings.ROOMS_REDIS_URL
    if value is None:
        return []
    if isinstance(value, str):
        scheme, sep, rest = value.partition("://")
        if sep and rest and scheme.lower() in _REDIS_SCHEMES:
            return []
    return [
        Error(
            "ROOMS_REDIS_URL must be None or a URL starting with redis://, rediss:// or "
            f"unix://, got {value!r}.",
            id="rooms.E003",
        )
    ]


def _udp_ports() -> list[CheckMessage]:
    value = settings.ROOMS_SFU_UDP_PORTS
    if value is None:
        return []
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(port, int) and not isinstance(port, bool) for port in value)
        and 1024 <= value[0] <= value[1] <= 65535
    ):
        return []
    return [
        Error(
            "ROOMS_SFU_UDP_PORTS must be None or a (first, last) pair of UDP ports with "
            f"1024 <= first <= last <= 65535, got {value!r}.",
            id="rooms.E004",
        )
    ]


def _lease() -> list[CheckMessage]:
    renew, lease = settings.ROOMS_LEASE_RENEW_SECONDS, settings.ROOMS_LEASE_SECONDS
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (renew, lease))
    if numbers and lease < 2 * renew:
        return [
            Error(
                f"ROOMS_LEASE_SECONDS ({lease}) must be at least twice "
                f"ROOMS_LEASE_RENEW_SECONDS ({renew}).",
                hint="A process that missed one renewal would be taken for dead.",
                id="rooms.E004",
            )
        ]
    return []


def _adapter() -> list[CheckMessage]:
    from rooms.adapter import get_adapter

    try:
        get_adapter()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="rooms.E005")]
    return []


def _base_template() -> list[CheckMessage]:
    name = settings.ROOMS_BASE_TEMPLATE
    if not isinstance(name, str) or not name:
        return []  # reported above as the wrong type
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return [
            Error(
                f"ROOMS_BASE_TEMPLATE names {name!r}, which no template loader finds.",
                hint="Name the site's own base template, or leave the setting out for "
                "Rooms' standalone rooms/base.html.",
                id="rooms.E003",
            )
        ]
    return []


def _authentication_classes() -> list[CheckMessage]:
    name = "ROOMS_API_AUTHENTICATION_CLASSES"
    errors = _each(name, lambda path: "." in path, "dotted paths of authentication classes")
    if errors:
        return errors
    from rest_framework.authentication import BaseAuthentication, TokenAuthentication

    for path in settings.ROOMS_API_AUTHENTICATION_CLASSES:
        try:
            cls = import_string(path)
        except ImportError as error:
            errors.append(Error(f"{name}: {path!r} cannot be imported: {error}", id="rooms.E005"))
            continue
        if not isinstance(cls, type) or not issubclass(cls, BaseAuthentication):
            errors.append(
                Error(
                    f"{name}: {path!r} is not a DRF authentication class "
                    "(a subclass of rest_framework.authentication.BaseAuthentication).",
                    id="rooms.E005",
                )
            )
        elif (
            issubclass(cls, TokenAuthentication)
            # Without a model of its own, it reads rest_framework.authtoken's Token.
            and cls.model is None
            and not apps.is_installed("rest_framework.authtoken")
        ):
            errors.append(
                Error(
                    f"{name} lists {path!r}, which needs 'rest_framework.authtoken' in "
                    "INSTALLED_APPS.",
                    hint=f"Add it, or leave {path} out of {name}.",
                    id="rooms.E004",
                )
            )
    return errors

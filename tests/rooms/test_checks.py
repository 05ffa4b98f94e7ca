"""Rooms' system checks (rooms/checks.py): each wrong setting is reported by name."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from rooms.checks import check_settings

SESSION = "rest_framework.authentication.SessionAuthentication"


def messages(**overrides: Any) -> list[str]:
    with override_settings(**overrides):
        return [f"{error.id}: {error.msg}" for error in check_settings()]


def test_the_reference_site_passes() -> None:
    assert messages() == []


def test_they_run_with_djangos_checks() -> None:
    with override_settings(ROOMS_MAX_CAPACITY=500):
        found = run_checks(tags=["rooms"])
    assert [error.id for error in found] == ["rooms.E002"]
    assert "ROOMS_MAX_CAPACITY" in found[0].msg


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # wrong types
        ({"ROOMS_MAX_CAPACITY": "50"}, "rooms.E001: ROOMS_MAX_CAPACITY must be a whole number"),
        ({"ROOMS_LOBBY_MAX": True}, "rooms.E001: ROOMS_LOBBY_MAX must be a whole number"),
        ({"ROOMS_LEASE": "yes"}, "rooms.E001: ROOMS_LEASE must be True or False"),
        ({"ROOMS_SFU_EMBEDDED": 1}, "rooms.E001: ROOMS_SFU_EMBEDDED must be True or False"),
        ({"ROOMS_EMBEDDED": None}, "rooms.E001: ROOMS_EMBEDDED must be True or False"),
        ({"ROOMS_LEASE_SECONDS": "4"}, "rooms.E001: ROOMS_LEASE_SECONDS must be a number"),
        ({"ROOMS_TURN_SECRET": None}, "rooms.E001: ROOMS_TURN_SECRET must be a string"),
        ({"ROOMS_METRICS_TOKEN": 123}, "rooms.E001: ROOMS_METRICS_TOKEN must be a string"),
        ({"ROOMS_BASE_TEMPLATE": ""}, "rooms.E001: ROOMS_BASE_TEMPLATE must be a non-empty"),
        (
            {"ROOMS_BASE_TEMPLATE": "no/such.html"},
            "rooms.E003: ROOMS_BASE_TEMPLATE names 'no/such.html', which no template loader",
        ),
        (
            {"ROOMS_SFU_ICE_ADDRESSES": "127.0.0.1"},
            "rooms.E001: ROOMS_SFU_ICE_ADDRESSES must be a list of IP addresses",
        ),
        (
            {"ROOMS_API_AUTHENTICATION_CLASSES": SESSION},
            "rooms.E001: ROOMS_API_AUTHENTICATION_CLASSES must be a list",
        ),
        # out of range
        ({"ROOMS_MAX_CAPACITY": 51}, "rooms.E002: ROOMS_MAX_CAPACITY must be between 1 and 50"),
        ({"ROOMS_MAX_CAPACITY": 0}, "rooms.E002: ROOMS_MAX_CAPACITY must be between 1 and 50"),
        (
            {"ROOMS_MAX_CAPACITY": 10, "ROOMS_DEFAULT_CAPACITY": 12},
            "rooms.E002: ROOMS_DEFAULT_CAPACITY must be between 1 and 10, got 12",
        ),
        ({"ROOMS_TRUSTED_PROXY_COUNT": -1}, "rooms.E002: ROOMS_TRUSTED_PROXY_COUNT"),
        ({"ROOMS_SFU_LAST_N": 50}, "rooms.E002: ROOMS_SFU_LAST_N must be between 0 and 49"),
        ({"ROOMS_SFU_HEALTH_PORT": 70000}, "rooms.E002: ROOMS_SFU_HEALTH_PORT"),
        ({"ROOMS_CELERY_METRICS_PORT": -1}, "rooms.E002: ROOMS_CELERY_METRICS_PORT"),
        ({"ROOMS_TURN_TTL_SECONDS": 59}, "rooms.E002: ROOMS_TURN_TTL_SECONDS"),
        ({"ROOMS_LEASE_RENEW_SECONDS": 0.5}, "rooms.E002: ROOMS_LEASE_RENEW_SECONDS"),
        ({"ROOMS_PASSWORD_ROOM_WINDOW_SECONDS": 5}, "rooms.E002: ROOMS_PASSWORD_ROOM_WINDOW"),
        # wrong form
        (
            {"ROOMS_ALLOWED_ORIGINS": ["https://*.example.com"]},
            "rooms.E003: ROOMS_ALLOWED_ORIGINS must list exact origins",
        ),
        (
            {"ROOMS_ALLOWED_ORIGINS": ["https://example.com/app"]},
            "rooms.E003: ROOMS_ALLOWED_ORIGINS must list exact origins",
        ),
        (
            {"ROOMS_METRICS_ALLOWED_IPS": ["10.0.0.0/8", "intranet"]},
            "rooms.E003: ROOMS_METRICS_ALLOWED_IPS must list IP addresses or networks, "
            "got 'intranet'",
        ),
        (
            {"ROOMS_SFU_ICE_ADDRESSES": ["not-an-ip"]},
            "rooms.E003: ROOMS_SFU_ICE_ADDRESSES must list IP addresses",
        ),
        (
            {"ROOMS_SFU_STUN_URLS": ["turn:x"]},
            "rooms.E003: ROOMS_SFU_STUN_URLS must list URLs starting with stun:",
        ),
        (
            {"ROOMS_TURN_URLS": ["http://x"], "ROOMS_TURN_SECRET": "s"},
            "rooms.E003: ROOMS_TURN_URLS must list URLs starting with turn:, turns: or stun:",
        ),
        (
            {"ROOMS_SFU_HEALTH_ADDRESS": "localhost"},
            "rooms.E003: ROOMS_SFU_HEALTH_ADDRESS must be an IP address",
        ),
        (
            {"ROOMS_CELERY_METRICS_ADDRESS": "0.0.0.256"},
            "rooms.E003: ROOMS_CELERY_METRICS_ADDRESS must be an IP address",
        ),
        (
            {"ROOMS_REDIS_URL": "localhost:6379"},
            "rooms.E003: ROOMS_REDIS_URL must be None or a URL starting with redis://",
        ),
        # settings that contradict each other
        (
            {"ROOMS_TURN_URLS": ["turn:turn.example.com:3478"], "ROOMS_TURN_SECRET": ""},
            "rooms.E004: ROOMS_TURN_SECRET must be set when ROOMS_TURN_URLS is set",
        ),
        (
            {"ROOMS_LEASE_RENEW_SECONDS": 3, "ROOMS_LEASE_SECONDS": 5},
            "rooms.E004: ROOMS_LEASE_SECONDS (5) must be at least twice ROOMS_LEASE_RENEW_SECONDS",
        ),
        ({"ROOMS_SFU_UDP_PORTS": (40000, 0)}, "rooms.E004: ROOMS_SFU_UDP_PORTS must be None or"),
        ({"ROOMS_SFU_UDP_PORTS": (41000, 40000)}, "rooms.E004: ROOMS_SFU_UDP_PORTS"),
        ({"ROOMS_SFU_UDP_PORTS": (80, 90)}, "rooms.E004: ROOMS_SFU_UDP_PORTS"),
        ({"ROOMS_SFU_UDP_PORTS": (40000, 70000)}, "rooms.E004: ROOMS_SFU_UDP_PORTS"),
        ({"ROOMS_SFU_UDP_PORTS": 40000}, "rooms.E004: ROOMS_SFU_UDP_PORTS"),
        # dotted paths
        (
            {"ROOMS_API_AUTHENTICATION_CLASSES": ["rest_framework.authentication.Nope"]},
            "rooms.E005: ROOMS_API_AUTHENTICATION_CLASSES: "
            "'rest_framework.authentication.Nope' cannot be imported",
        ),
        (
            {"ROOMS_ADAPTER": "accounts.adapter.Nope"},
            "rooms.E005: ROOMS_ADAPTER = 'accounts.adapter.Nope' can't be imported",
        ),
        (
            {"ROOMS_ADAPTER": "accounts.models.User"},
            "rooms.E005: ROOMS_ADAPTER = 'accounts.models.User' is not a subclass of "
            "rooms.adapter.RoomsAdapter",
        ),
        ({"ROOMS_ADAPTER": ""}, "rooms.E005: ROOMS_ADAPTER must be the dotted path"),
        (
            {"ROOMS_API_AUTHENTICATION_CLASSES": ["rest_framework.permissions.IsAuthenticated"]},
            "rooms.E005: ROOMS_API_AUTHENTICATION_CLASSES: "
            "'rest_framework.permissions.IsAuthenticated' is not a DRF authentication class",
        ),
    ],
)
def test_a_wrong_setting_is_named(overrides: dict[str, Any], expected: str) -> None:
    found = messages(**overrides)
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


def test_right_values_pass() -> None:
    assert (
        messages(
            ROOMS_ALLOWED_ORIGINS=("https://social.example.com", "http://127.0.0.1:8000"),
            ROOMS_METRICS_ALLOWED_IPS=["10.0.0.0/8", "::1"],
            ROOMS_SFU_ICE_ADDRESSES=["127.0.0.1", "2001:db8::1"],
            ROOMS_SFU_STUN_URLS=["stun:stun.example.com:3478"],
            ROOMS_SFU_UDP_PORTS=(40000, 40100),
            ROOMS_TURN_URLS=["turn:t.example.com:3478?transport=udp", "turns:t.example.com"],
            ROOMS_TURN_SECRET="s3cret",
            ROOMS_REDIS_URL="rediss://cache.example.com:6380/0",
            ROOMS_LEASE_RENEW_SECONDS=1.5,
            ROOMS_LEASE_SECONDS=3,
            ROOMS_MAX_CAPACITY=20,
            ROOMS_DEFAULT_CAPACITY=20,
        )
        == []
    )


def test_token_authentication_needs_authtoken_installed(settings) -> None:  # type: ignore[no-untyped-def]
    settings.INSTALLED_APPS = [
        a for a in settings.INSTALLED_APPS if a != "rest_framework.authtoken"
    ]
    found = messages()
    assert found == [
        "rooms.E004: ROOMS_API_AUTHENTICATION_CLASSES lists "
        "'rest_framework.authentication.TokenAuthentication', which needs "
        "'rest_framework.authtoken' in INSTALLED_APPS."
    ]
    assert (
        messages(
            ROOMS_API_AUTHENTICATION_CLASSES=["rest_framework.authentication.SessionAuthentication"]
        )
        == []
    )

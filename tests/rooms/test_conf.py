"""Rooms' settings have their defaults in one place (rooms/conf.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import global_settings
from django.conf import settings as django_settings
from django.test import override_settings

from rooms import conf

ROOT = Path(__file__).resolve().parents[2]


def fresh_settings(**site: object) -> object:
    """A settings object holding Django's defaults plus `site`, with nothing of Rooms'."""
    from django.conf import UserSettingsHolder

    holder = UserSettingsHolder(global_settings)
    for name, value in site.items():
        setattr(holder, name, value)
    return holder


def test_every_setting_gets_its_default() -> None:
    settings = fresh_settings()
    conf.apply_defaults(settings)
    assert settings.ROOMS_ADAPTER == "rooms.adapter.DefaultAdapter"  # type: ignore[attr-defined]
    assert settings.ROOMS_BASE_TEMPLATE == "rooms/base.html"  # type: ignore[attr-defined]
    # A site without rest_framework.authtoken: session only, so `check` passes as it is.
    assert settings.ROOMS_API_AUTHENTICATION_CLASSES == [  # type: ignore[attr-defined]
        "rest_framework.authentication.SessionAuthentication",
    ]
    assert settings.ROOMS_MAX_CAPACITY == 50  # type: ignore[attr-defined]
    assert settings.ROOMS_REDIS_URL is None  # type: ignore[attr-defined]
    assert settings.ROOMS_SFU_UDP_PORTS is None  # type: ignore[attr-defined]
    assert settings.ROOMS_TURN_URLS == []  # type: ignore[attr-defined]
    for setting in conf.SETTINGS:
        assert setting.name.startswith("ROOMS_")
        assert setting.meaning, setting.name
        assert hasattr(settings, setting.name)


def test_defaults_that_follow_other_settings() -> None:
    embedded = fresh_settings(CSRF_TRUSTED_ORIGINS=["https://social.example.com"])
    conf.apply_defaults(embedded)
    assert embedded.ROOMS_EMBEDDED is True  # type: ignore[attr-defined]
    assert embedded.ROOMS_SFU_EMBEDDED is True  # type: ignore[attr-defined]
    assert embedded.ROOMS_DEFAULT_CAPACITY == 50  # type: ignore[attr-defined]
    assert embedded.ROOMS_ALLOWED_ORIGINS == ["https://social.example.com"]  # type: ignore[attr-defined]

    services = fresh_settings(ROOMS_REDIS_URL="redis://127.0.0.1:6379/0", ROOMS_MAX_CAPACITY=12)
    conf.apply_defaults(services)
    assert services.ROOMS_EMBEDDED is False  # type: ignore[attr-defined]
    assert services.ROOMS_SFU_EMBEDDED is False  # type: ignore[attr-defined]
    assert services.ROOMS_DEFAULT_CAPACITY == 12  # type: ignore[attr-defined]
    assert services.ROOMS_ALLOWED_ORIGINS == []  # type: ignore[attr-defined]


def test_what_the_site_sets_is_kept() -> None:
    settings = fresh_settings(ROOMS_MAX_CAPACITY=8, ROOMS_EMBEDDED=False)
    conf.apply_defaults(settings)
    assert settings.ROOMS_MAX_CAPACITY == 8  # type: ignore[attr-defined]
    assert settings.ROOMS_EMBEDDED is False  # type: ignore[attr-defined]


def test_a_default_list_is_the_sites_own_copy() -> None:
    first, second = fresh_settings(), fresh_settings()
    conf.apply_defaults(first)
    conf.apply_defaults(second)
    first.ROOMS_TURN_URLS.append("turn:x")  # type: ignore[attr-defined]
    assert second.ROOMS_TURN_URLS == []  # type: ignore[attr-defined]


def test_overrides_are_read_where_rooms_reads_them() -> None:
    with override_settings(ROOMS_IDLE_MINUTES=3):
        assert django_settings.ROOMS_IDLE_MINUTES == 3
    assert django_settings.ROOMS_IDLE_MINUTES == 15


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    """manage.py with the reference site stripped of every ROOMS_* setting."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "tests.rooms.site_without_rooms_settings"
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_site_without_any_rooms_setting_passes_check_and_gets_the_defaults() -> None:
    checked = manage("check")
    assert checked.returncode == 0, checked.stderr
    assert "no issues" in checked.stdout
    code = (
        "import json; from django.conf import settings; from rooms.conf import SETTINGS; "
        "print(json.dumps({s.name: getattr(settings, s.name) for s in SETTINGS}))"
    )
    shown = manage("shell", "-v", "0", "-c", code)
    assert shown.returncode == 0, shown.stderr
    # The defaults that follow the site's own settings follow the reference site's.
    expected = fresh_settings(INSTALLED_APPS=django_settings.INSTALLED_APPS)
    conf.apply_defaults(expected)
    assert json.loads(shown.stdout) == {
        s.name: json.loads(json.dumps(getattr(expected, s.name))) for s in conf.SETTINGS
    }


def test_every_setting_is_in_the_operators_table() -> None:
    """docs/settings.md is where an operator looks: no setting may be missing from it."""
    table = (Path(__file__).resolve().parents[2] / "docs" / "settings.md").read_text()
    missing = [s.name for s in conf.SETTINGS if f"| `{s.name}` |" not in table]
    assert missing == []


def test_token_authentication_comes_with_the_authtoken_app() -> None:
    settings = fresh_settings(INSTALLED_APPS=["rest_framework", "rest_framework.authtoken"])
    conf.apply_defaults(settings)
    assert settings.ROOMS_API_AUTHENTICATION_CLASSES == [  # type: ignore[attr-defined]
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ]

"""Start-up with real environments, in subprocesses: settings are read once per process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "Z9x!q2@Lm#7pWv$4rT8&yB1^" + "n" * 20,
    "ALLOWED_HOSTS": "rooms.example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_production_values() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DEBUG": "perhaps"}, "DEBUG"),
        ({"DEBUG": "false"}, "SECRET_KEY"),
        ({"DATABASE_URL": "mysql://db/rooms"}, "DATABASE_URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"ROOMS_MAX_CAPACITY": "500"}, "ROOMS_MAX_CAPACITY"),
        ({"ROOMS_RESUME_GRACE_SECONDS": "soon"}, "ROOMS_RESUME_GRACE_SECONDS"),
        ({"SFU_UDP_PORT_MIN": "70000"}, "SFU_UDP_PORT_MIN"),
        ({"TURN_TTL_SECONDS": "10"}, "TURN_TTL_SECONDS"),
        ({"DB_POOL_MAX": "0"}, "DB_POOL_MAX"),
        ({"DB_POOL_MIN": "5", "DB_POOL_MAX": "4"}, "DB_POOL_MIN"),
        ({"DB_POOL_TIMEOUT": "soon"}, "DB_POOL_TIMEOUT"),
        ({"ROOMS_TRUSTED_PROXY_COUNT": "-1"}, "ROOMS_TRUSTED_PROXY_COUNT"),
        ({"LOGIN_ATTEMPTS_PER_ACCOUNT": "0"}, "LOGIN_ATTEMPTS_PER_ACCOUNT"),
        ({"ROOMS_CREATED_PER_HOUR": "many"}, "ROOMS_CREATED_PER_HOUR"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(env: dict[str, str], variable: str) -> None:
    result = manage("check", **env)
    assert result.returncode != 0
    assert variable in result.stderr
    assert "ImproperlyConfigured" in result.stderr


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"TURN_URLS": "turn:turn.example.com:3478"}, "ROOMS_TURN_SECRET"),
        ({"TURN_URLS": "http://x", "TURN_SECRET": "s"}, "ROOMS_TURN_URLS"),
        ({"SFU_UDP_PORT_MIN": "40000"}, "ROOMS_SFU_UDP_PORTS"),
        ({"SFU_UDP_PORT_MIN": "41000", "SFU_UDP_PORT_MAX": "40000"}, "ROOMS_SFU_UDP_PORTS"),
        ({"SFU_ICE_ADDRESSES": "not-an-ip"}, "ROOMS_SFU_ICE_ADDRESSES"),
        ({"SFU_STUN_URLS": "turn:x"}, "ROOMS_SFU_STUN_URLS"),
        ({"ROOMS_LEASE_RENEW_SECONDS": "3"}, "ROOMS_LEASE_SECONDS"),
        ({"ROOMS_ALLOWED_ORIGINS": "social.example.com"}, "ROOMS_ALLOWED_ORIGINS"),
        ({"ROOMS_ALLOWED_ORIGINS": "https://*.example.com"}, "ROOMS_ALLOWED_ORIGINS"),
        ({"ROOMS_ALLOWED_ORIGINS": "https://example.com/app"}, "ROOMS_ALLOWED_ORIGINS"),
        ({"ROOMS_ALLOWED_ORIGINS": "https://example.com:port"}, "ROOMS_ALLOWED_ORIGINS"),
        # The default comes from CSRF_TRUSTED_ORIGINS; a wildcard there needs explicit origins.
        ({"CSRF_TRUSTED_ORIGINS": "https://*.example.com"}, "ROOMS_ALLOWED_ORIGINS"),
        ({"ROOMS_METRICS_ALLOWED_IPS": "10.0.0.0/8,intranet"}, "ROOMS_METRICS_ALLOWED_IPS"),
        ({"SFU_HEALTH_ADDRESS": "localhost"}, "ROOMS_SFU_HEALTH_ADDRESS"),
        ({"ROOMS_CELERY_METRICS_ADDRESS": "localhost"}, "ROOMS_CELERY_METRICS_ADDRESS"),
    ],
)
def test_bad_combination_fails_the_system_check_naming_the_setting(
    env: dict[str, str], setting: str
) -> None:
    """What one variable cannot say alone (a form, a relation) is Rooms' system checks' job
    (rooms/checks.py); `check` runs them, and so do migrate, runserver and `manage.py sfu`."""
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SystemCheckError" in result.stderr
    assert setting in result.stderr


def test_embedded_mode_by_default() -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.ROOMS_EMBEDDED, s.DATABASES['default']['ENGINE'], "
        "s.CHANNEL_LAYERS['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER)"
    )
    result = manage("shell", "-v", "0", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "True",
    ]


def test_services_mode_from_urls() -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.ROOMS_EMBEDDED, s.DATABASES['default']['ENGINE'], "
        "s.CHANNEL_LAYERS['default']['BACKEND'], s.CELERY_BROKER_URL)"
    )
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        DATABASE_URL="postgres://u@127.0.0.1:5432/rooms",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "django.db.backends.postgresql",
        "channels_redis.core.RedisChannelLayer",
        "redis://127.0.0.1:6379/0",
    ]


def test_channel_layer_reads_outlast_its_blocking_pop() -> None:
    """channels-redis blocks up to brpop_timeout in BZPOPMIN; a client read timeout no longer
    than that kills consumers on a busy machine (redis-py 8 defaults to 5 s, the same)."""
    code = (
        "from django.conf import settings as s; "
        "from channels_redis.core import RedisChannelLayer; "
        "print(s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['socket_timeout'], "
        "RedisChannelLayer.brpop_timeout)"
    )
    result = manage("shell", "-v", "0", "-c", code, REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stderr
    read_timeout, blocking_pop = (float(x) for x in result.stdout.split())
    assert read_timeout >= 2 * blocking_pop

"""Settings for Rooms, read from the environment.

With nothing set this is the embedded mode: SQLite, the in-memory channel layer, eager Celery
tasks, all in one process. `DATABASE_URL` and `REDIS_URL` switch to PostgreSQL, channels-redis
and Celery on Redis. See README.md ("Configuration") for every variable.

Rooms' own settings (ROOMS_*) all have defaults (rooms/conf.py) and are checked by Django's
system checks (rooms/checks.py); this site reads the ones an operator may change from the
environment, whose variable names are kept as they were (REDIS_URL, SFU_*, TURN_*). A value of
the wrong type or out of range stops start-up here, naming the variable; a value of the wrong
form (an address, an origin) or settings that contradict each other fail `manage.py check`
(run by migrate, runserver and `manage.py sfu`), naming the setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET = "embedded-mode-only-not-secret-" + "x" * 40  # refused when DEBUG is off
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET)
if not DEBUG and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "accounts",
    "feed",
    "rooms",
]

MIDDLEWARE = [
    # First: it answers 503 for a database or Redis outage met in any layer below it.
    "config.errors.OutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the page: the language cookie, else Accept-Language, else LANGUAGE_CODE;
    # accounts.middleware.UserLanguageMiddleware then puts an account's own choice first.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "feed.context_processors.notifications",
            ],
        },
    },
]
# Rooms' pages (the room page) extend the site's own base template: it has the blocks Rooms
# needs (title, head, content, scripts; see rooms/templates/rooms/base.html).
ROOMS_BASE_TEMPLATE = "base.html"

# --- Database -------------------------------------------------------------------------------

_database_url = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
DB_POOL_MIN = env_int("DB_POOL_MIN", 1, minimum=0, maximum=1000)
DB_POOL_MAX = env_int("DB_POOL_MAX", 10, minimum=1, maximum=1000)
DB_POOL_TIMEOUT = env_int("DB_POOL_TIMEOUT", 10, minimum=1, maximum=600)
if DB_POOL_MIN > DB_POOL_MAX:
    raise ImproperlyConfigured(
        f"DB_POOL_MIN ({DB_POOL_MIN}) must not be more than DB_POOL_MAX ({DB_POOL_MAX})"
    )
DATABASES: dict[str, dict[str, Any]]
if _database_url is None:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # Several requests may write at once even in one process (ASGI threads).
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
else:
    # A bounded pool per process (psycopg's, through Django): at most DB_POOL_MAX connections
    # however many requests are in flight; a request that waited DB_POOL_TIMEOUT seconds for
    # one gets a 503 with Retry-After. Sizing per process type: README, "Database connections".
    # Connections go back to the pool after each request, so no persistent ones (CONN_MAX_AGE).
    # Query parameters of DATABASE_URL become connection options (`?application_name=web`).
    DATABASES = {"default": dict(dj_database_url.parse(_database_url, conn_max_age=0))}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": DB_POOL_MIN,
            "max_size": DB_POOL_MAX,
            "timeout": float(DB_POOL_TIMEOUT),
        }
    # Each connection is checked as it is handed out, so connections broken by a database
    # restart are replaced instead of failing a request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# How Rooms learns about this site's people: friendships, blocks, names, suspension.
ROOMS_ADAPTER = "accounts.adapter.AccountsAdapter"

# --- Redis: channel layer, cache, Celery ------------------------------------------------------

ROOMS_REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
ROOMS_EMBEDDED = ROOMS_REDIS_URL is None

CHANNEL_LAYERS: dict[str, dict[str, Any]]
CACHES: dict[str, dict[str, Any]]

if ROOMS_REDIS_URL is None:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s timeout by default, exactly as long as
                # channels-redis blocks in BZPOPMIN: under load the read timed out first and
                # killed the socket's consumer. Reads must outlast the blocking pop.
                # After a Redis restart every pooled connection is dead, and the first send
                # on each failed (an event lost per connection): connections idle for a
                # second are checked before use, and a failed command is tried again.
                "hosts": [
                    {
                        "address": ROOMS_REDIS_URL,
                        "socket_timeout": 15,
                        "socket_connect_timeout": 5,
                        "health_check_interval": 1,
                        "retry": AsyncRetry(ExponentialBackoff(cap=1.0, base=0.05), 3),
                        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
                    }
                ],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": ROOMS_REDIS_URL,
            "KEY_PREFIX": "rooms",
        }
    }
    CELERY_BROKER_URL = ROOMS_REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False

CELERY_TASK_ACKS_LATE = True
# The periodic sweep (celery beat) catches up whatever a lost or late task left undone: due
# reminders, going-live notices, no-show and idle rooms, vanished seats. In embedded mode the
# run command (`python -m config.embedded`, used by `make run`) runs the same sweep in-process.
ROOMS_SWEEP_SECONDS = env_int("ROOMS_SWEEP_SECONDS", 30, minimum=1, maximum=3600)
CELERY_BEAT_SCHEDULE = {
    "rooms-sweep": {"task": "rooms.tasks.sweep_rooms", "schedule": float(ROOMS_SWEEP_SECONDS)},
    "announcements-sweep": {
        "task": "rooms.tasks.sweep_announcements",
        "schedule": float(ROOMS_SWEEP_SECONDS),
    },
}
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"

# --- Auth, i18n, static ---------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "feed:home"
LOGOUT_REDIRECT_URL = "login"

# Languages (docs/i18n.md): a person's own choice (accounts.User.language for an account, the
# language cookie for a guest; the switcher in the header sets both), else the browser's
# Accept-Language, else LANGUAGE_CODE. Rooms' strings come with the rooms package
# (rooms/locale/); this site's own are in locale/.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ar", "العربية"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- HTTPS (production) ---------------------------------------------------------------------

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Load balancers and Prometheus ask the processes directly, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- Limits (counted in the cache: Redis outside embedded mode; README "Limits") --------------

# How many reverse proxies in front of the servers append to X-Forwarded-For. 0: the client's
# address is the connection's peer and the header is ignored (rooms/addresses.py).
ROOMS_TRUSTED_PROXY_COUNT = env_int("ROOMS_TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)
# Failed log-ins (the form and POST /api/auth/token/ alike) per account and per address.
LOGIN_ATTEMPTS_PER_ACCOUNT = env_int("LOGIN_ATTEMPTS_PER_ACCOUNT", 10, minimum=1, maximum=10_000)
LOGIN_ATTEMPTS_PER_ADDRESS = env_int("LOGIN_ATTEMPTS_PER_ADDRESS", 30, minimum=1, maximum=10_000)
LOGIN_WINDOW_SECONDS = env_int("LOGIN_WINDOW_SECONDS", 900, minimum=10, maximum=86_400)
SIGNUPS_PER_ADDRESS_PER_HOUR = env_int(
    "SIGNUPS_PER_ADDRESS_PER_HOUR", 10, minimum=1, maximum=10_000
)
# Writes per account per hour.
POSTS_PER_HOUR = env_int("POSTS_PER_HOUR", 60, minimum=1, maximum=100_000)
FRIEND_REQUESTS_PER_HOUR = env_int("FRIEND_REQUESTS_PER_HOUR", 30, minimum=1, maximum=100_000)
ROOMS_CREATED_PER_HOUR = env_int("ROOMS_CREATED_PER_HOUR", 20, minimum=1, maximum=100_000)
ROOMS_INVITATIONS_PER_HOUR = env_int("ROOMS_INVITATIONS_PER_HOUR", 300, minimum=1, maximum=100_000)
ROOMS_REPORTS_PER_HOUR = env_int("ROOMS_REPORTS_PER_HOUR", 20, minimum=1, maximum=100_000)
# Pages (origins) that may open the room and feed sockets besides the socket's own origin
# (rooms/origins.py); exact scheme://host[:port], as Django wants CSRF_TRUSTED_ORIGINS.
ROOMS_ALLOWED_ORIGINS = env_list("ROOMS_ALLOWED_ORIGINS", CSRF_TRUSTED_ORIGINS)

# --- REST API -------------------------------------------------------------------------------

# Rooms' API views name their own parsers, renderer and exception handler; the site's API
# (accounts, feed) shares them through these defaults.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The token first: a request that sends one is the token's (no CSRF check, even with
        # a session cookie in the jar), and missing credentials are a 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rooms.parsers.SafeJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "rooms.errors.api_exception_handler",
}
# The same two for Rooms' API: a browser signed in to the site, or a client holding an
# account token (POST /api/auth/token/).
ROOMS_API_AUTHENTICATION_CLASSES = REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
SPECTACULAR_SETTINGS = {
    "TITLE": "Rooms API",
    "DESCRIPTION": "Group video rooms: friendships, the feed, rooms, lobby and host controls.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Operation ids and tags from the path after /api/v1/ ("rooms_join", not "v1_rooms_join").
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The docs page (api/docs/) also lists the sockets' messages and links their AsyncAPI
    # contract (api/schema/socket/).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "rooms.socket_schema.describe_sockets",
    ],
    # Fields named alike with different choices ("state", "reason") get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "RoomStateEnum": "rooms.models.RoomState",
        "ParticipantStateEnum": "rooms.models.ParticipantState",
        "RoomCardStateEnum": ["scheduled", "open"],
        "ReportReasonEnum": "rooms.models.ReportReason",
        "JoinReasonEnum": "rooms.serializers.JOIN_REASON_CHOICES",
    },
}

# --- Rooms ----------------------------------------------------------------------------------

ROOMS_MAX_CAPACITY = env_int("ROOMS_MAX_CAPACITY", 50, minimum=1, maximum=50)
ROOMS_DEFAULT_CAPACITY = env_int(
    "ROOMS_DEFAULT_CAPACITY", ROOMS_MAX_CAPACITY, minimum=1, maximum=ROOMS_MAX_CAPACITY
)
# How far in the past a scheduled start may lie when a room is created or rescheduled.
ROOMS_START_GRACE_SECONDS = env_int("ROOMS_START_GRACE_SECONDS", 300, minimum=0, maximum=3600)
# An admitted participant who dropped may come back within this many seconds and keep the seat.
ROOMS_RESUME_GRACE_SECONDS = env_int("ROOMS_RESUME_GRACE_SECONDS", 15, minimum=0, maximum=600)
# The web process's lease on its sockets' seats (rooms/lease.py): renewed every
# ROOMS_LEASE_RENEW_SECONDS; a process silent for ROOMS_LEASE_SECONDS is dead and its seats
# count as dropped from its last renewal.
ROOMS_LEASE = env_bool("ROOMS_LEASE", True)
ROOMS_LEASE_RENEW_SECONDS = env_int("ROOMS_LEASE_RENEW_SECONDS", 1, minimum=1, maximum=60)
ROOMS_LEASE_SECONDS = env_int("ROOMS_LEASE_SECONDS", 4, minimum=2, maximum=600)
ROOMS_JOIN_TICKET_TTL_SECONDS = env_int(
    "ROOMS_JOIN_TICKET_TTL_SECONDS", 60, minimum=5, maximum=3600
)
# Room passwords (README "Room passwords"; counted in the cache: Redis). The shortest password
# a host may set; wrong passwords one person may try before each further try waits (an address
# four times as many), doubling from 1 s up to the longest wait; how long a wrong password is
# held against its person and address; and how many wrong passwords a room takes per window
# from anyone (and as many again from people with none on record).
ROOMS_PASSWORD_MIN_LENGTH = env_int("ROOMS_PASSWORD_MIN_LENGTH", 8, minimum=1, maximum=128)
ROOMS_PASSWORD_ATTEMPTS = env_int("ROOMS_PASSWORD_ATTEMPTS", 5, minimum=1, maximum=1000)
ROOMS_PASSWORD_BACKOFF_MAX_SECONDS = env_int(
    "ROOMS_PASSWORD_BACKOFF_MAX_SECONDS", 600, minimum=1, maximum=86_400
)
ROOMS_PASSWORD_WINDOW_SECONDS = env_int(
    "ROOMS_PASSWORD_WINDOW_SECONDS", 3600, minimum=1, maximum=86_400
)
ROOMS_PASSWORD_ROOM_GUESSES = env_int("ROOMS_PASSWORD_ROOM_GUESSES", 10, minimum=1, maximum=10_000)
ROOMS_PASSWORD_ROOM_WINDOW_SECONDS = env_int(
    "ROOMS_PASSWORD_ROOM_WINDOW_SECONDS", 300, minimum=10, maximum=86_400
)
ROOMS_GUEST_COOKIE_DAYS = env_int("ROOMS_GUEST_COOKIE_DAYS", 365, minimum=1, maximum=3650)
# Schedules: reminders this long before a scheduled start; a scheduled room whose host has not
# come this long after its start expires; an open room with nobody in it ends after this long.
ROOMS_REMINDER_MINUTES = env_int("ROOMS_REMINDER_MINUTES", 10, minimum=1, maximum=1440)
ROOMS_NO_SHOW_MINUTES = env_int("ROOMS_NO_SHOW_MINUTES", 30, minimum=1, maximum=1440)
ROOMS_IDLE_MINUTES = env_int("ROOMS_IDLE_MINUTES", 15, minimum=1, maximum=1440)
# Floods (counted in the cache: Redis). Join attempts per window, per client address in a room
# and per room (hosts and co-hosts are not counted); people waiting in one room's lobby; changes
# the room hears (hand, mute, report) per person in a room per window, across reconnects.
ROOMS_JOINS_PER_ADDRESS = env_int("ROOMS_JOINS_PER_ADDRESS", 60, minimum=1, maximum=100_000)
ROOMS_JOINS_PER_ROOM = env_int("ROOMS_JOINS_PER_ROOM", 300, minimum=1, maximum=1_000_000)
ROOMS_JOIN_WINDOW_SECONDS = env_int("ROOMS_JOIN_WINDOW_SECONDS", 60, minimum=1, maximum=86_400)
ROOMS_LOBBY_MAX = env_int("ROOMS_LOBBY_MAX", 50, minimum=1, maximum=10_000)
ROOMS_SOCKET_CHANGES = env_int("ROOMS_SOCKET_CHANGES", 20, minimum=1, maximum=100_000)
ROOMS_SOCKET_CHANGES_WINDOW_SECONDS = env_int(
    "ROOMS_SOCKET_CHANGES_WINDOW_SECONDS", 10, minimum=1, maximum=86_400
)

# TURN (coturn with `use-auth-secret`): short-lived credentials for admitted participants,
# renewed over their room socket halfway through (docs/coturn.md).
ROOMS_TURN_URLS = env_list("TURN_URLS", [])
ROOMS_TURN_SECRET = env_str("TURN_SECRET", "")
ROOMS_TURN_TTL_SECONDS = env_int("TURN_TTL_SECONDS", 600, minimum=60, maximum=86_400)

# Logs: one line per record on stderr, with time, level, process, logger and the room and
# participant it is about; JSON for a collector, text for people (rooms/logs.py). Tickets,
# tokens and passwords are redacted whoever logs them. aioice and aiortc say several things per
# connection at INFO: they speak from LOG_MEDIA_LEVEL up.
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_MEDIA_LEVEL = env_str("LOG_MEDIA_LEVEL", "WARNING").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "text").lower()
for _name, _value, _allowed in (
    ("LOG_LEVEL", LOG_LEVEL, _LOG_LEVELS),
    ("LOG_MEDIA_LEVEL", LOG_MEDIA_LEVEL, _LOG_LEVELS),
    ("LOG_FORMAT", LOG_FORMAT, ("text", "json")),
):
    if _value not in _allowed:
        raise ImproperlyConfigured(f"{_name} must be one of {', '.join(_allowed)}, got {_value!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "rooms.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "rooms.logs.JsonFormatter"},
        "text": {"()": "rooms.logs.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "aioice": {"level": LOG_MEDIA_LEVEL},
        "aiortc": {"level": LOG_MEDIA_LEVEL},
        # Django's own console handler (DEBUG) printed every refused request a second time,
        # unformatted, link token included: its records go through the handler above only.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
    },
}
# Celery logs through the handler above instead of installing its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Health and metrics (rooms/health.py, rooms/metrics.py, rooms/celery_metrics.py) ---------

# /metrics of the web processes: a bearer token and/or the addresses (or networks) allowed to
# scrape; with neither, anyone who reaches the process may read it (counts only, no ids).
ROOMS_METRICS_TOKEN = env_str("ROOMS_METRICS_TOKEN", "")
ROOMS_METRICS_ALLOWED_IPS = env_list("ROOMS_METRICS_ALLOWED_IPS", [])
# A Celery worker serves its task outcomes on this port (0: off), on this address.
ROOMS_CELERY_METRICS_PORT = env_int("ROOMS_CELERY_METRICS_PORT", 0, minimum=0, maximum=65535)
ROOMS_CELERY_METRICS_ADDRESS = env_str("ROOMS_CELERY_METRICS_ADDRESS", "127.0.0.1")
SPECTACULAR_SETTINGS.update(
    {
        # Served by the project itself: the docs page works offline.
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
    }
)

# --- Media relay (SFU workers) ----------------------------------------------------------------

# The addresses a worker offers as ICE host candidates (empty: every non-loopback interface;
# 127.0.0.1 keeps all media on loopback, as the tests do).
ROOMS_SFU_ICE_ADDRESSES = env_list("SFU_ICE_ADDRESSES", [])
# STUN servers for the workers' own candidates; none by default, so no public server is used.
ROOMS_SFU_STUN_URLS = env_list("SFU_STUN_URLS", [])
ROOMS_SFU_LAST_N = env_int("SFU_LAST_N", 9, minimum=0, maximum=49)
ROOMS_SFU_AUDIO_SLOTS = env_int("SFU_AUDIO_SLOTS", 3, minimum=1, maximum=10)
ROOMS_SFU_UDP_GSO = env_bool("SFU_UDP_GSO", True)
# Run a worker inside the web process (embedded mode) instead of `manage.py sfu` processes.
ROOMS_SFU_EMBEDDED = env_bool("SFU_EMBEDDED", ROOMS_EMBEDDED)
# `manage.py sfu` answers /healthz, /readyz and /metrics on this port (0: off; one port per
# worker process, or --health-port), on this address.
ROOMS_SFU_HEALTH_PORT = env_int("SFU_HEALTH_PORT", 0, minimum=0, maximum=65535)
ROOMS_SFU_HEALTH_ADDRESS = env_str("SFU_HEALTH_ADDRESS", "127.0.0.1")
# A worker whose heartbeat is older than this is dead and its rooms move.
ROOMS_SFU_DEAD_AFTER_SECONDS = env_int("SFU_DEAD_AFTER_SECONDS", 2, minimum=1, maximum=60)
# UDP ports a `manage.py sfu` worker binds its media sockets to (both or neither, 1024 or more;
# open them in the firewall). Without them the kernel picks ephemeral ports. Setting one only
# gives a pair that the system check refuses (ROOMS_SFU_UDP_PORTS).
_sfu_port_min = env_int("SFU_UDP_PORT_MIN", 0, minimum=0, maximum=65535)
_sfu_port_max = env_int("SFU_UDP_PORT_MAX", 0, minimum=0, maximum=65535)
ROOMS_SFU_UDP_PORTS: tuple[int, int] | None = (
    (_sfu_port_min, _sfu_port_max) if _sfu_port_min or _sfu_port_max else None
)

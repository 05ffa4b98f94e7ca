"""A second, unrelated social network that adds Rooms as an operator would.

Nothing of the reference site (accounts, feed, config) is installed: the members are
people.Member (email log-in, no username), the graph is a one-way Follow, the pages extend
this site's own layout.html and Rooms lives under /video/. Everything Rooms needs is in the
"Rooms" section at the end (README, "Add Rooms to your site"); every other Rooms setting keeps
its default.

The database is one SQLite file (HOSTSITE_DB), so a daphne started by the tests shares the
test database with the test process.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "hostsite-tests-only-" + "s" * 40
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "channels",
    "rooms",
    "people",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hostsite.urls"
ASGI_APPLICATION = "hostsite.asgi.application"

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
            ],
        },
    },
]

_database = os.environ.get("HOSTSITE_DB", str(BASE_DIR / "hostsite.sqlite3"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _database,
        # Two processes (the tests and their daphne) write to the same file.
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        "TEST": {"NAME": os.environ.get("HOSTSITE_TEST_DB", str(BASE_DIR / "test.sqlite3"))},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "people.Member"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # tests only: fast
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# With HOSTSITE_REDIS_URL, production's topology (README, "Add Rooms to your site", 10-11):
# channels-redis, the cache and Rooms on Redis, media in a `manage.py sfu` process of its own.
# Without it, one process: the in-memory layer and the SFU inside daphne.
_redis = os.environ.get("HOSTSITE_REDIS_URL") or None
if _redis is None:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _redis,
            "KEY_PREFIX": "hostsite",
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [_redis]},
        }
    }

# The site's own API conventions, which are not Rooms': Rooms' API must keep its own error
# shape and parsers whatever these say.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

# One process: tasks run where they are sent.
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# --- Rooms ----------------------------------------------------------------------------------

ROOMS_ADAPTER = "people.adapter.PeopleAdapter"
ROOMS_BASE_TEMPLATE = "layout.html"
# Members use the API from the site's pages only, signed in by their session: no API tokens
# (rest_framework.authtoken is not installed, and Rooms' default also offers tokens).
ROOMS_API_AUTHENTICATION_CLASSES = ["rest_framework.authentication.SessionAuthentication"]
ROOMS_REDIS_URL = _redis
# Media stays on the loopback interface.
ROOMS_SFU_ICE_ADDRESSES = ["127.0.0.1"]

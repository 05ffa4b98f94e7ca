"""Rooms' settings: every one is named ROOMS_* and has its default here, in one table.

A site sets only what it wants to change, in its own settings module. At start-up (when the
app registry creates RoomsConfig, before any app's models or `ready()`), `apply_defaults` puts
the default of every setting the site left out onto `django.conf.settings`; Rooms' code then
reads plain `settings.ROOMS_...`, and tests override them with `override_settings` as usual.
The values are checked by Django's system checks (rooms/checks.py), whose messages name the
setting.

Why a small module of our own rather than django-appconf, which works the same way (defaults
placed on the settings object at start-up): a few defaults follow other settings
(ROOMS_DEFAULT_CAPACITY is ROOMS_MAX_CAPACITY, ROOMS_EMBEDDED is "no ROOMS_REDIS_URL",
ROOMS_SFU_EMBEDDED is ROOMS_EMBEDDED, ROOMS_ALLOWED_ORIGINS is the site's
CSRF_TRUSTED_ORIGINS), which a table says plainly; the same table says what each setting
means, for the README and for whoever reads the code; and one dependency fewer for a package
that follows every Django release from the 5.2 LTS on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import LazySettings
from django.conf import settings as django_settings

_UNSET = object()


@dataclass(frozen=True)
class Setting:
    name: str
    # A plain value, or `derive`: computed from the settings as they stand (earlier rows of the
    # table included), for a default that follows another setting.
    default: Any = _UNSET
    derive: Callable[[Any], Any] | None = None
    meaning: str = ""

    def __post_init__(self) -> None:
        if (self.default is _UNSET) == (self.derive is None):
            raise TypeError(f"{self.name}: give a default or a derive, not both or neither")

    def default_for(self, settings: Any) -> Any:
        if self.derive is not None:
            return self.derive(settings)
        # A copy: a site or a test that appends to a default list must not change the table.
        return copy.deepcopy(self.default)


SETTINGS: tuple[Setting, ...] = (
    # --- Connecting Rooms to the site ---
    Setting(
        "ROOMS_ADAPTER",
        "rooms.adapter.DefaultAdapter",
        meaning="Dotted path of the adapter class that tells Rooms about the site's people: "
        "friends, blocks, display names, avatars, who may create and join rooms. The default "
        "knows plain django.contrib.auth only (nobody is a friend, no blocks).",
    ),
    Setting(
        "ROOMS_BASE_TEMPLATE",
        "rooms/base.html",
        meaning="The template Rooms' pages extend; the default is a minimal standalone page "
        "shipped with Rooms. Name the site's own base template to put rooms inside the site.",
    ),
    Setting(
        "ROOMS_API_AUTHENTICATION_CLASSES",
        derive=lambda s: [
            *(
                ["rest_framework.authentication.TokenAuthentication"]
                if "rest_framework.authtoken" in s.INSTALLED_APPS
                else []
            ),
            "rest_framework.authentication.SessionAuthentication",
        ],
        meaning="Dotted paths of the DRF authentication classes of Rooms' API, whatever the "
        "site's REST_FRAMEWORK says; the first that recognises the request wins, and the first "
        "one's scheme is the WWW-Authenticate of a 401. Default: token when the site has "
        "rest_framework.authtoken in INSTALLED_APPS (so a request with an Authorization header "
        "is the token's, with no CSRF check, even with a session cookie; missing or bad "
        "credentials are a 401 with WWW-Authenticate: Token), then the session (alone: a 403).",
    ),
    # --- Processes and Redis ---
    Setting(
        "ROOMS_REDIS_URL",
        None,
        meaning="Redis (redis://, rediss:// or unix://) where SFU workers register and rooms "
        "are placed on them, process leases are watched and Celery task metrics are kept. "
        "None: everything in one process (embedded mode).",
    ),
    Setting(
        "ROOMS_EMBEDDED",
        derive=lambda s: not s.ROOMS_REDIS_URL,
        meaning="One process does everything (no `manage.py sfu` workers). Default: true "
        "when ROOMS_REDIS_URL is not set.",
    ),
    Setting(
        "ROOMS_LEASE",
        True,
        meaning="Each web process holds a lease on its sockets' seats, so the seats of a "
        "process that died are freed.",
    ),
    Setting(
        "ROOMS_LEASE_RENEW_SECONDS",
        1,
        meaning="How often a web process renews its lease (1-60).",
    ),
    Setting(
        "ROOMS_LEASE_SECONDS",
        4,
        meaning="A process silent this long is dead and its seats count as dropped (2-600, at "
        "least twice ROOMS_LEASE_RENEW_SECONDS).",
    ),
    # --- Rooms ---
    Setting("ROOMS_MAX_CAPACITY", 50, meaning="The largest capacity a room may have (1-50)."),
    Setting(
        "ROOMS_DEFAULT_CAPACITY",
        derive=lambda s: s.ROOMS_MAX_CAPACITY,
        meaning="A new room's capacity when its host names none (1 to ROOMS_MAX_CAPACITY; "
        "default: ROOMS_MAX_CAPACITY).",
    ),
    Setting(
        "ROOMS_START_GRACE_SECONDS",
        300,
        meaning="How far in the past a scheduled start may lie when a room is created or "
        "rescheduled (0-3600).",
    ),
    Setting(
        "ROOMS_RESUME_GRACE_SECONDS",
        15,
        meaning="A participant who dropped keeps the seat this long and may come back "
        "without the lobby (0-600).",
    ),
    Setting(
        "ROOMS_JOIN_TICKET_TTL_SECONDS",
        60,
        meaning="How long the ticket from the join API opens the room socket (5-3600).",
    ),
    Setting(
        "ROOMS_GUEST_COOKIE_DAYS",
        365,
        meaning="Lifetime of the guest and device cookies (1-3650).",
    ),
    Setting(
        "ROOMS_REMINDER_MINUTES",
        10,
        meaning="Reminders go out this long before a scheduled start (1-1440).",
    ),
    Setting(
        "ROOMS_NO_SHOW_MINUTES",
        30,
        meaning="A scheduled room whose host has not come this long after its start expires "
        "(1-1440).",
    ),
    Setting(
        "ROOMS_IDLE_MINUTES",
        15,
        meaning="An open room with nobody in it ends after this long (1-1440).",
    ),
    # --- Limits and floods (counted in the cache) ---
    Setting(
        "ROOMS_CREATED_PER_HOUR",
        20,
        meaning="Rooms one account may create per hour (1-100000).",
    ),
    Setting(
        "ROOMS_INVITATIONS_PER_HOUR",
        300,
        meaning="Invitations one account may send per hour (1-100000).",
    ),
    Setting(
        "ROOMS_REPORTS_PER_HOUR",
        20,
        meaning="Reports one person may file per hour (1-100000).",
    ),
    Setting(
        "ROOMS_PASSWORD_MIN_LENGTH",
        8,
        meaning="The shortest room password a host may set (1-128).",
    ),
    Setting(
        "ROOMS_PASSWORD_ATTEMPTS",
        5,
        meaning="Wrong room passwords one person may try before each further try waits (an "
        "address four times as many) (1-1000).",
    ),
    Setting(
        "ROOMS_PASSWORD_BACKOFF_MAX_SECONDS",
        600,
        meaning="The longest wait between password tries; the wait doubles from 1 s (1-86400).",
    ),
    Setting(
        "ROOMS_PASSWORD_WINDOW_SECONDS",
        3600,
        meaning="How long a wrong password is held against its person and address (1-86400).",
    ),
    Setting(
        "ROOMS_PASSWORD_ROOM_GUESSES",
        10,
        meaning="Wrong passwords one room takes per window from anyone, and as many again "
        "from people with none on record (1-10000).",
    ),
    Setting(
        "ROOMS_PASSWORD_ROOM_WINDOW_SECONDS",
        300,
        meaning="The window of ROOMS_PASSWORD_ROOM_GUESSES (10-86400).",
    ),
    Setting(
        "ROOMS_JOINS_PER_ADDRESS",
        60,
        meaning="Join attempts per client address in one room per window (1-100000).",
    ),
    Setting(
        "ROOMS_JOINS_PER_ROOM",
        300,
        meaning="Join attempts per room per window; hosts and co-hosts are not counted "
        "(1-1000000).",
    ),
    Setting(
        "ROOMS_JOIN_WINDOW_SECONDS",
        60,
        meaning="The window of the two join limits (1-86400).",
    ),
    Setting(
        "ROOMS_LOBBY_MAX",
        50,
        meaning="People waiting in one room's lobby at once (1-10000).",
    ),
    Setting(
        "ROOMS_SOCKET_CHANGES",
        20,
        meaning="Changes the room hears (hand, mute, report) per person per window, across "
        "reconnects (1-100000).",
    ),
    Setting(
        "ROOMS_SOCKET_CHANGES_WINDOW_SECONDS",
        10,
        meaning="The window of ROOMS_SOCKET_CHANGES (1-86400).",
    ),
    # --- Addresses and origins ---
    Setting(
        "ROOMS_TRUSTED_PROXY_COUNT",
        0,
        meaning="Reverse proxies in front of the servers that append to X-Forwarded-For; 0: "
        "the client's address is the connection's peer (0-10).",
    ),
    Setting(
        "ROOMS_ALLOWED_ORIGINS",
        derive=lambda s: list(getattr(s, "CSRF_TRUSTED_ORIGINS", [])),
        meaning="Pages (exact scheme://host[:port]) that may open the room sockets besides "
        "the socket's own origin. Default: the site's CSRF_TRUSTED_ORIGINS.",
    ),
    # --- Health and metrics ---
    Setting(
        "ROOMS_METRICS_TOKEN",
        "",
        meaning="Bearer token /metrics asks for; empty: none.",
    ),
    Setting(
        "ROOMS_METRICS_ALLOWED_IPS",
        [],
        meaning="Addresses or networks allowed to read /metrics; empty: anyone who reaches "
        "the process (counts only, no ids).",
    ),
    Setting(
        "ROOMS_CELERY_METRICS_PORT",
        0,
        meaning="Port on which a Celery worker serves its task metrics; 0: off.",
    ),
    Setting(
        "ROOMS_CELERY_METRICS_ADDRESS",
        "127.0.0.1",
        meaning="IP address the Celery worker's metrics listen on.",
    ),
    # --- Media relay (SFU workers) ---
    Setting(
        "ROOMS_SFU_EMBEDDED",
        derive=lambda s: s.ROOMS_EMBEDDED,
        meaning="Run a media worker inside the web process instead of `manage.py sfu` "
        "processes. Default: ROOMS_EMBEDDED.",
    ),
    Setting(
        "ROOMS_SFU_ICE_ADDRESSES",
        [],
        meaning="IP addresses a worker offers as ICE host candidates; empty: every "
        "non-loopback interface.",
    ),
    Setting(
        "ROOMS_SFU_STUN_URLS",
        [],
        meaning="STUN servers (stun:...) for the workers' own candidates; none by default, so "
        "no public server is asked.",
    ),
    Setting(
        "ROOMS_SFU_LAST_N",
        9,
        meaning="Video streams (the most recent speakers) forwarded to each person (0-49).",
    ),
    Setting(
        "ROOMS_SFU_AUDIO_SLOTS",
        3,
        meaning="Loudest voices forwarded to each person (1-10).",
    ),
    Setting(
        "ROOMS_SFU_UDP_GSO",
        True,
        meaning="Send runs of same-sized datagrams to one person as one UDP GSO message "
        "(Linux 4.18+; switched off by itself where the kernel refuses it).",
    ),
    Setting(
        "ROOMS_SFU_DEAD_AFTER_SECONDS",
        2,
        meaning="A worker whose heartbeat is older than this is dead and its rooms move (1-60).",
    ),
    Setting(
        "ROOMS_SFU_UDP_PORTS",
        None,
        meaning="(first, last) UDP ports a `manage.py sfu` worker binds its media sockets to, "
        "1024 <= first <= last <= 65535; None: ports the kernel picks.",
    ),
    Setting(
        "ROOMS_SFU_HEALTH_PORT",
        0,
        meaning="Port on which `manage.py sfu` answers /healthz, /readyz and /metrics (one per "
        "worker process, or --health-port); 0: off.",
    ),
    Setting(
        "ROOMS_SFU_HEALTH_ADDRESS",
        "127.0.0.1",
        meaning="IP address the SFU worker's health port listens on.",
    ),
    # --- TURN (coturn with use-auth-secret) ---
    Setting(
        "ROOMS_TURN_URLS",
        [],
        meaning="TURN servers (turn:, turns: or stun: URLs) whose short-lived credentials "
        "admitted participants get; empty: no TURN.",
    ),
    Setting(
        "ROOMS_TURN_SECRET",
        "",
        meaning="coturn's static-auth-secret; required when ROOMS_TURN_URLS is set.",
    ),
    Setting(
        "ROOMS_TURN_TTL_SECONDS",
        600,
        meaning="How long TURN credentials last; renewed over the room socket halfway (60-86400).",
    ),
)

DEFAULTS_BY_NAME = {setting.name: setting for setting in SETTINGS}


def apply_defaults(settings: LazySettings | Any = django_settings) -> None:
    """Give every ROOMS_* setting the site left out its default (idempotent)."""
    for setting in SETTINGS:
        if not hasattr(settings, setting.name):
            setattr(settings, setting.name, setting.default_for(settings))

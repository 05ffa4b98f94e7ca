"""Time-limited TURN credentials (coturn's REST API scheme, `use-auth-secret`).

username = "<expiry unix time>:<participant id>", credential = base64(HMAC-SHA1(secret,
username)). coturn recomputes the HMAC with the same `static-auth-secret` and refuses the
username once its time has passed. Issued only to admitted participants, and renewed over
their room socket halfway through a credential's lifetime (`rooms.turn_renewal`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import TypedDict

from django.conf import settings


class IceServerConfig(TypedDict):
    urls: list[str]
    username: str
    credential: str


def ice_servers(*, participant_id: int, now: float | None = None) -> list[IceServerConfig]:
    if not settings.ROOMS_TURN_URLS:
        return []
    expiry = int(time.time() if now is None else now) + settings.ROOMS_TURN_TTL_SECONDS
    username = f"{expiry}:{participant_id}"
    digest = hmac.new(settings.ROOMS_TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
    return [
        {
            "urls": list(settings.ROOMS_TURN_URLS),
            "username": username,
            "credential": base64.b64encode(digest).decode(),
        }
    ]


def renew_after_seconds() -> float | None:
    """How long a socket waits before it hands out fresh credentials (None without TURN).

    Half the lifetime: the credential a client holds then always has at least half of its
    lifetime left for its next connection (a rebuild, a move to another worker).
    """
    if not settings.ROOMS_TURN_URLS:
        return None
    return settings.ROOMS_TURN_TTL_SECONDS / 2

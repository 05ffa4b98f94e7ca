"""Flood control on the room socket, in two layers.

- Every message spends from the socket's own token bucket: warned once, then closed. Pure and
  synchronous (the clock is passed in), so it is tested without an event loop; it costs nothing
  per message and stops a fast sender at once.
- Changes the whole room hears (`CHANGES`) also spend from the person's budget in the room,
  kept in the cache (rooms/budget.py), so it follows them across reconnects, new visits and web
  processes: closing a flooder's socket no longer hands it a fresh allowance.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from rooms import budget


class Verdict(enum.Enum):
    OK = "ok"
    WARN = "warn"  # drop this message and tell the client to slow down
    CLOSE = "close"  # still flooding after the warning


@dataclass
class TokenBucket:
    rate: float = 10.0  # messages per second, sustained
    burst: float = 40.0  # a page load or an ICE burst fits in this
    calm_after: float = 10.0  # seconds without overflow that forgive a warning
    tokens: float = field(init=False)
    updated: float | None = field(default=None, init=False)
    warned_at: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self, now: float) -> Verdict:
        if self.updated is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.warned_at is not None and now - self.warned_at > self.calm_after:
            self.warned_at = None
        if self.tokens >= 1:
            self.tokens -= 1
            return Verdict.OK
        if self.warned_at is None:
            self.warned_at = now
            return Verdict.WARN
        return Verdict.CLOSE


# Client messages that change what everyone in the room sees: each one is an event broadcast to
# the room (a report bumps the version everyone hears). Host controls are not here: only people
# the host trusts can send them, and a host admitting a crowd one by one must not be slowed.
CHANGES = frozenset({"hand.set", "audio.set", "camera.set", "report"})


def always_allowed(message: Any) -> bool:
    """Muting yourself, turning your camera off and lowering your hand work even over budget:
    nobody should be stuck unmuted, on camera or with a raised hand, and repeating them changes
    nothing, so they cannot flood."""
    if message.type == "audio.set":
        return bool(message.muted)
    if message.type == "camera.set":
        return bool(message.off)
    if message.type == "hand.set":
        return not message.raised
    return False


def person_key(*, room_id: int, participant_id: int, user_id: int | None, guest_id: str) -> str:
    """Whose budget a visit spends: the account or guest identity in this room, so a new visit
    (leave and join again) spends from the same one; the visit itself only without either."""
    if user_id is not None:
        who = f"u{user_id}"
    elif guest_id:
        who = f"g{guest_id}"
    else:
        who = f"p{participant_id}"
    return f"room-changes:{room_id}:{who}"


class ChangeBudget:
    """One socket's view of its person's shared change budget.

    At most one cache round trip per change; none while the socket already knows the budget
    is spent (it remembers until when), so a flooder's refused messages cost no round trips.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.spent_until = 0.0  # time.monotonic() before which the budget is known to be spent

    def waiting(self) -> float:
        """Seconds until the budget is known to refill; 0.0 when unknown (ask `spend`)."""
        return max(0.0, self.spent_until - time.monotonic())

    def spend(self) -> float:
        """0.0 when the change may go ahead, else the seconds to wait. Blocking: call it from
        a thread."""
        now = time.monotonic()
        wait = budget.spend(
            self.key,
            limit=settings.ROOMS_SOCKET_CHANGES,
            window=settings.ROOMS_SOCKET_CHANGES_WINDOW_SECONDS,
        )
        if wait:
            self.spent_until = now + wait
        return wait

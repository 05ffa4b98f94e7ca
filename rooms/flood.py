"""Flood control for one socket: a token bucket, warned once, then closed.

Pure and synchronous (the clock is passed in) so it is tested without an event loop.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


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

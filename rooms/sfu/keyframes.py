"""Keyframe request aggregation and rate limiting toward one publisher stream (pure).

Every subscriber of a stream may send PLI/FIR, and every slot switch asks for a keyframe too.
A burst of requests must reach the publisher as one PLI, and PLIs must not arrive faster than
``min_interval`` (each keyframe is several times the size of a delta frame). A request that
arrives inside the interval is remembered and sent by ``poll`` once the interval is over, so
no request is lost, it is only merged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class KeyframeRequestLimiter:
    min_interval: float = 0.3
    last_sent: float = float("-inf")
    pending: bool = False
    requested: int = 0
    sent: int = 0

    def request(self, now: float) -> bool:
        """Register a request; True means: send a PLI now."""
        self.requested += 1
        if now - self.last_sent >= self.min_interval:
            self._mark_sent(now)
            return True
        self.pending = True
        return False

    def poll(self, now: float) -> bool:
        """True when a merged, deferred request is due now."""
        if self.pending and now - self.last_sent >= self.min_interval:
            self._mark_sent(now)
            return True
        return False

    def _mark_sent(self, now: float) -> None:
        self.last_sent = now
        self.pending = False
        self.sent += 1

"""A bot subscriber's receive-side bandwidth estimate, sent to the SFU as REMB (pure).

A browser estimates what it can receive from the packets' one-way delay and sends it as REMB
(or lets the sender estimate from transport-wide feedback): when the delay through the network
keeps growing, a queue is building at a bottleneck and the estimate falls to a share of what
arrives; while the delay is low it grows slowly. This is a much simpler model of the same
idea (the delay-based part of the GCC draft, without its filters):

- Each packet's transit is its arrival time less its RTP time (per SSRC, timestamps unwrapped);
  its *queueing delay* is that transit less the smallest transit on its SSRC over the last
  ``BASE_EPOCH`` to twice that (two epochs' minima). The base moves: a delay that stays (a
  standing queue, or a receiving process that is steadily late) stops counting after a while,
  as GCC looks at the delay's trend rather than its level.
- Every ``evaluate`` (about each 0.1 s) takes the smallest queueing delay of the packets since
  the last one (jitter only ever adds delay; the minimum over all streams is the queue).
- Overuse: that delay is above ``OVERUSE`` and rose by more than ``RISE`` over the last
  ``TREND_SPAN``: the estimate becomes ``DECREASE`` times the rate that arrived over the last
  ``DECREASE_WINDOW`` (while a queue builds, that is what the bottleneck carries; a longer
  window would still hold what arrived before the link slowed down), and is sent at once.
  After a decrease the sender needs a while to follow, and its packets already queued still
  arrive late: another decrease only once the delay went ``RISE_AGAIN`` beyond what it
  was at the last one (the sender did not slow down enough), at least ``AGAIN_AFTER`` s
  later, or after the queue emptied (below ``OVERUSE / 2``). Without that, every keyframe
  burst on a standing queue would cut the estimate again, down to nothing.
- Below ``OVERUSE / 2`` (no queue to speak of): the estimate grows by ``GROWTH`` per second,
  but not past ``CAP_FACTOR`` times the arriving rate plus ``CAP_STEP`` (it never falls
  because of that cap: what arrives may be less than the link carries).
- In between (a queue that drains or holds): unchanged.
- Sent at least every ``RESEND`` s, and at once after a decrease (as libwebrtc sends a REMB
  that fell by more than a few per cent).
"""

from __future__ import annotations

from collections import deque

OVERUSE = 0.05
RISE = 0.01
TREND_SPAN = 0.3
DECREASE = 0.85
RISE_AGAIN = 0.05
AGAIN_AFTER = 0.5
RATE_WINDOW = 0.5
DECREASE_WINDOW = 0.25
BASE_EPOCH = 5.0
GROWTH = 1.08
CAP_FACTOR = 1.5
CAP_STEP = 10_000
RESEND = 1.0


class ReceiveEstimate:
    def __init__(self) -> None:
        self.value: int | None = None
        """The estimate in bit/s (None until a ``RATE_WINDOW`` of packets arrived)."""
        self.decreases = 0
        self._base: dict[int, tuple[float, float]] = {}  # ssrc: (previous, current) minima
        self._epoch_end: float | None = None
        self._stamp: dict[int, tuple[int, int]] = {}  # ssrc: (last timestamp, unwrapped)
        self._queue_min = float("inf")
        self._arrived: deque[tuple[float, int]] = deque()
        self._first: float | None = None
        self._delays: deque[tuple[float, float]] = deque()
        self._last_decrease = float("-inf")
        self._decreased_at: float | None = None  # the delay at the last decrease
        self._last_sent = float("-inf")
        self._last_evaluated: float | None = None

    def on_packet(
        self, ssrc: int, timestamp: int, clock_rate: int, arrival: float, size: int
    ) -> None:
        last = self._stamp.get(ssrc)
        if last is None:
            unwrapped = timestamp
        else:
            step = (timestamp - last[0]) & 0xFFFFFFFF
            unwrapped = last[1] + (step - (1 << 32) if step >= 1 << 31 else step)
        self._stamp[ssrc] = (timestamp, unwrapped)
        transit = arrival - unwrapped / clock_rate
        if self._epoch_end is None:
            self._epoch_end = arrival + BASE_EPOCH
        elif arrival >= self._epoch_end:
            self._epoch_end = arrival + BASE_EPOCH
            self._base = {k: (current, float("inf")) for k, (_, current) in self._base.items()}
        previous, current = self._base.get(ssrc, (transit, transit))
        current = min(current, transit)
        self._base[ssrc] = (previous, current)
        self._queue_min = min(self._queue_min, transit - min(previous, current))
        self._arrived.append((arrival, size))
        if self._first is None:
            self._first = arrival

    def evaluate(self, now: float) -> int | None:
        """Update the estimate; the bitrate to send as REMB now, or None."""
        arrived = self._arrived
        while arrived and arrived[0][0] < now - RATE_WINDOW:
            arrived.popleft()
        elapsed = 0.0 if self._last_evaluated is None else now - self._last_evaluated
        self._last_evaluated = now
        queue, self._queue_min = self._queue_min, float("inf")
        if self._first is None or now - self._first < RATE_WINDOW:
            return None
        rate = int(sum(size for _, size in arrived) * 8 / RATE_WINDOW)
        cap = int(rate * CAP_FACTOR) + CAP_STEP
        if self.value is None:
            self.value = cap
        decreased = False
        if queue != float("inf"):
            delays = self._delays
            delays.append((now, queue))
            while len(delays) > 1 and delays[1][0] <= now - TREND_SPAN:
                delays.popleft()
            rising = queue - delays[0][1] > RISE
            again = self._decreased_at is None or (
                queue > self._decreased_at + RISE_AGAIN and now - self._last_decrease >= AGAIN_AFTER
            )
            if queue > OVERUSE and rising:
                if again:
                    recent = sum(size for at, size in arrived if at >= now - DECREASE_WINDOW)
                    self.value = int(recent * 8 / DECREASE_WINDOW * DECREASE)
                    self._last_decrease = now
                    self._decreased_at = queue
                    self.decreases += 1
                    decreased = True
            elif queue < OVERUSE / 2:
                self._decreased_at = None
                grown = int(self.value * GROWTH**elapsed)
                self.value = max(self.value, min(grown, cap))
        if decreased or now - self._last_sent >= RESEND:
            self._last_sent = now
            return self.value
        return None

"""Loudest-speaker selection from RFC 6464 audio levels, with hysteresis (pure).

Levels arrive per packet as 0..127 (-dBov; 127 is silence). Each participant gets a smoothed
loudness (127 - level, so bigger is louder). ``update(now)`` returns who is selected:
- a participant is eligible when its smoothed loudness reaches ``threshold``;
- free places are filled by the loudest eligible participants;
- a selected speaker is replaced only by someone louder by ``margin`` and only after it has
  held its place ``min_hold`` seconds, so two similar voices do not make the forwarded set
  flap at packet rate;
- a selected speaker that stayed below the threshold for ``release_after`` seconds, or that
  stopped sending (muted, left), leaves.
The dominant speaker (first of the result) has the same margin rule.

``reserve`` is the loudest eligible participant outside the selection (same margin rule): a
selected speaker does not receive its own voice, so it hears the other speakers and the
reserve, and everyone receives as many streams as there are audio slots.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class SpeakerConfig:
    max_speakers: int = 3
    threshold: float = 10.0
    margin: float = 6.0
    min_hold: float = 1.0
    release_after: float = 1.5
    smoothing: float = 0.15
    stale_after: float = 0.3

    def __post_init__(self) -> None:
        if self.max_speakers < 1:
            raise ValueError("max_speakers must be at least 1")
        if not 0 < self.smoothing <= 1:
            raise ValueError("smoothing must be in (0, 1]")


@dataclass(slots=True)
class _Speaker:
    loudness: float = 0.0
    last_seen: float = 0.0
    last_loud: float = float("-inf")
    selected_since: float = 0.0


@dataclass(frozen=True, slots=True)
class Selection(Generic[K]):
    speakers: tuple[K, ...]
    dominant: K | None
    reserve: K | None = None


@dataclass
class SpeakerSelector(Generic[K]):
    config: SpeakerConfig = field(default_factory=SpeakerConfig)
    _state: dict[K, _Speaker] = field(default_factory=dict)
    _selected: list[K] = field(default_factory=list)
    _dominant: K | None = None
    _reserve: K | None = None

    def observe(self, key: K, level: int, now: float) -> None:
        """Record one packet's audio level (0 loudest .. 127 silence)."""
        s = self._state.get(key)
        if s is None:
            s = self._state[key] = _Speaker(last_seen=now)
        loudness = 127 - min(127, max(0, level))
        if now - s.last_seen > self.config.stale_after:
            s.loudness = float(loudness)
        else:
            s.loudness += self.config.smoothing * (loudness - s.loudness)
        s.last_seen = now
        if s.loudness >= self.config.threshold:
            s.last_loud = now

    def remove(self, key: K) -> None:
        """Forget a participant at once (muted, removed): it leaves the selection now."""
        self._state.pop(key, None)
        if key in self._selected:
            self._selected.remove(key)
        if self._dominant == key:
            self._dominant = None
        if self._reserve == key:
            self._reserve = None

    def score(self, key: K, now: float) -> float:
        s = self._state.get(key)
        if s is None or now - s.last_seen > self.config.stale_after:
            return 0.0
        return s.loudness

    def update(self, now: float) -> Selection[K]:
        cfg = self.config
        scores = {k: self.score(k, now) for k in self._state}

        def keep(k: K) -> bool:
            s = self._state[k]
            return now - s.last_loud <= cfg.release_after

        self._selected = [k for k in self._selected if k in self._state and keep(k)]

        candidates = sorted(
            (k for k in self._state if k not in self._selected and scores[k] >= cfg.threshold),
            key=lambda k: -scores[k],
        )
        while candidates and len(self._selected) < cfg.max_speakers:
            k = candidates.pop(0)
            self._selected.append(k)
            self._state[k].selected_since = now

        for c in candidates:
            weakest = min(self._selected, key=lambda k: scores[k])
            held = now - self._state[weakest].selected_since >= cfg.min_hold
            if held and scores[c] > scores[weakest] + cfg.margin:
                self._selected[self._selected.index(weakest)] = c
                self._state[c].selected_since = now
            else:
                break

        if self._reserve is not None and (
            self._reserve in self._selected
            or self._reserve not in self._state
            or not keep(self._reserve)
        ):
            self._reserve = None
        loudest_left = max(
            (k for k in self._state if k not in self._selected and scores[k] >= cfg.threshold),
            key=lambda k: scores[k],
            default=None,
        )
        if loudest_left is not None and (
            self._reserve is None or scores[loudest_left] > scores[self._reserve] + cfg.margin
        ):
            self._reserve = loudest_left

        if self._dominant not in self._selected:
            self._dominant = None
        if self._selected:
            loudest = max(self._selected, key=lambda k: scores[k])
            if self._dominant is None or scores[loudest] > scores[self._dominant] + cfg.margin:
                self._dominant = loudest
        return Selection(tuple(self._selected), self._dominant, self._reserve)

"""How the impaired-network bench counts freezes and pauses (bench.impaired.freezes)."""

from __future__ import annotations

import pytest

from bench.impaired import freezes


def frames(start: float, end: float, fps: float = 15.0) -> list[float]:
    return [start + n / fps for n in range(int((end - start) * fps) + 1)]


def test_a_second_without_frames_is_a_freeze() -> None:
    times = frames(0.0, 5.0) + frames(6.0, 20.0)
    (gap,) = freezes(times, 0.0, 20.0)
    assert gap.at == pytest.approx(5.0, abs=0.07)
    assert gap.length == pytest.approx(1.0, abs=0.07)
    assert not gap.pause


def test_a_stream_paused_before_the_window_that_resumes_in_it_was_paused() -> None:
    """Off for 10 s, 2 of them in the window: getStats counts the whole gap, a pause; only the
    2 s in the window count toward its time."""
    times = frames(-20.0, -8.0) + frames(2.0, 20.0)
    (gap,) = freezes(times, 0.0, 20.0)
    assert gap.at == 0.0
    assert gap.length == pytest.approx(2.0)
    assert gap.whole == pytest.approx(10.0, abs=0.07)
    assert gap.pause


def test_a_stream_that_began_before_the_window_and_shows_late_was_paused() -> None:
    """Negotiated 6 s before the window, first frame 2 s into it: a stream the SFU held back
    (a pause), not a freeze; without knowing when it began, only the window is known."""
    times = frames(2.0, 20.0)
    (gap,) = freezes(times, 0.0, 20.0, since=-6.0)
    assert (gap.at, gap.whole, gap.pause) == (0.0, pytest.approx(8.0), True)
    assert gap.length == pytest.approx(2.0)
    (gap,) = freezes(times, 0.0, 20.0)
    assert not gap.pause


def test_a_short_gap_across_the_window_start_is_a_freeze() -> None:
    times = frames(-10.0, -0.5) + frames(0.5, 20.0)
    (gap,) = freezes(times, 0.0, 20.0)
    assert gap.length == pytest.approx(0.5)
    assert not gap.pause


def test_a_stream_that_shows_nothing_is_frozen_or_paused_to_the_edges() -> None:
    (gap,) = freezes([], 0.0, 3.0)
    assert (gap.length, gap.pause) == (3.0, False)
    (gap,) = freezes([], 0.0, 20.0)
    assert gap.pause
    # Stopped 2 s before the end.
    (gap,) = freezes(frames(0.0, 18.0), 0.0, 20.0)
    assert gap.length == pytest.approx(2.0, abs=0.07)
    assert not gap.pause


def test_a_gap_open_at_the_window_end_is_judged_by_its_whole_length() -> None:
    """Stopped 2 s before the end: back 1 s after it, a 3 s freeze; back 4 s after it, or not
    back 5 s after it, a pause. Only the 2 s in the window count toward its time."""
    before = frames(0.0, 18.0)
    (gap,) = freezes(before + frames(21.0, 25.0), 0.0, 20.0, until=25.0)
    assert (gap.length, gap.whole, gap.pause) == (
        pytest.approx(2.0, abs=0.07),
        pytest.approx(3.0, abs=0.07),
        False,
    )
    (gap,) = freezes(before + frames(24.0, 25.0), 0.0, 20.0, until=25.0)
    assert gap.pause and gap.length == pytest.approx(2.0, abs=0.07)
    (gap,) = freezes(before, 0.0, 20.0, until=25.0)
    assert gap.pause and gap.whole == pytest.approx(7.0, abs=0.07)
    # Frames after the window do not count in it: no gap when it ran to the end.
    assert freezes(frames(0.0, 25.0), 0.0, 20.0, until=25.0) == []

"""The bot's receive-side estimate (rooms.mediabot.estimate) on a simulated clock: a link that
carries what is sent keeps it growing, a queue that builds brings it down once, to a share of
what arrives."""

from __future__ import annotations

import pytest

from rooms.mediabot.estimate import CAP_FACTOR, CAP_STEP, DECREASE, ReceiveEstimate

SSRC = 1234
PACKET = 1000  # bytes
STEP = 0.01  # s between packets sent: 800 kbit/s


def feed(
    estimate: ReceiveEstimate, start: float, seconds: float, delay: float, growth: float
) -> list[tuple[float, int]]:
    """Packets sent every ``STEP`` from ``start`` for ``seconds``, arriving ``delay`` later plus
    ``growth`` per second sent (a queue building); evaluated every 0.1 s. The REMBs sent."""
    sent: list[tuple[float, int]] = []
    next_evaluation = start + 0.1
    for n in range(round(seconds / STEP)):
        at = start + n * STEP
        arrival = at + delay + growth * (at - start)
        while next_evaluation <= arrival:
            remb = estimate.evaluate(next_evaluation)
            if remb is not None:
                sent.append((next_evaluation, remb))
            next_evaluation += 0.1
        estimate.on_packet(SSRC, round(at * 90000) & 0xFFFFFFFF, 90000, arrival, PACKET)
    return sent


def test_a_link_that_carries_everything_lets_the_estimate_grow_to_its_cap() -> None:
    estimate = ReceiveEstimate()
    rembs = feed(estimate, 0.0, 10.0, delay=0.02, growth=0.0)
    assert estimate.decreases == 0
    values = [v for _, v in rembs]
    assert values == sorted(values)  # it never falls
    # Sent about once a second; at most 1.5 x what arrives (800 kbit/s) plus a step.
    assert 8 <= len(rembs) <= 11
    assert values[-1] == pytest.approx(800_000 * CAP_FACTOR + CAP_STEP, rel=0.03)


def test_a_queue_that_builds_brings_it_down_at_once_and_only_once_per_rise() -> None:
    estimate = ReceiveEstimate()
    feed(estimate, 0.0, 3.0, delay=0.02, growth=0.0)
    before = estimate.value
    assert before is not None
    # The link now carries less than is sent: the delay grows by 0.2 s per second.
    rembs = feed(estimate, 3.0, 0.5, delay=0.02, growth=0.2)
    assert estimate.decreases == 1
    ((when, value),) = [(w, v) for w, v in rembs if v < before]
    assert 3.2 < when < 3.6  # the queue passed 50 ms at 3.25 s
    # A share of what arrived over the last half second (the packets arrive spread out).
    assert value == estimate.value
    assert value <= DECREASE * 800_000 * 1.01
    assert value < before


def test_a_standing_queue_is_not_cut_again_but_a_further_rise_is() -> None:
    estimate = ReceiveEstimate()
    feed(estimate, 0.0, 3.0, delay=0.02, growth=0.0)
    feed(estimate, 3.0, 0.5, delay=0.02, growth=0.2)
    assert estimate.decreases == 1
    # The queue stands at its new level (a keyframe's wobble on top does not count) ...
    feed(estimate, 3.5, 1.0, delay=0.12, growth=0.0)
    assert estimate.decreases == 1
    # ... but while it goes on growing beyond where it was cut (by 50 ms each time), the
    # estimate comes down again, at most every half second: 0.2 s more delay in one second.
    rembs = feed(estimate, 4.5, 1.0, delay=0.12, growth=0.2)
    assert estimate.decreases == 3
    # Each decrease was sent at once, and the last is what the estimate holds.
    assert len(rembs) >= 2 and rembs[-1][1] == estimate.value


def test_nothing_is_said_before_half_a_second_of_packets() -> None:
    estimate = ReceiveEstimate()
    assert feed(estimate, 0.0, 0.4, delay=0.02, growth=0.0) == []
    assert estimate.value is None

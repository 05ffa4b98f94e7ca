from __future__ import annotations

from rooms.flood import TokenBucket, Verdict


def test_normal_use_passes() -> None:
    bucket = TokenBucket(rate=10, burst=40)
    # 5 messages a second for a minute: far below the limit.
    assert all(bucket.take(t / 5) == Verdict.OK for t in range(300))


def test_a_burst_fits() -> None:
    bucket = TokenBucket(rate=10, burst=40)
    assert [bucket.take(0.0) for _ in range(40)] == [Verdict.OK] * 40


def test_sustained_flood_is_warned_then_closed() -> None:
    bucket = TokenBucket(rate=10, burst=40)
    verdicts = [bucket.take(i / 20) for i in range(200)]  # 20 messages a second
    first_warn = verdicts.index(Verdict.WARN)
    assert 70 <= first_warn <= 90  # the 40-message burst lasts about 4 s at 20/s
    assert Verdict.CLOSE in verdicts[first_warn + 1 :]


def test_calm_forgives_a_warning() -> None:
    bucket = TokenBucket(rate=10, burst=40, calm_after=10)
    verdicts = [bucket.take(0.0) for _ in range(42)]
    assert verdicts[-2:] == [Verdict.WARN, Verdict.CLOSE]
    # Twenty quiet seconds later the client is a first offender again: warned, not closed.
    later = [bucket.take(20.0) for _ in range(41)]
    assert later == [Verdict.OK] * 40 + [Verdict.WARN]

"""The bot's pacer: video leaves at a bounded rate, as a browser's does."""

from rooms.sfu.bot import PACE_INTERVAL, Pacer, clip_bitrate
from rooms.sfu.clip import clip


def test_a_keyframe_burst_is_spread_at_the_pacing_rate() -> None:
    pacer = Pacer(rate=100_000, now=0.0)  # bytes per second
    pacer.queue.extend(bytes(1000) for _ in range(50))  # a 50 KB keyframe
    sent_at: list[float] = []
    now = 0.0
    while pacer.queue and now < 5:
        sent_at += [now] * len(pacer.due(now))
        now += PACE_INTERVAL
    assert len(sent_at) == 50
    # 50 KB at 100 KB/s: half a second, never more than about one interval's worth at once.
    assert 0.45 <= sent_at[-1] <= 0.55
    assert max(sent_at.count(t) for t in set(sent_at)) <= 2


def test_an_idle_pacer_saves_at_most_one_interval_of_budget() -> None:
    pacer = Pacer(rate=100_000, now=0.0)
    assert pacer.due(10.0) == []  # ten idle seconds
    pacer.queue.extend(bytes(500) for _ in range(20))
    assert len(pacer.due(10.0)) == 2  # the 1000 bytes saved
    assert pacer.due(10.0) == []


def test_the_clip_bitrate_is_what_the_bot_publishes() -> None:
    bitrate = clip_bitrate(clip(0))
    assert 400_000 < bitrate < 800_000

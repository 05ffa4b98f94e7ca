"""The bot's pacer: video leaves at a bounded rate, as a browser's does."""

from rooms.mediabot.bot import PACE_INTERVAL, Pacer, clip_bitrate
from rooms.mediabot.clip import clip


def test_a_keyframe_burst_is_spread_at_the_pacing_rate() -> None:
    pacer = Pacer(rate=100_000, now=0.0)  # bytes per second
    for _ in range(50):  # a 50 KB keyframe, queued as the bot queues it
        pacer.push(bytes(1000), 0.0)
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
    # Ten idle seconds, then a burst pushed before the pacer is asked what is due (as the
    # bot's sender does it): only 1000 bytes (one interval) of budget were kept.
    for _ in range(20):
        pacer.push(bytes(500), 10.0)
    assert len(pacer.due(10.0)) == 2
    assert pacer.due(10.0) == []
    assert len(pacer.due(10.0 + PACE_INTERVAL)) == 2


def test_a_late_wake_up_is_caught_up_while_packets_wait() -> None:
    pacer = Pacer(rate=100_000, now=0.0)
    for _ in range(20):
        pacer.push(bytes(500), 0.0)
    pacer.due(0.0)
    assert len(pacer.due(0.05)) == 10  # 50 ms late: its 5000 bytes all go, not one interval's


def test_the_clip_bitrate_is_what_the_bot_publishes() -> None:
    bitrate = clip_bitrate(clip(0))
    assert 400_000 < bitrate < 800_000

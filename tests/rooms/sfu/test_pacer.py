"""The bot's pacer: video leaves at a bounded rate, as a browser's does."""

import pytest

from rooms.mediabot.bot import PACE_INTERVAL, Bot, Pacer, clip_bitrate
from rooms.mediabot.clip import clip
from rooms.sfu import rtcp


def test_a_keyframe_burst_is_spread_at_the_pacing_rate() -> None:
    pacer = Pacer(rate=100_000, now=0.0)  # bytes per second
    for _ in range(50):  # a 50 KB keyframe, queued as the bot queues it
        pacer.push(bytes(1000), 0.0)
    sent_at: list[float] = []
    now = 0.0
    while pacer.waiting and now < 5:
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


def test_lower_layers_do_not_wait_behind_a_top_layer_keyframe() -> None:
    pacer = Pacer(rate=100_000, now=0.0)
    for _ in range(50):  # the top layer's 50 KB keyframe: half a second at this rate
        pacer.push(b"h" * 1000, 0.0, stream=2)
    pushed: list[float] = []
    sent: list[tuple[float, bytes]] = []
    now = 0.0
    while pacer.waiting and now < 1:
        if round(now * 1000) % 70 == 0:  # the next frame, every 70 ms: a packet per layer
            pacer.push(b"l" * 200, now, stream=0)
            pacer.push(b"m" * 400, now, stream=1)
            pushed.append(now)
        sent += [(now, packet) for packet in pacer.due(now)]
        now = round(now + PACE_INTERVAL, 3)
    # Every small frame leaves within two intervals of being queued (the budget may be one
    # keyframe packet in debt), each stream in order, while the keyframe's packets all leave
    # at about the pacing rate. First in, first out, the small ones waited up to 0.5 s.
    for layer in (b"l", b"m"):
        times = [at for at, packet in sent if packet[:1] == layer]
        assert len(times) == len(pushed) >= 7
        waits = [at - queued for at, queued in zip(times, pushed, strict=True)]
        assert min(waits) >= 0 and max(waits) <= 2 * PACE_INTERVAL + 1e-9
    top = [at for at, packet in sent if packet[:1] == b"h"]
    assert len(top) == 50
    assert 0.5 <= top[-1] <= 0.75


def test_an_idle_stream_comes_back_at_most_a_packet_ahead() -> None:
    pacer = Pacer(rate=1_000_000, now=0.0)
    for _ in range(10):
        pacer.push(b"h" * 1000, 0.0, stream=2)
    assert len(pacer.due(0.01)) == 10  # stream 2 has sent 10 000 bytes, stream 0 nothing
    for _ in range(5):
        pacer.push(b"h" * 1000, 0.02, stream=2)
        pacer.push(b"l" * 1000, 0.02, stream=0)
    order = [packet[:1] for packet in pacer.due(0.03)]
    # Stream 0 starts 1400 bytes behind, not 10 000: two of its packets, then turns.
    assert order == [b"l", b"l", b"h", b"l", b"h", b"l", b"h", b"l", b"h", b"h"]


def test_the_clip_bitrate_is_what_the_bot_publishes() -> None:
    bitrate = clip_bitrate(clip(0))
    assert 400_000 < bitrate < 800_000


async def _no_signaling(sdp: str) -> str:
    raise AssertionError("not negotiated here")


@pytest.mark.parametrize(
    ("on_grant", "granted", "rate"),
    [(True, 2_000_000, 625_000.0), (True, 100_000, 50_000.0), (False, 2_000_000, 50_000.0)],
)
async def test_a_bot_pacing_on_its_grant_follows_the_sfus_remb(
    on_grant: bool, granted: int, rate: float
) -> None:
    bot = Bot("p", _no_signaling, pace=True, pace_on_grant=on_grant, ice_addresses=("127.0.0.1",))
    bot._pacer, bot._pace_floor = Pacer(rate=50_000, now=0.0), 50_000.0  # as _run_sender sets
    # The REMB the SFU sends a publisher, as its room builds it.
    bot._on_rtcp(rtcp.remb(1, granted, [1234]))
    assert bot.remb == granted
    assert bot._pacer.rate == rate  # 2.5 x the grant, never below 2.5 x the clip's own rate

from rooms.sfu.keyframes import KeyframeRequestLimiter


def test_a_burst_of_requests_becomes_one_pli_then_one_deferred() -> None:
    limiter = KeyframeRequestLimiter(min_interval=0.3)
    assert limiter.request(0.0)
    assert not any(limiter.request(t / 100) for t in range(1, 20))
    assert not limiter.poll(0.2)
    assert limiter.poll(0.31)
    assert not limiter.poll(0.5)
    assert (limiter.requested, limiter.sent) == (20, 2)


def test_requests_spaced_out_all_go_through() -> None:
    limiter = KeyframeRequestLimiter(min_interval=0.3)
    assert all(limiter.request(t * 0.5) for t in range(5))

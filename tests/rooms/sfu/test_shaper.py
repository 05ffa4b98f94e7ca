"""The user-space network shaper (rooms/mediabot/shaper.py): the link model on a simulated
clock, and the relay on real sockets."""

from __future__ import annotations

import asyncio
import itertools
import random
import socket

import pytest

from rooms.mediabot.shaper import Link, LinkSpec, UdpShaper, shape_signaling


def test_a_link_passes_no_more_than_its_rate_and_drops_what_overflows_its_queue() -> None:
    rate, queue, size = 1_000_000, 20_000, 1000
    link = Link(LinkSpec(rate_bps=rate, queue_bytes=queue))
    arrivals = []
    for i in range(2500):  # 2 Mbit/s offered for 10 simulated seconds
        arrival = link.admit(size, i * 0.004)
        if arrival is not None:
            arrivals.append((i * 0.004, arrival))
    by_ten = sum(size for _, arrival in arrivals if arrival <= 10.0)
    assert rate * 10 / 8 - 2 * size <= by_ten <= rate * 10 / 8 + size
    assert link.overflowed > 1000 and link.lost == 0
    # Nothing waits longer than a full queue takes to drain.
    assert max(arrival - offered for offered, arrival in arrivals) <= (queue + size) * 8 / rate
    # Back to back at the bottleneck: one datagram's serialisation time apart.
    gaps = [b[1] - a[1] for a, b in itertools.pairwise(arrivals[100:201])]
    assert all(gap == pytest.approx(size * 8 / rate) for gap in gaps)


def test_a_link_below_its_rate_delivers_everything() -> None:
    link = Link(LinkSpec(rate_bps=2_000_000, queue_bytes=10_000))
    assert all(link.admit(1200, i * 0.01) is not None for i in range(1000))  # 0.96 Mbit/s
    assert link.delivered == 1000 and link.delivered_bytes == 1_200_000


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_loss_stays_near_its_ratio_over_a_bounded_count(seed: int) -> None:
    link = Link(LinkSpec(loss=0.05), random.Random(seed))
    for i in range(20_000):
        link.admit(100, i * 0.001)
    # Binomial: the standard deviation is 0.0015 here; the bounds are more than 6 of them.
    assert 0.04 <= link.lost / link.offered <= 0.06
    assert link.delivered + link.lost == 20_000


def test_no_loss_and_full_loss_are_exact() -> None:
    keep, drop = Link(LinkSpec(loss=0.0)), Link(LinkSpec(loss=1.0))
    for i in range(500):
        assert keep.admit(100, i * 0.001) == i * 0.001
        assert drop.admit(100, i * 0.001) is None
    assert (keep.lost, drop.lost) == (0, 500)


def test_delay_is_added_and_the_order_is_kept() -> None:
    rng = random.Random(7)
    link = Link(LinkSpec(rate_bps=400_000, queue_bytes=20_000, delay=0.05), rng)
    now, offered = 0.0, []
    for _ in range(2000):
        now += rng.expovariate(100)  # bursts and gaps: about 0.5 Mbit/s offered
        arrival = link.admit(rng.randint(100, 1200), now)
        if arrival is not None:
            offered.append((now, arrival))
    arrivals = [a for _, a in offered]
    assert arrivals == sorted(arrivals)
    assert all(arrival >= sent + 0.05 for sent, arrival in offered)
    assert link.overflowed > 0


def test_the_rate_changes_mid_call_and_the_link_follows_it() -> None:
    size = 1000
    link = Link(LinkSpec(rate_bps=2_000_000, queue_bytes=30_000))
    arrivals: list[tuple[float, float]] = []

    def offer(start: float, end: float) -> None:  # 1.6 Mbit/s: a datagram each 5 ms
        for i in range(round((end - start) / 0.005)):
            now = start + i * 0.005
            arrival = link.admit(size, now)
            if arrival is not None:
                arrivals.append((now, arrival))

    offer(0.0, 5.0)
    assert link.overflowed == 0 and len(arrivals) == 1000
    link.set_rate(300_000, 5.0)
    offer(5.0, 15.0)
    assert link.spec.rate_bps == 300_000 and link.spec.queue_bytes == 30_000
    # After the queue filled (30 KB at 300 kbit/s: 0.8 s), exactly the new rate gets through.
    late = sum(size for _, arrival in arrivals if 7.0 <= arrival < 15.0)
    assert 300_000 * 8 / 8 - 2 * size <= late <= 300_000 * 8 / 8 + size
    assert link.overflowed > 1000
    assert [a for _, a in arrivals] == sorted(a for _, a in arrivals)
    # Back up: the backlog drains at the faster rate and nothing overflows any more.
    overflowed = link.overflowed
    link.set_rate(None, 15.0)
    offer(15.0, 16.0)
    assert link.overflowed == overflowed
    assert all(arrival >= offered for offered, arrival in arrivals)


def test_a_rate_change_counts_the_backlog_at_the_new_rate() -> None:
    link = Link(LinkSpec(rate_bps=1_000_000, queue_bytes=100_000))
    for _ in range(20):
        link.admit(1000, 0.0)  # 20 KB queued: 0.16 s at 1 Mbit/s
    link.set_rate(500_000, 0.0)
    # The 20 KB still ahead take 0.32 s at the new rate, then 16 ms for this one.
    assert link.admit(1000, 0.0) == pytest.approx(0.32 + 0.016)
    link.set_rate(500_000, 10.0)  # nothing queued any more: no wait
    assert link.admit(1000, 10.0) == pytest.approx(10.016)


@pytest.mark.parametrize(
    "spec",
    [
        {"rate_bps": 0},
        {"rate_bps": -5.0},
        {"loss": 1.5},
        {"loss": -0.1},
        {"delay": -1.0},
        {"queue_bytes": -1},
    ],
)
def test_a_spec_out_of_range_is_refused(spec: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        LinkSpec(**spec)  # type: ignore[arg-type]


def sdp(host: str, port: int) -> str:
    return (
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
        f"a=candidate:1 1 udp 2130706431 {host} {port} typ host\r\n"
        f"a=candidate:2 1 udp 1694498815 {host} {port + 1} typ srflx raddr 0.0.0.0 rport 0\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
        f"a=candidate:1 1 udp 2130706431 {host} {port} typ host\r\n"
    )


async def test_the_relay_carries_both_directions_in_order_and_rewrites_the_candidates() -> None:
    client, server = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
    for sock in (client, server):
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
    shaper = await UdpShaper.start(up=LinkSpec(delay=0.01), down=LinkSpec(rate_bps=10_000_000))
    seen: list[str] = []

    async def signaling(offer: str) -> str:
        seen.append(offer)
        return sdp(*server.getsockname())

    answer = await shape_signaling(signaling, shaper)(sdp(*client.getsockname()))
    host, port = shaper.server_address
    # The SFU sees the relay as the client, the client sees it as the SFU; nothing else.
    assert seen[0].count("a=candidate:") == 2 and f"{host} {port} typ host" in seen[0]
    host, port = shaper.client_address
    assert answer.count("a=candidate:") == 2 and f"{host} {port} typ host" in answer
    loop = asyncio.get_running_loop()

    async def receive(sock: socket.socket, count: int) -> list[tuple[bytes, tuple[str, int]]]:
        got: list[tuple[bytes, tuple[str, int]]] = []
        deadline = loop.time() + 10
        while len(got) < count and loop.time() < deadline:
            try:
                got.append(sock.recvfrom(2048))
            except BlockingIOError:
                await asyncio.sleep(0.01)
        return got

    try:
        for i in range(50):
            client.sendto(i.to_bytes(2, "big") * 100, shaper.client_address)
        up = await receive(server, 50)
        assert [int.from_bytes(d[:2], "big") for d, _ in up] == list(range(50))
        assert {addr for _, addr in up} == {shaper.server_address}
        for i in range(50):
            server.sendto(i.to_bytes(2, "big"), shaper.server_address)
        down = await receive(client, 50)
        assert [int.from_bytes(d, "big") for d, _ in down] == list(range(50))
        assert {addr for _, addr in down} == {shaper.client_address}
        # A stranger writing to the relay's server side is not relayed.
        client.sendto(b"x", shaper.server_address)
        server.sendto(b"y", shaper.server_address)
        assert [d for d, _ in await receive(client, 1)] == [b"y"]
        assert shaper.down_link.offered == 51
    finally:
        shaper.close()
        client.close()
        server.close()


async def test_an_offer_without_a_host_candidate_is_refused() -> None:
    shaper = await UdpShaper.start()

    async def signaling(offer: str) -> str:
        raise AssertionError("nothing is sent")

    try:
        with pytest.raises(ValueError):
            await shape_signaling(signaling, shaper)("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n")
    finally:
        shaper.close()


def test_the_relay_as_a_process_takes_commands_and_refuses_bad_ones() -> None:
    """``python -m rooms.mediabot.shaper``: a test (the browser behind a weak link) drives it
    over stdin; a bad line gets an error and changes nothing."""

    async def run() -> None:
        from rooms.mediabot.shaper import _command

        shaper = await UdpShaper.start(down=LinkSpec(rate_bps=500_000))
        try:
            assert _command(shaper, "server 127.0.0.1 4000", 0.0) == "ok"
            assert shaper.server == ("127.0.0.1", 4000)
            bad_lines = (
                "server nowhere 4000",
                "server 127.0.0.1 70000",
                "server 127.1 4000",
                "down-rate -5",
                "down-rate 0.001",
                "down-rate nan",
                "down-rate inf",
                "down-rate ٤٠٠٠",
                "fly",
            )
            for bad in bad_lines:
                assert _command(shaper, bad, 0.0).startswith("error:"), bad
            assert shaper.server == ("127.0.0.1", 4000)
            assert shaper.down_link.spec.rate_bps == 500_000
            assert _command(shaper, "down-rate 2000000", 1.0) == "ok"
            assert shaper.down_link.spec.rate_bps == 2_000_000
            assert _command(shaper, "up-rate none", 1.0) == "ok"
            assert '"down": {"offered": 0' in _command(shaper, "stats", 1.0)
        finally:
            shaper.close()

    asyncio.run(run())

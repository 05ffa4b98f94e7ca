"""Transport-cc on real ICE/DTLS/SRTP: a publisher that offers it, as a browser does, numbers
every packet it sends; the SFU's feedback reports each of them, received or lost on the way
in (the user-space shaper drops some), with arrival times spaced as the packets were sent.
That is what a browser's send-side estimator reads to measure its uplink."""

from __future__ import annotations

from rooms.mediabot.bot import Bot
from rooms.mediabot.shaper import LinkSpec, UdpShaper, shape_signaling

from .conftest import LOOPBACK, Harness
from .test_twcc import decode

LOSS = 0.05
WINDOW = 600  # numbered packets looked at (about 6 s of audio and video)


async def test_the_feedback_reports_what_arrived_and_when(harness: Harness) -> None:
    shaper = await UdpShaper.start(up=LinkSpec(loss=LOSS), seed=7)

    async def signaling(sdp: str) -> str:
        return await harness.room.offer("publisher", sdp)

    publisher = Bot(
        "publisher",
        shape_signaling(signaling, shaper),
        variant=0,
        audio_level=30,
        audio_slots=0,
        video_slots=0,
        ice_addresses=LOOPBACK,
        transport_cc=True,
    )
    harness.bots.append(publisher)
    try:
        await publisher.start(timeout=20)

        # Feedback comes every room tick; wait until it covers the window (and a margin).
        def covered() -> int:
            return sum(len(decode(p)[1]) for p in list(publisher.twcc_feedback))

        assert await publisher.wait_until(lambda: covered() >= WINDOW + 200, timeout=60), (
            len(publisher.twcc_sent),
            len(publisher.twcc_feedback),
        )
    finally:
        shaper.close()

    reported: dict[int, int | None] = {}
    counts = []
    for packet in publisher.twcc_feedback:
        arrivals, statuses, count = decode(packet)
        base = int.from_bytes(packet[12:14], "big")
        counts.append(count)
        for i, status in enumerate(statuses):
            number = (base + i) & 0xFFFF
            assert number not in reported  # each packet is reported once
            reported[number] = arrivals.get(number) if status else None
    assert counts == [c & 0xFF for c in range(len(counts))]  # feedback packets counted

    sent = dict(list(publisher.twcc_sent)[:WINDOW])
    # Every packet sent is reported (the numbers start at 0; the first feedback may start
    # later if the first packets were all lost).
    first = min(reported)
    window = {n: t for n, t in sent.items() if n >= first}
    assert len(window) >= WINDOW - 50
    assert window.keys() <= reported.keys()
    lost = [n for n in window if reported[n] is None]
    # The shaper drops 5 % of the datagrams (STUN and DTLS too): those are reported lost.
    assert 0 < len(lost) < 3 * LOSS * len(window), (len(lost), len(window))
    # Arrival times follow send times: on loopback each packet arrives a moment after it was
    # sent, so arrival minus send time is about the same for all of them (to the SFU's loop
    # delays on this busy machine), over the whole window of some seconds.
    offsets = sorted(
        reported[n] / 1e6 - t  # type: ignore[operator]
        for n, t in window.items()
        if reported[n] is not None
    )
    spread = offsets[len(offsets) * 95 // 100] - offsets[len(offsets) * 5 // 100]
    assert spread < 0.05, spread

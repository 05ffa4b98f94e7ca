"""Impaired-network benchmark: one publisher behind a lossy link, repaired by NACKs or not.

    PYTHONPATH=. .venv/bin/python -m bench.impaired [--people 6] [--loss 0.05] [--frames 300]

The SFU runs in a child process (``rooms.mediabot.bot._sfu_child``: the SFU's own code on
uvloop, answering offers over a pipe; no web stack). ``--people`` bots join one room, each
publishing audio and a VP8 clip of its own and receiving everyone else's video, reassembled
by sequence number with a 0.3 s jitter buffer (counting the frames a decoder could decode;
libvpx itself is left out, all bots share one process). The first bot
publishes through ``rooms.mediabot.shaper``: ``--loss`` random loss on its way to the SFU
(nothing on the way back). The scenario runs twice, with the SFU's NACKs toward publishers
on and off (``SfuConfig.nack_upstream``).

Per run, after every subscriber has decoded frames from every publisher, each publisher sends
``--frames`` video frames and then pauses; the bench waits until decoding stops (bounded) and
reports, per publisher, the share of its frames each subscriber could decode (complete, in
order, references intact: ``frames_decodable``; worst and mean): the lossy one's against the
others' (which should be unaffected). Also the loss the shaper made,
the sequence numbers the SFU asked for and the publisher resent, and the SFU's CPU.

Writes ``bench/results/impaired-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import multiprocessing
import statistics
from pathlib import Path
from typing import Any

from rooms.mediabot.bot import Bot, _sfu_child
from rooms.mediabot.shaper import LinkSpec, UdpShaper, shape_signaling
from rooms.sfu.config import SfuConfig
from rooms.sfu.ice import use_host_addresses

REPO_ROOT = Path(__file__).resolve().parents[1]
ADDRESSES = ("127.0.0.1",)
LOSSY = 0  # the variant (and index) of the publisher behind the lossy link


def decoded_by_origin(bot: Bot) -> dict[int, int]:
    """Frames a decoder got, complete and with intact references (``frames_decodable``), per
    publisher (a slot carries one publisher all along here)."""
    out: dict[int, int] = {}
    for stream in bot.streams("video"):
        origin = next((o for o, _ in stream.origins.most_common() if o is not None), None)
        if origin is not None:
            out[origin] = out.get(origin, 0) + stream.frames_decodable
    return out


async def scenario(args: argparse.Namespace, nack: bool) -> dict[str, Any]:
    config = SfuConfig(ice_addresses=ADDRESSES, last_n=9, nack_upstream=nack)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_sfu_child, args=(child, config), daemon=True)
    process.start()
    loop = asyncio.get_running_loop()
    lock = asyncio.Lock()

    async def call(*request: object) -> object:
        async with lock:
            parent.send(request)
            status, value = await loop.run_in_executor(None, parent.recv)
        if status != "ok":
            raise RuntimeError(str(value))
        return value

    shaper = await UdpShaper.start(up=LinkSpec(loss=args.loss), seed=args.seed)
    bots: list[Bot] = []
    others = args.people - 1
    try:
        for i in range(args.people):

            async def signaling(sdp: str, pid: str = f"p{i}") -> str:
                return str(await call("offer", pid, sdp))

            bot = Bot(
                f"p{i}",
                shape_signaling(signaling, shaper) if i == LOSSY else signaling,
                variant=i,
                audio_level=30 + i,
                audio_slots=min(3, others),
                video_slots=others,
                decode=False,  # frames_decodable needs no decoder; one process runs all bots
                pace=True,
                ice_addresses=ADDRESSES,
            )
            await bot.start(timeout=30)
            bots.append(bot)

        def everyone_decodes() -> bool:
            return all(
                all(decoded_by_origin(bot).get(j, 0) >= 5 for j in range(args.people) if j != i)
                for i, bot in enumerate(bots)
            )

        if not await bots[-1].wait_until(everyone_decodes, timeout=120):
            raise RuntimeError("not every subscriber decoded every publisher")
        await call("reset")
        lost0, offered0 = shaper.up_link.lost, shaper.up_link.offered
        sent0 = [bot.frames_sent for bot in bots]
        got0 = [decoded_by_origin(bot) for bot in bots]
        await bots[0].wait_until(
            lambda: all(b.frames_sent - s >= args.frames for b, s in zip(bots, sent0, strict=True)),
            timeout=args.frames / 15 * 3 + 30,
        )
        for bot in bots:
            bot.video_paused = True
        sent = [bot.frames_sent - s for bot, s in zip(bots, sent0, strict=True)]
        report = await call("report")
        if not isinstance(report, tuple):
            raise RuntimeError(f"unexpected report from the SFU process: {report!r}")
        user, system, forwarded = float(report[0]), float(report[1]), int(report[2])

        def decoded_now() -> int:
            return sum(sum(decoded_by_origin(bot).values()) for bot in bots)

        # Let the last frames (and their repairs) arrive: wait until two readings a
        # jitter buffer's wait apart agree, at most 5 s.
        for _ in range(10):
            before = decoded_now()
            await asyncio.sleep(0.5)
            if decoded_now() == before:
                break
        shares: dict[int, list[float]] = {j: [] for j in range(args.people)}
        for i, bot in enumerate(bots):
            now = decoded_by_origin(bot)
            for j in range(args.people):
                if j != i:
                    got = now.get(j, 0) - got0[i].get(j, 0)
                    shares[j].append(min(1.0, got / sent[j]) if sent[j] else 0.0)
        others_shares = [s for j, v in shares.items() if j != LOSSY for s in v]
        offered = shaper.up_link.offered - offered0
        return {
            "nack_upstream": nack,
            "people": args.people,
            "loss_set": args.loss,
            "loss_made_pct": round(100 * (shaper.up_link.lost - lost0) / offered, 2)
            if offered
            else None,
            "frames_per_publisher": min(sent),
            "lossy_decoded_pct_worst": round(100 * min(shares[LOSSY]), 2),
            "lossy_decoded_pct_mean": round(100 * statistics.mean(shares[LOSSY]), 2),
            "others_decoded_pct_worst": round(100 * min(others_shares), 2),
            "others_decoded_pct_mean": round(100 * statistics.mean(others_shares), 2),
            "sfu_nacked_seqs": bots[LOSSY].nacked,
            "publisher_resent": bots[LOSSY].retransmitted,
            "skipped_frames_at_subscribers": sum(
                s.frames_skipped for bot in bots[1:] for s in bot.streams("video")
            ),
            "sfu_cpu_s": round(user + system, 2),
            "sfu_forwarded_packets": forwarded,
        }
    finally:
        for bot in bots:
            await bot.close()
        shaper.close()
        with contextlib.suppress(Exception):  # the child may be gone already
            await asyncio.wait_for(call("close"), 10)
        process.join(5)
        if process.is_alive():
            process.terminate()


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    use_host_addresses(ADDRESSES)
    rows = []
    for nack in (True, False):
        row = await scenario(args, nack)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=6)
    parser.add_argument("--loss", type=float, default=0.05)
    parser.add_argument("--frames", type=int, default=300, help="per publisher (15 fps)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    import uvloop

    rows = uvloop.run(run(args))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"impaired-{stamp}.json"
    path.write_text(
        json.dumps({"args": vars(args) | {"out": str(args.out)}, "rows": rows}, indent=1)
    )
    print(f"written: {path}")


if __name__ == "__main__":
    main()

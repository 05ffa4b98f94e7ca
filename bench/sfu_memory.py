"""SFU memory across peers coming and going (issue: receive slots had no cap, memory stayed).

    PYTHONPATH=. .venv/bin/python -m bench.sfu_memory [--peers 10] [--rounds 3]

One SFU in this process, on 127.0.0.1. Each round, `--peers` receive-only guests connect with
as many receive slots as the SFU allows (3 audio, last-N + 4 video), stay a moment, and leave.
Prints the process's resident memory before, with the peers in, and after they left, for
every round; then tries the issue's attack (400 receive slots) and says what the SFU answered.
Not a test: figures for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import resource
from pathlib import Path

from aiortc import RTCPeerConnection, RTCSessionDescription

from rooms.sfu import Sfu, SfuConfig
from rooms.sfu.errors import NegotiationError
from rooms.sfu.ice import host_addresses
from rooms.sfu.room import EXTRA_VIDEO_SLOTS

LOOPBACK = ("127.0.0.1",)


def rss_mib() -> float:
    """Resident memory now (from /proc; ru_maxrss is only the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def trim() -> None:
    """Hand freed heap pages back to the system (glibc keeps them for reuse otherwise)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


async def guest(sfu: Sfu, name: str, audio: int, video: int) -> RTCPeerConnection:
    pc = RTCPeerConnection()
    for _ in range(audio):
        pc.addTransceiver("audio", direction="recvonly")
    for _ in range(video):
        pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    answer = await sfu.room("bench").offer(name, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    return pc


async def main(peers: int, rounds: int) -> None:
    config = SfuConfig(ice_addresses=LOOPBACK)
    sfu = Sfu(config, lambda event: None)
    video = config.last_n + EXTRA_VIDEO_SLOTS
    with host_addresses(LOOPBACK):
        print(f"{peers} guests a round, {config.audio_slots} audio + {video} video slots each")
        print(
            "round | RSS MiB before | with the guests in | after they left | after malloc_trim"
            " | objects tracked after"
        )
        for n in range(rounds):
            gc.collect()
            before = rss_mib()
            pcs = [await guest(sfu, f"r{n}g{i}", config.audio_slots, video) for i in range(peers)]
            await asyncio.sleep(2.0)
            during = rss_mib()
            room = sfu.room("bench")
            for pc in pcs:
                await pc.close()  # the SFU tears the peer down when its DTLS closes
            for _ in range(100):
                if not room.peers:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            gc.collect()
            after = rss_mib()
            trim()
            print(
                f"{n + 1} | {before:.1f} | {during:.1f} | {after:.1f} | {rss_mib():.1f}"
                f" | {len(gc.get_objects())}"
            )
        pc = RTCPeerConnection()
        try:
            for _ in range(400):
                pc.addTransceiver("video", direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            await sfu.room("bench").offer("greedy", pc.localDescription.sdp)
            print("400 receive slots: accepted")
        except NegotiationError as refused:
            print(f"400 receive slots: refused ({refused})")
        finally:
            await pc.close()
    await sfu.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(min(args.peers, 50), min(args.rounds, 10)))

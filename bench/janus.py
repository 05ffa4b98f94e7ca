"""The Janus side of the media benchmark; bench/media.py runs it under `unshare -n`.

    unshare -n .venv/bin/python -m bench.janus --sizes 2,5 --duration 10 --out rows.json

Janus skips loopback interfaces when it gathers ICE candidates. In the private network
namespace this process runs in, it brings `lo` up, adds a veth pair whose end `bjanus0`
carries 127.0.0.1/32, and sets Janus's `ice_enforce_list` to that end: Janus offers
127.0.0.1, the bots offer 127.0.0.1 only, and every packet stays on this namespace's loopback.
It refuses to run when it sees any interface but `lo` (i.e. not in a fresh namespace).

Janus 1.1.2 (Debian) runs with only the VideoRoom plugin and the HTTP transport (bound to
127.0.0.1), `event_loops` = number of cores (its best configuration here), logging at level 3.
Per room size: a VideoRoom (VP8 + Opus, audio level extension on), every bot publishes the same
media as against our SFU (`BenchBot`, joinandconfigure with its offer), then subscribes with one
multistream subscription to the audio of the 3 loudest other publishers and the video of the
9 loudest others (the set our SFU's speaker selection and last-N pick with these fixed levels);
Janus offers, the bot answers (`AnsweringBot`). Then the same measurement window as ours, with
Janus's process CPU from /proc. Writes the rows (JSON list) to --out.

With --simulcast every bot publishes the three layers it publishes to our SFU (rid based,
``rid_order: "lmh"``, see `publisher_jsep`), and every video subscription asks for the
``substream`` our SFU's allocation gives the same slot of a bot subscriber (`substreams`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.media import (
    AUDIO_SLOTS,
    ICE,
    LAST_N,
    join_stats,
    level,
    measure_window,
    parse_sizes,
    summary_line,
)
from bench.mediabots import BotPool
from rooms.mediabot.clip import HEIGHT, LAYER_SCALES, WIDTH
from rooms.sfu.allocation import Layer, SlotDemand, allocate, nominal_bitrate
from rooms.sfu.config import SfuConfig
from rooms.sfu.room import AUDIO_BITRATE

VETH = "bjanus0"
PEER = "bjanus1"
LIB = Path("/usr/lib/x86_64-linux-gnu/janus")
PORT = 8088


def run(*command: str) -> None:
    subprocess.run(command, check=True, timeout=10)  # noqa: S603


def setup_namespace() -> None:
    links = subprocess.run(
        ["ip", "-o", "link", "show"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()]
    if names != ["lo"]:
        raise RuntimeError(
            f"not in a fresh network namespace (interfaces: {names}); use unshare -n"
        )
    run("ip", "link", "set", "lo", "up")
    run("ip", "link", "add", VETH, "type", "veth", "peer", "name", PEER)
    run("ip", "addr", "add", "127.0.0.1/32", "dev", VETH)
    run("ip", "link", "set", VETH, "up")
    run("ip", "link", "set", PEER, "up")


def write_config(folder: Path, event_loops: int) -> Path:
    for sub, keep in (("plugins", "libjanus_videoroom.so"), ("transports", "libjanus_http.so")):
        (folder / sub).mkdir()
        (folder / sub / keep).symlink_to(LIB / sub / keep)
    for sub in ("events", "loggers"):
        (folder / sub).mkdir()
    (folder / "janus.jcfg").write_text(
        f"""general: {{
    configs_folder = "{folder}"
    plugins_folder = "{folder}/plugins"
    transports_folder = "{folder}/transports"
    events_folder = "{folder}/events"
    loggers_folder = "{folder}/loggers"
    debug_level = 3
    session_timeout = 120
    event_loops = {event_loops}
}}
certificates: {{}}
media: {{
    ipv6 = false
    rtp_port_range = "20000-40000"
}}
nat: {{
    nice_debug = false
    full_trickle = false
    ice_lite = false
    ice_tcp = false
    ignore_mdns = true
    ice_enforce_list = "{VETH}"
}}
plugins: {{}}
transports: {{}}
loggers: {{}}
events: {{}}
"""
    )
    (folder / "janus.transport.http.jcfg").write_text(
        f"""general: {{
    json = "plain"
    base_path = "/janus"
    http = true
    port = {PORT}
    ip = "127.0.0.1"
    https = false
}}
admin: {{
    admin_http = false
    admin_https = false
}}
cors: {{}}
"""
    )
    (folder / "janus.plugin.videoroom.jcfg").write_text("general: {}\n")
    return folder / "janus.jcfg"


class Janus:
    def __init__(self, event_loops: int) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bench-janus-"))
        self.config = write_config(self.folder, event_loops)
        self.log = (self.folder / "janus.log").open("wb")
        self.url = f"http://127.0.0.1:{PORT}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            ["janus", "-F", str(self.folder), "-C", str(self.config), "-o"],  # noqa: S607
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"janus exited:\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/janus/info", timeout=1).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"janus did not answer:\n{self.tail()}")
            time.sleep(0.2)

    def tail(self) -> str:
        return (self.folder / "janus.log").read_bytes()[-3000:].decode("utf-8", "replace")

    def admin(self, body: dict[str, Any]) -> dict[str, Any]:
        """One VideoRoom request on a throwaway session (create / destroy rooms)."""
        with httpx.Client(base_url=self.url, timeout=10) as http:
            session = http.post("/janus", json={"janus": "create", "transaction": "a"}).json()
            sid = session["data"]["id"]
            handle = http.post(
                f"/janus/{sid}",
                json={"janus": "attach", "plugin": "janus.plugin.videoroom", "transaction": "b"},
            ).json()["data"]["id"]
            answer: dict[str, Any] = http.post(
                f"/janus/{sid}/{handle}",
                json={"janus": "message", "transaction": "c", "body": body},
            ).json()
            http.post(f"/janus/{sid}", json={"janus": "destroy", "transaction": "d"})
        data = answer.get("plugindata", {}).get("data", {})
        if "error" in data or answer.get("janus") == "error":
            raise RuntimeError(f"janus: {answer}")
        return answer

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def substreams(video_feeds: list[int], dominant: int, audio_streams: int) -> list[int]:
    """The simulcast layer (0 lowest .. 2 highest) our SFU forwards to each video slot of a bot
    subscriber, for the Janus subscription to ask for the same: `allocation.allocate` with
    what a bot gives it. A bot reports no tile sizes and sends no REMB, so every slot wants the
    highest layer it may have (the middle one; the top one for the dominant speaker) and the
    downlink estimate stays at its initial 20 Mbit/s, which all of them fit in."""
    layers = tuple(
        Layer(WIDTH // scale, HEIGHT // scale, nominal_bitrate(WIDTH // scale, HEIGHT // scale))
        for scale in LAYER_SCALES
    )
    demands = [
        SlotDemand(slot=i, source=feed, layers=layers, prominent=feed == dominant)
        for i, feed in enumerate(video_feeds)
    ]
    budget = SfuConfig().downlink_initial_bitrate
    chosen = allocate(budget, demands, audio_reserve=audio_streams * AUDIO_BITRATE)
    picked = [chosen[i].chosen for i in range(len(video_feeds))]
    if any(layer is None for layer in picked):
        raise RuntimeError(f"our allocation drops a video: {picked}")
    return [int(layer or 0) for layer in picked]


def run_size(janus: Janus, pool: BotPool, n: int, args: argparse.Namespace) -> dict[str, Any]:
    if janus.process is None:
        raise RuntimeError("janus is not running")
    room = 1000 + n
    janus.admin(
        {
            "request": "create",
            "room": room,
            "publishers": 50,
            "audiocodec": "opus",
            "videocodec": "vp8",
            "audiolevel_ext": True,
            "audiolevel_event": False,
            "bitrate": 0,
            "notify_joining": False,
        }
    )
    procs = len(pool.conns)
    row: dict[str, Any] = {"system": "janus", "participants": n}
    try:
        for i in range(n):
            spec = {
                "name": f"j{i}",
                "url": janus.url,
                "room": room,
                "feed": i + 1,
                "variant": i % 4,
                "level": level(i),
                "simulcast": args.simulcast,
            }
            pool.call(i % procs, "janus_publish", spec)
        for i in range(n):
            others = [j + 1 for j in range(n) if j != i]  # by loudness: bot 0 loudest
            spec = {
                "name": f"j{i}",
                "room": room,
                "audio_feeds": others[:AUDIO_SLOTS],
                "video_feeds": others[:LAST_N],
                "audio_mid": "0",
                "video_mid": "1",
            }
            if args.simulcast:  # bot 0 (feed 1) is the dominant speaker
                spec["video_substreams"] = substreams(
                    others[:LAST_N], dominant=1, audio_streams=len(others[:AUDIO_SLOTS])
                )
            pool.call(i % procs, "janus_subscribe", spec)
        time.sleep(args.settle)
        row |= measure_window(pool, args.duration, janus.process.pid, [], n)
        row |= join_stats(pool, skip=set())
    finally:
        pool.broadcast("leave", timeout=120)
        with contextlib.suppress(Exception):
            janus.admin({"request": "destroy", "room": room})
        time.sleep(1.0)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Janus side of the media benchmark")
    parser.add_argument("--sizes", type=parse_sizes, required=True)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=4.0)
    parser.add_argument("--bot-processes", type=int, default=2)
    parser.add_argument("--simulcast", action="store_true", help="see bench.media --simulcast")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminated)
    setup_namespace()  # the namespace (and the veth pair) goes away with this process
    janus = Janus(event_loops=os.cpu_count() or 1)
    pool: BotPool | None = None
    try:
        janus.start()
        pool = BotPool(args.bot_processes, ICE)
        for n in args.sizes:
            print(f"janus: {n} participants ...", flush=True)
            try:
                row = run_size(janus, pool, n, args)
                row["errors"] = ""
            except Exception as exc:
                row = {"system": "janus", "participants": n, "errors": str(exc)}
                print(f"  failed: {exc}\n{janus.tail()[-1500:]}", flush=True)
            print(f"  {summary_line(row)}", flush=True)
            rows.append(row)
            args.out.write_text(json.dumps(rows))
    finally:
        if pool is not None:
            pool.close()
        janus.stop()
    args.out.write_text(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

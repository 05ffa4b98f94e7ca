"""Micro-benchmark of the SFU's forwarding hot path: CPU per forwarded packet, in-process.

    PYTHONPATH=. .venv/bin/python -m bench.forwarding [--outputs 9,24,49] [--packets 4000]

What one incoming packet costs the SFU from its parse (``fwd_parse``, what ``Peer.on_rtp`` does
once it knows the source) through ``SfuRoom.forward`` to the datagram on the wire,
with everything real except ICE/DTLS: one room, one VP8 source and one Opus source, N output
slots each (one per subscriber), every slot writing through its own ``transport.RtpWriter`` with
its own SRTP session (AES-256-GCM, what two aiortc ends pick) to its own loopback UDP socket.
The subscriber sockets are drained between batches, outside the timed part, so the kernel's
cost of delivering each datagram (charged to the sender on loopback) is included as in the
real worker. Reports the median of ``--repeat`` runs of CPU time (user + system of this
process) per forwarded packet, for video and audio separately.

Far less noisy than the end-to-end ``bench.media`` run (no bots, no event loop), so use it to
judge a hot-path change; ``bench.media`` remains the figure that counts.
"""

from __future__ import annotations

import argparse
import itertools
import os
import select
import signal
import socket
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import aioice.ice
from aiortc.rtcdtlstransport import State
from pylibsrtp import Policy, Session

from rooms.sfu._fastpath import ffi, lib
from rooms.sfu.config import SfuConfig
from rooms.sfu.room import SfuRoom
from rooms.sfu.rtp_header import build_header, one_byte_extension_block
from rooms.sfu.selection import SourceKey
from rooms.sfu.streams import OutputSlot, Source
from rooms.sfu.transport import RtpWriter
from rooms.sfu.vp8 import build_descriptor

MID_EXT = 1
AUDIO_LEVEL_EXT = 2
VIDEO_PAYLOAD = 1100  # bytes after the descriptor: a ~500 kbit/s VP8 stream's typical packet
AUDIO_PAYLOAD = 90  # Opus at ~32 kbit/s, 20 ms frames


class _Transport:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def get_extra_info(self, name: str) -> object:
        return self._sock if name == "socket" else None


@dataclass
class Subscriber:
    sock: socket.socket
    writer: RtpWriter

    def drain(self) -> int:
        count = 0
        while True:
            try:
                self.sock.recv(2048)
            except BlockingIOError:
                return count
            count += 1


def loopback_writer(
    sender: socket.socket, remote: tuple[str, int], key: bytes | None = None
) -> RtpWriter:
    """A real RtpWriter on a stand-in for a connected DTLS transport: it sends from
    ``sender`` to ``remote``, protected with AES-256-GCM under ``key`` (44 bytes, random by
    default); a receiver unprotects with an inbound session of the same key."""
    # Only its transport is used by the writer; __init__ would want an event loop.
    protocol = aioice.ice.StunProtocol.__new__(aioice.ice.StunProtocol)
    protocol.transport = _Transport(sender)  # type: ignore[assignment]
    pair = SimpleNamespace(protocol=protocol, remote_addr=remote)
    policy = Policy(
        key=os.urandom(44) if key is None else key,
        ssrc_type=Policy.SSRC_ANY_OUTBOUND,
        srtp_profile=Policy.SRTP_PROFILE_AEAD_AES_256_GCM,
    )
    policy.allow_repeat_tx = True  # as aiortc's: a NACK without RTX resends the very packet
    dtls = SimpleNamespace(
        _state=State.CONNECTED,
        _tx_srtp=Session(policy),
        transport=SimpleNamespace(_connection=SimpleNamespace(_nominated={1: pair})),
    )
    writer = RtpWriter(dtls)  # type: ignore[arg-type]
    writer.sync()
    return writer


def _subscribers(count: int) -> tuple[socket.socket, list[Subscriber]]:
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    sender.setblocking(False)
    subs = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        subs.append(Subscriber(sock, loopback_writer(sender, sock.getsockname())))
    return sender, subs


def video_packets(ssrc: int = 1111) -> Iterator[bytes]:
    """VP8 packets with 15-bit picture ids; a keyframe every 30 frames, 3 packets a frame."""
    ext = one_byte_extension_block([(MID_EXT, b"1")])
    seq, ts, picture_id = 1000, 0, 10
    body = bytes(range(256)) * (VIDEO_PAYLOAD // 256 + 1)
    while True:
        for frame in range(30):
            for part in range(3):
                first = part == 0
                vp8 = bytes([0x00 if frame == 0 else 0x01]) + body[: VIDEO_PAYLOAD - 1]
                yield (
                    build_header(
                        marker=int(part == 2),
                        payload_type=96,
                        sequence_number=seq & 0xFFFF,
                        timestamp=ts & 0xFFFFFFFF,
                        ssrc=ssrc,
                        ext=ext,
                    )
                    + build_descriptor(picture_id=picture_id & 0x7FFF, start=first)
                    + vp8
                )
                seq += 1
            ts += 6000
            picture_id += 1


def audio_packets(ssrc: int = 2222) -> Iterator[bytes]:
    seq, ts = 500, 0
    body = bytes(AUDIO_PAYLOAD)
    while True:
        ext = one_byte_extension_block([(MID_EXT, b"0"), (AUDIO_LEVEL_EXT, bytes([30]))])
        yield (
            build_header(
                marker=0,
                payload_type=111,
                sequence_number=seq & 0xFFFF,
                timestamp=ts,
                ssrc=ssrc,
                ext=ext,
            )
            + body
        )
        seq += 1
        ts += 960


def _slot(sub: Subscriber, index: int, kind: str) -> OutputSlot:
    video = kind == "video"
    return OutputSlot(
        subscriber_id=f"sub{index}",
        mid="5" if video else "2",
        kind="video" if video else "audio",
        ssrc=10_000 + index,
        rtx_ssrc=20_000 + index,
        payload_type=100 if video else 111,
        rtx_payload_type=101 if video else None,
        clock_rate=90_000 if video else 48_000,
        writer=sub.writer,
        on_switch=lambda slot, source: None,
        mid_ext_id=MID_EXT,
        audio_level_ext_id=0 if video else AUDIO_LEVEL_EXT,
    )


def _drain_in_child(subs: list[Subscriber]) -> int:
    """A child process at the lowest priority that waits on every subscriber socket and
    reads what arrives, as the receiving processes do in a real run: each datagram then
    wakes a waiting reader, a cost the kernel charges to the sender on loopback."""
    pid = os.fork()
    if pid:
        return pid
    try:  # pragma: no cover - the child
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        poller = select.epoll()
        by_fd = {sub.sock.fileno(): sub for sub in subs}
        for fd in by_fd:
            poller.register(fd, select.EPOLLIN)
        while True:
            for fd, _ in poller.poll():
                by_fd[fd].drain()
    finally:
        os._exit(0)


def measure(
    kind: str,
    outputs: int,
    packets: int,
    batch: int = 200,
    per_flush: int = 1,
    live_receivers: bool = False,
) -> float:
    """CPU microseconds per forwarded packet for one run; the queued datagrams are sent
    (``fwd_flush``, what the worker does after each event loop iteration) after every
    ``per_flush`` incoming packets. With ``live_receivers`` a child process waits on the
    subscriber sockets (``_drain_in_child``)."""
    sender, subs = _subscribers(outputs)
    child = _drain_in_child(subs) if live_receivers else None
    room = SfuRoom("bench", SfuConfig(), sink=lambda event: None)
    video = kind == "video"
    source = Source(
        key=SourceKey("publisher", "camera" if video else "audio"),
        mid="1" if video else "0",
        payload_type=96 if video else 111,
        clock_rate=90_000 if video else 48_000,
        is_vp8=video,
        audio_level_id=0 if video else AUDIO_LEVEL_EXT,
        ssrc=1111 if video else 2222,
        history_size=512 if video else 0,
    )
    slots = [_slot(sub, i, kind) for i, sub in enumerate(subs)]
    for slot in slots:
        slot.assign(source, room.now())
    stream = video_packets() if video else audio_packets()
    data = [next(stream) for _ in range(packets)]
    pkt = ffi.new("fwd_pkt *")
    level_id = source.audio_level_id
    cpu = 0.0
    try:
        for start in range(0, packets, batch):
            chunk = range(start, min(start + batch, packets))
            before = time.process_time()
            for i in chunk:
                packet = data[i]
                # What Peer.on_rtp does once it knows the source: the parse in C, then forward.
                lib.fwd_parse(pkt, packet, len(packet), video, level_id)
                room.forward(source, packet, pkt)
                if (i + 1) % per_flush == 0:
                    lib.fwd_flush()
            lib.fwd_flush()
            cpu += time.process_time() - before
            for sub in subs:
                sub.drain()
        forwarded = room.forwarded_packets
        expected = packets * outputs
        if forwarded != expected:
            raise RuntimeError(f"forwarded {forwarded} packets, expected {expected}")
        return 1e6 * cpu / forwarded
    finally:
        if child is not None:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
        for sub in subs:
            sub.writer.close()
            sub.sock.close()
        sender.close()


def run(
    outputs: list[int],
    packets: int,
    repeat: int,
    per_flush: list[int] | None = None,
    live_receivers: bool = False,
) -> list[dict[str, float | int | str]]:
    rows: list[dict[str, float | int | str]] = []
    for kind, n, flush in itertools.product(("video", "audio"), outputs, per_flush or [1]):
        runs = [
            measure(kind, n, packets, per_flush=flush, live_receivers=live_receivers)
            for _ in range(repeat)
        ]
        rows.append(
            {
                "kind": kind,
                "outputs": n,
                "per_flush": flush,
                "us_per_packet_median": round(statistics.median(runs), 2),
                "us_per_packet_min": round(min(runs), 2),
                "pkts_per_cpu_s": round(1e6 / statistics.median(runs)),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--outputs", type=lambda s: [int(x) for x in s.split(",")], default=[9, 24, 49]
    )
    parser.add_argument("--packets", type=int, default=3000, help="incoming packets per run")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--per-flush",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 4],
        help="incoming packets between two sends of the queues (1: one sendmmsg per datagram)",
    )
    parser.add_argument(
        "--live-receivers",
        action="store_true",
        help="a child process waits on the subscriber sockets (wake-ups, as in a real run)",
    )
    args = parser.parse_args(argv)
    print("kind   outputs  per flush  us/pkt median  us/pkt min  pkt/CPU-s")
    for row in run(args.outputs, args.packets, args.repeat, args.per_flush, args.live_receivers):
        print(
            f"{row['kind']:<6} {row['outputs']:>7} {row['per_flush']:>10}"
            f" {row['us_per_packet_median']:>14}"
            f" {row['us_per_packet_min']:>11} {row['pkts_per_cpu_s']:>10}"
        )


if __name__ == "__main__":
    main()

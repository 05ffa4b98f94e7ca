"""What a peer does with the RTP it receives (Peer.on_rtp), without a transport."""

from __future__ import annotations

import asyncio
from typing import Any

from rooms.mediabot.bot import build_header
from rooms.sfu.config import SfuConfig
from rooms.sfu.peer import Peer
from rooms.sfu.selection import SourceKey
from rooms.sfu.streams import Source
from rooms.sfu.vp8 import build_descriptor


class Room:
    """Just what the intake calls on its room."""

    def __init__(self) -> None:
        self.forwarded: list[int] = []

    def now(self) -> float:
        return 0.0

    def forward(self, source: Source, data: bytes, pkt: Any) -> None:
        self.forwarded.append(pkt.seq)


def media(seq: int) -> bytes:
    header = build_header(
        marker=1, payload_type=96, sequence_number=seq, timestamp=seq, ssrc=9, ext=b""
    )
    return header + build_descriptor(picture_id=seq, start=True) + b"\x01" + bytes(1000)


def padding(seq: int) -> bytes:
    """A padding-only packet as a browser sends them on a layer it paused (the P bit, and
    nothing but the padding after the header)."""
    header = bytearray(
        build_header(marker=0, payload_type=96, sequence_number=seq, timestamp=0, ssrc=9, ext=b"")
    )
    header[0] |= 0x20
    return bytes(header) + bytes(254) + b"\xff"


def test_padding_is_no_media_a_paused_layer_is_not_live() -> None:
    """A simulcast layer its publisher paused keeps sending padding (2-9 kbit/s from
    Chromium): counted as the layer's rate, it looked all but free to the allocation, was
    given to a viewer on a 500 kbit/s link, resumed at 500 kbit/s and dropped the video. The
    padding is not forwarded, the sequence numbers close up over it, and a layer that sends
    only padding is not live."""

    async def run() -> None:
        room = Room()
        peer = Peer(room, "alice", SfuConfig(), lambda *args: None)  # type: ignore[arg-type]
        layer = Source(SourceKey("alice", "camera"), "0", 96, 90_000, True, 0, ssrc=9)
        peer.sources_by_ssrc[9] = layer
        try:
            for seq in range(100, 110):
                peer.on_rtp(media(seq), 0)
            layer.sample(1.0)
            assert layer.receiving and layer.bitrate > 80_000
            for seq in range(110, 130):
                peer.on_rtp(padding(seq), 0)
            layer.sample(1.0)
            assert not layer.receiving and layer.bitrate == 0
            peer.on_rtp(media(130), 0)
            assert room.forwarded == [*range(100, 110), 110]  # no gap where padding was
            assert layer.stats.lost == 0  # the padding's numbers were received
        finally:
            await peer.close()

    asyncio.run(run())

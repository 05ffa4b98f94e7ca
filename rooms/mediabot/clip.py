"""Short pre-encoded media clips for the bot (encoded once per process, then only looped).

``clip(variant)`` encodes ~2 s of VP8 video (a moving pattern whose brightness depends on the
variant; a keyframe every second, or every ``keyframe_every`` seconds in a clip that long) and
Opus audio (a tone whose pitch depends on the variant). At run time the bot only packetizes
these bytes. Because the SFU forwards payloads untouched, a receiver can tell which clip (and
so which publisher) a frame or audio packet came from by its digest: ``identify``.
"""

from __future__ import annotations

import array
import functools
import hashlib
import math
import random
import sys
from dataclasses import dataclass
from fractions import Fraction

import av
import av.video.frame

WIDTH = 320
HEIGHT = 240
FPS = 15
SECONDS = 2
KEYFRAME_INTERVAL = FPS  # frames a second
"""Frames between keyframes of the default clip (one a second). A browser's encoder makes
keyframes only when asked; ``keyframe_every`` makes a clip closer to that."""
VIDEO_BITRATE = 600_000
AUDIO_FRAME_SAMPLES = 960  # 20 ms at 48 kHz

_registry: dict[bytes, tuple[int, bool]] = {}


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=8).digest()


@dataclass(frozen=True)
class Clip:
    variant: int
    fps: int
    video_frames: tuple[bytes, ...]
    keyframes: tuple[bool, ...]
    audio_packets: tuple[bytes, ...]


def _encode_video(
    variant: int, scale: int = 1, keyframe_every: int = 1
) -> tuple[list[bytes], list[bool]]:
    """The clip's frames, ``scale`` times smaller on each side (and bitrate) than the full one;
    ``keyframe_every``: seconds between keyframes (a clip of that many seconds when above
    ``SECONDS``, its first frame the only keyframe)."""
    interval = KEYFRAME_INTERVAL * keyframe_every
    ctx = av.VideoCodecContext.create("libvpx", "w")
    width, height = WIDTH // scale, HEIGHT // scale
    ctx.width = width
    ctx.height = height
    ctx.pix_fmt = "yuv420p"
    ctx.framerate = Fraction(FPS, 1)
    ctx.time_base = Fraction(1, FPS)
    ctx.bit_rate = VIDEO_BITRATE // (scale * scale)
    ctx.gop_size = interval
    ctx.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    # A textured pattern (seeded noise plus a ramp) that scrolls: realistic frame sizes,
    # several RTP packets per frame, and clips that differ per variant.
    noise = random.Random(variant).randbytes(WIDTH * 4)  # noqa: S311 - test pattern
    ramp = bytes((b // 2 + (k % 256) // 2) & 0xFF for k, b in enumerate(noise)) * 2
    base = (variant * 67) % 256
    chroma = ((64 + variant * 40) % 256, (192 - variant * 40) % 256)
    frames: list[bytes] = []
    keys: list[bool] = []
    total = FPS * max(SECONDS, keyframe_every)
    for i in range(total):
        frame = av.VideoFrame(width, height, "yuv420p")
        rows = []
        for r in range(height):
            start = (base + i * 6 * scale + r * 5 * scale) % (WIDTH * 4)
            rows.append(ramp[start : start + width])
        frame.planes[0].update(b"".join(rows))
        for plane, value in zip(frame.planes[1:], chroma, strict=True):
            # Each row of a plane is padded to its line size (small sizes are).
            plane.update(bytes((value,)) * (plane.line_size * (height // 2)))
        frame.pts = i
        if i % interval == 0:
            frame.pict_type = av.video.frame.PictureType.I
        for packet in ctx.encode(frame):
            frames.append(bytes(packet))
            keys.append(bool(packet.is_keyframe))
    for packet in ctx.encode(None):
        frames.append(bytes(packet))
        keys.append(bool(packet.is_keyframe))
    if not keys or not keys[0]:
        raise RuntimeError("VP8 clip must start with a keyframe")
    return frames, keys


def _encode_audio(variant: int) -> list[bytes]:
    ctx = av.AudioCodecContext.create("libopus", "w")
    ctx.sample_rate = 48000
    ctx.layout = "stereo"
    ctx.format = "s16"
    ctx.bit_rate = 32000
    freq = 220.0 * (1 + variant)
    packets: list[bytes] = []
    count = 50 * SECONDS
    for i in range(count):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=AUDIO_FRAME_SAMPLES)
        frame.sample_rate = 48000
        frame.pts = i * AUDIO_FRAME_SAMPLES
        step = 2 * math.pi * freq / 48000
        first = i * AUDIO_FRAME_SAMPLES
        mono = [int(6000 * math.sin(step * (first + n))) for n in range(AUDIO_FRAME_SAMPLES)]
        stereo = array.array("h", [v for v in mono for _ in (0, 1)])
        if sys.byteorder != "little":
            stereo.byteswap()
        frame.planes[0].update(stereo.tobytes())
        packets += [bytes(p) for p in ctx.encode(frame)]
    packets += [bytes(p) for p in ctx.encode(None)]
    return packets


def _checked(keyframe_every: int) -> int:
    if isinstance(keyframe_every, bool) or not isinstance(keyframe_every, int):
        raise TypeError("keyframe_every is a whole number of seconds")
    if keyframe_every < 1:
        raise ValueError("keyframe_every is a whole number of seconds, at least 1")
    return keyframe_every


def clip(variant: int, keyframe_every: int = 1) -> Clip:
    """Encode (once) the clip for ``variant`` and register its digests."""
    # One cache entry for clip(v) and clip(v, 1).
    return _clip(variant, _checked(keyframe_every))


@functools.cache
def _clip(variant: int, keyframe_every: int) -> Clip:
    frames, keys = _encode_video(variant, keyframe_every=keyframe_every)
    audio = _encode_audio(variant)
    for index, frame in enumerate(frames):
        _registry[digest(frame)] = (variant, keys[index])
    for packet in audio:
        _registry.setdefault(digest(packet), (variant, False))
    return Clip(variant, FPS, tuple(frames), tuple(keys), tuple(audio))


# Simulcast layers of a clip: the full clip scaled down by these, lowest first (80x60, 160x120
# and the full 320x240), as a browser scales its camera by 4, 2 and 1.
LAYER_SCALES = (4, 2, 1)


def layered_clip(variant: int, keyframe_every: int = 1) -> tuple[Clip, ...]:
    """The clip for ``variant`` in simulcast layers, lowest first (encoded once; every layer's
    frames identify as ``variant``). Keyframes fall on the same frames in every layer."""
    return _layered_clip(variant, _checked(keyframe_every))


@functools.cache
def _layered_clip(variant: int, keyframe_every: int) -> tuple[Clip, ...]:
    layers: list[Clip] = []
    for scale in LAYER_SCALES:
        if scale == 1:
            layers.append(clip(variant, keyframe_every))
            continue
        frames, keys = _encode_video(variant, scale, keyframe_every)
        for index, frame in enumerate(frames):
            _registry[digest(frame)] = (variant, keys[index])
        full = clip(variant, keyframe_every)
        layers.append(Clip(variant, FPS, tuple(frames), tuple(keys), full.audio_packets))
    return tuple(layers)


def identify(data: bytes) -> int | None:
    """The variant whose clip contains this exact frame / audio packet, if any."""
    found = _registry.get(digest(data))
    return found[0] if found is not None else None

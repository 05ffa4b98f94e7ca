"""VP8 RTP payload descriptor (RFC 7741 section 4.2) parsing and rewriting (pure).

The forwarder needs three things from a VP8 packet: whether it starts a keyframe (a slot only
switches source there), and where the picture id and TL0PICIDX are (they are renumbered per
output stream so a receiver sees one continuous sequence across source switches).
"""

from __future__ import annotations

from dataclasses import dataclass

PICTURE_ID_7BIT = 0x80
PICTURE_ID_15BIT = 0x8000


@dataclass(slots=True)
class Vp8Descriptor:
    """Treat as read-only (not frozen: see ``RtpView``)."""

    start_of_partition: bool
    partition_id: int
    picture_id: int | None
    picture_id_offset: int
    picture_id_bits: int
    tl0picidx: int | None
    tl0picidx_offset: int
    size: int
    keyframe: bool
    """True when this packet carries the first bytes of a keyframe."""


def parse_vp8(payload: bytes | memoryview) -> Vp8Descriptor:
    """Parse the descriptor at the start of ``payload``; raise ``ValueError`` if malformed."""
    n = len(payload)
    if n < 1:
        raise ValueError("empty VP8 payload")
    b0 = payload[0]
    start = bool(b0 & 0x10)
    pid = b0 & 0x07
    pos = 1
    picture_id: int | None = None
    picture_id_offset = 0
    picture_id_bits = 0
    tl0: int | None = None
    tl0_offset = 0
    if b0 & 0x80:
        if n < 2:
            raise ValueError("VP8 extension byte missing")
        x = payload[1]
        pos = 2
        if x & 0x80:
            if pos >= n:
                raise ValueError("VP8 picture id missing")
            picture_id_offset = pos
            if payload[pos] & 0x80:
                if pos + 1 >= n:
                    raise ValueError("VP8 15-bit picture id truncated")
                picture_id = ((payload[pos] & 0x7F) << 8) | payload[pos + 1]
                picture_id_bits = 15
                pos += 2
            else:
                picture_id = payload[pos] & 0x7F
                picture_id_bits = 7
                pos += 1
        if x & 0x40:
            if pos >= n:
                raise ValueError("VP8 TL0PICIDX missing")
            tl0 = payload[pos]
            tl0_offset = pos
            pos += 1
        if x & 0x30:
            pos += 1
    if pos > n:
        raise ValueError("VP8 descriptor longer than the payload")
    keyframe = start and pid == 0 and pos < n and (payload[pos] & 0x01) == 0
    return Vp8Descriptor(
        start_of_partition=start,
        partition_id=pid,
        picture_id=picture_id,
        picture_id_offset=picture_id_offset,
        picture_id_bits=picture_id_bits,
        tl0picidx=tl0,
        tl0picidx_offset=tl0_offset,
        size=pos,
        keyframe=keyframe,
    )


def rewrite_descriptor(
    payload: bytes | memoryview, desc: Vp8Descriptor, picture_id: int | None, tl0picidx: int | None
) -> bytes:
    """Return the descriptor bytes with the picture id / TL0PICIDX replaced (same length)."""
    head = bytearray(payload[: desc.size])
    if picture_id is not None and desc.picture_id is not None:
        off = desc.picture_id_offset
        if desc.picture_id_bits == 15:
            head[off] = 0x80 | ((picture_id >> 8) & 0x7F)
            head[off + 1] = picture_id & 0xFF
        else:
            head[off] = picture_id & 0x7F
    if tl0picidx is not None and desc.tl0picidx is not None:
        head[desc.tl0picidx_offset] = tl0picidx & 0xFF
    return bytes(head)


def build_descriptor(*, picture_id: int, start: bool, tl0picidx: int | None = None) -> bytes:
    """A descriptor with a 15-bit picture id (what the bot publishes)."""
    x = 0x80 | (0x40 if tl0picidx is not None else 0)
    out = bytearray((0x80 | (0x10 if start else 0), x))
    out += bytes((0x80 | ((picture_id >> 8) & 0x7F), picture_id & 0xFF))
    if tl0picidx is not None:
        out.append(tl0picidx & 0xFF)
    return bytes(out)


def is_keyframe_bitstream(frame: bytes) -> bool:
    """Whether an encoded VP8 frame (not RTP) is a keyframe (frame tag bit 0 is 0)."""
    return len(frame) > 0 and (frame[0] & 0x01) == 0


def keyframe_size(payload: bytes | memoryview) -> tuple[int, int] | None:
    """The picture size a packet that starts a VP8 keyframe announces (RFC 6386 9.1: after
    the 3-byte frame tag, the start code 9d 01 2a and two 14-bit little-endian sizes); None
    for any other packet or a malformed one."""
    try:
        desc = parse_vp8(payload)
    except ValueError:
        return None
    if not desc.keyframe:
        return None
    frame = payload[desc.size :]
    if len(frame) < 10 or bytes(frame[3:6]) != b"\x9d\x01\x2a":
        return None
    width = (frame[6] | (frame[7] << 8)) & 0x3FFF
    height = (frame[8] | (frame[9] << 8)) & 0x3FFF
    return (width, height) if width and height else None

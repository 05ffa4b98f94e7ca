import pytest

from rooms.sfu.vp8 import build_descriptor, parse_vp8, rewrite_descriptor


def test_it_reads_a_15_bit_picture_id_and_keyframe() -> None:
    payload = build_descriptor(picture_id=0x1234, start=True, tl0picidx=9) + bytes([0x10, 0, 0])
    desc = parse_vp8(payload)
    assert desc.picture_id == 0x1234
    assert desc.picture_id_bits == 15
    assert desc.tl0picidx == 9
    assert desc.size == 5
    assert desc.keyframe


def test_a_delta_frame_or_a_continuation_is_not_a_keyframe() -> None:
    delta = build_descriptor(picture_id=1, start=True) + bytes([0x11])
    middle = build_descriptor(picture_id=1, start=False) + bytes([0x10])
    assert not parse_vp8(delta).keyframe
    assert not parse_vp8(middle).keyframe


def test_it_reads_a_7_bit_picture_id_and_minimal_descriptor() -> None:
    desc = parse_vp8(bytes([0x90, 0x80, 0x05, 0x00]))
    assert (desc.picture_id, desc.picture_id_bits, desc.size, desc.keyframe) == (5, 7, 3, True)
    plain = parse_vp8(bytes([0x10, 0x00]))
    assert plain.picture_id is None and plain.size == 1 and plain.keyframe


def test_rewriting_keeps_length_and_width() -> None:
    payload = build_descriptor(picture_id=7, start=True, tl0picidx=3) + b"\x10rest"
    desc = parse_vp8(payload)
    head = rewrite_descriptor(payload, desc, 0x7FFE, 200)
    assert len(head) == desc.size
    again = parse_vp8(head + payload[desc.size :])
    assert (again.picture_id, again.tl0picidx, again.keyframe) == (0x7FFE, 200, True)


@pytest.mark.parametrize("data", [b"", b"\x80", b"\x80\x80", b"\x80\x80\x80", b"\x80\x40"])
def test_it_rejects_truncated_descriptors(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_vp8(data)

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from rooms.sfu.rtp_header import (
    build_header,
    find_extension,
    one_byte_extension_block,
    parse_rtp,
    read_audio_level,
    seq_delta,
    seq_newer,
)


def _aiortc_packet(*, padding: int = 0) -> bytes:
    ext_map = HeaderExtensionsMap()
    ext_map.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
                RTCRtpHeaderExtensionParameters(
                    id=2, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level"
                ),
            ]
        )
    )
    packet = RtpPacket(payload_type=111, sequence_number=65535, timestamp=123456, ssrc=0xDEADBEEF)
    packet.marker = 1
    packet.extensions.mid = "3"
    packet.extensions.audio_level = (True, 42)
    packet.payload = b"opus-bytes"
    packet.padding_size = padding
    return packet.serialize(ext_map)


def test_it_reads_what_aiortc_writes() -> None:
    data = _aiortc_packet()
    view = parse_rtp(data)
    assert (view.marker, view.payload_type, view.sequence_number) == (1, 111, 65535)
    assert (view.timestamp, view.ssrc) == (123456, 0xDEADBEEF)
    assert data[view.payload_start : view.payload_end] == b"opus-bytes"
    assert find_extension(data, view, 1) == b"3"
    assert read_audio_level(data, view, 2) == 42
    assert read_audio_level(data, view, 5) is None


def test_it_excludes_padding_from_the_payload() -> None:
    data = _aiortc_packet(padding=4)
    view = parse_rtp(data)
    assert data[view.payload_start : view.payload_end] == b"opus-bytes"


def test_what_it_builds_aiortc_parses() -> None:
    ext = one_byte_extension_block([(1, b"12"), (2, bytes((0x80 | 5,)))])
    data = (
        build_header(marker=1, payload_type=96, sequence_number=7, timestamp=9, ssrc=11, ext=ext)
        + b"payload"
    )
    ext_map = HeaderExtensionsMap()
    ext_map.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
                RTCRtpHeaderExtensionParameters(
                    id=2, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level"
                ),
            ]
        )
    )
    packet = RtpPacket.parse(data, ext_map)
    assert (packet.payload_type, packet.sequence_number, packet.timestamp, packet.ssrc) == (
        96,
        7,
        9,
        11,
    )
    assert packet.extensions.mid == "12"
    assert packet.extensions.audio_level == (True, 5)
    assert packet.payload == b"payload"


def test_it_reads_two_byte_extensions() -> None:
    # profile 0x1000, one element id=4 len=2
    data = bytes([0x90, 96, 0, 1]) + bytes(8) + bytes([0x10, 0x00, 0, 1, 4, 2, 0xAB, 0xCD])
    view = parse_rtp(data + b"x")
    assert find_extension(data + b"x", view, 4) == b"\xab\xcd"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80" * 11,
        bytes([0x40]) + bytes(11),  # version 1
        bytes([0x90]) + bytes(11),  # extension flag without extension
        bytes([0xA0]) + bytes(11) + b"\x00",  # zero padding length
        bytes([0x8F]) + bytes(11),  # 15 CSRCs announced, none present
    ],
)
def test_it_rejects_garbage(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_rtp(data)


def test_sequence_arithmetic_wraps() -> None:
    assert seq_newer(0, 65535)
    assert not seq_newer(65535, 0)
    assert seq_delta(2, 65534) == 4
    assert seq_delta(65534, 2) == -4

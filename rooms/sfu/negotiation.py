"""SDP negotiation: what an offer may ask for, and how the SFU answers it.

The client always offers; the SFU always answers (aiortc's ``createOffer`` rewrites the payload
types of existing m-lines to its own table, which a browser's BUNDLE may reject, and answering
only also rules out glare). In an offer:
- ``sendonly``/``sendrecv`` audio or video m-lines publish (the SFU answers ``recvonly``); at
  most one audio, one camera and one screen (named by ``screen_mids``);
- ``recvonly`` m-lines are receive slots (the SFU answers ``sendonly`` and forwards into them);
- all m-lines must be in one BUNDLE group; audio must offer Opus and video VP8.
When a subscriber needs more slots, the room emits ``RenegotiationNeeded`` and the client sends
a new offer with more ``recvonly`` transceivers.

``plan_offer`` checks an offer before anything is applied (pure); ``prepare_transceiver`` sets
each m-line's direction and narrows its codecs to the forwarded one (plus RTX for video slots)
before aiortc answers; ``complete_answer`` adds what aiortc's answer lacks for simulcast and
transport-cc. The
peer (``rooms.sfu.peer``) applies the offer and names each slot's stream (``stream_id``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from aiortc import RTCRtpTransceiver
from aiortc import sdp as aiortc_sdp
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from . import transport
from .errors import NegotiationError
from .selection import SourceKey, SourceKind
from .twcc import TWCC_URI

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
MAX_SIMULCAST_LAYERS = 3
_RID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"

Role = Literal["publish", "slot", "inactive"]


@dataclass(frozen=True, slots=True)
class MediaPlan:
    mid: str
    kind: Literal["audio", "video"]
    role: Role
    source_kind: SourceKind | None
    ssrc: int | None
    rids: tuple[str, ...] = ()
    """Simulcast layers (RTP stream ids) the m-line publishes, lowest first; () without."""
    rid_ext_id: int = 0
    twcc_ext_id: int = 0
    """The transport-wide sequence number extension's id on a published m-line when the offer
    asks for transport-cc feedback there (the answer accepts it: rooms.sfu.twcc); 0 without."""


def stream_id(key: SourceKey) -> str:
    """The MediaStream id a slot carrying ``key`` is answered with (lip sync, see
    rooms.sfu.peer)."""
    prefix = "screen" if key.kind == "screen" else "person"
    return f"{prefix}-{key.participant_id}"


def _codec_name(codec: RTCRtpCodecParameters) -> str:
    return codec.mimeType.split("/")[-1].lower()


def ext_id(transceiver: RTCRtpTransceiver, uri: str) -> int:
    for ext in transceiver._headerExtensions:
        if ext.uri == uri:
            return int(ext.id)
    return 0


def offer_ice_ufrag(offer_sdp: str) -> str | None:
    """The ICE username fragment of an offer (None when it cannot be read). A browser's new
    connection, or an ICE restart, comes with a new one."""
    try:
        desc = aiortc_sdp.SessionDescription.parse(offer_sdp)
    except Exception:
        return None
    return next(
        (m.ice.usernameFragment for m in desc.media if m.ice and m.ice.usernameFragment), None
    )


def _sections(offer_sdp: str) -> list[list[str]]:
    """The attribute lines of each m-section, in order (aiortc's parser drops a=rid and
    a=simulcast)."""
    sections: list[list[str]] = []
    for line in offer_sdp.splitlines():
        line = line.strip()
        if line.startswith("m="):
            sections.append([])
        elif sections and line.startswith("a="):
            sections[-1].append(line[2:])
    return sections


def simulcast_rids(attributes: Sequence[str]) -> tuple[tuple[str, ...], int]:
    """The layers an m-section publishes with RFC 8853 simulcast (``a=simulcast:send`` with
    ``a=rid:<id> send`` for each; the first alternative of each stream; paused ones too) and
    the id of the rtp-stream-id header extension. ((), 0) without simulcast. Raises
    NegotiationError for simulcast that cannot be received."""
    send: list[str] | None = None
    declared: set[str] = set()
    for attr in attributes:
        name, _, value = attr.partition(":")
        if name == "simulcast":
            parts = value.split()
            if len(parts) >= 2 and parts[0] == "send":
                send = [alt.split(",")[0].lstrip("~") for alt in parts[1].split(";")]
        elif name == "rid":
            parts = value.split()
            if len(parts) >= 2 and parts[1] == "send":
                declared.add(parts[0])
    ext_id = _extension_id(attributes, RID_URI)
    if send is None:
        return (), 0
    if not 1 <= len(send) <= MAX_SIMULCAST_LAYERS or len(set(send)) != len(send):
        raise NegotiationError(f"simulcast: 1 to {MAX_SIMULCAST_LAYERS} distinct layers")
    for rid in send:
        if not _RID.match(rid) or rid not in declared:
            raise NegotiationError(f"simulcast layer {rid!r} has no valid a=rid line")
    if not 1 <= ext_id <= 14:
        raise NegotiationError("simulcast needs the rtp-stream-id header extension (1..14)")
    return tuple(send), ext_id


def _extension_id(attributes: Sequence[str], uri: str) -> int:
    """The id an m-section's ``a=extmap`` gives header extension ``uri``, 0 when absent."""
    for attr in attributes:
        name, _, value = attr.partition(":")
        parts = value.split()
        if name == "extmap" and len(parts) >= 2 and parts[1] == uri:
            number = parts[0].split("/")[0]
            return int(number) if number.isdigit() else 0
    return 0


def transport_cc(attributes: Sequence[str]) -> int:
    """The id of the transport-wide sequence number extension an m-section offers, when it
    also offers transport-cc feedback for a payload type (``a=rtcp-fb:<pt> transport-cc``);
    0 otherwise."""
    ext = _extension_id(attributes, TWCC_URI)
    feedback = False
    for attr in attributes:
        name, _, value = attr.partition(":")
        parts = value.split()
        if name == "rtcp-fb" and len(parts) == 2 and parts[1] == "transport-cc":
            feedback = True
    return ext if feedback and 1 <= ext <= 14 else 0


def complete_answer(answer_sdp: str, plans: Sequence[MediaPlan]) -> str:
    """Add what aiortc's answer lacks to the m-section of each published m-line that asks for
    it: the offered simulcast layers (the rtp-stream-id extension, ``a=rid:<id> recv`` and
    ``a=simulcast:recv``) and transport-cc (its extension and ``a=rtcp-fb:<pt>
    transport-cc`` for the m-line's codec); and the rtp-stream-id extension of an inactive
    video m-line that offers it (``plan_offer``)."""
    by_mid = {p.mid: p for p in plans if p.rids or p.rid_ext_id or p.twcc_ext_id}
    if not by_mid:
        return answer_sdp
    out: list[str] = []
    current: MediaPlan | None = None
    payload_type = ""

    def close_section() -> None:
        if current is None:
            return
        if current.rids:
            out.append(f"a=extmap:{current.rid_ext_id} {RID_URI}")
            out.extend(f"a=rid:{rid} recv" for rid in current.rids)
            out.append("a=simulcast:recv " + ";".join(current.rids))
        elif current.role == "inactive" and 1 <= current.rid_ext_id <= 14:
            out.append(f"a=extmap:{current.rid_ext_id} {RID_URI}")
        if current.twcc_ext_id and payload_type:
            out.append(f"a=extmap:{current.twcc_ext_id} {TWCC_URI}")
            out.append(f"a=rtcp-fb:{payload_type} transport-cc")

    for line in answer_sdp.splitlines():
        if line.startswith("m="):
            close_section()
            current = None
            parts = line.split()
            payload_type = parts[3] if len(parts) > 3 else ""
        elif line.startswith("a=mid:"):
            current = by_mid.get(line[6:].strip())
        out.append(line)
    close_section()
    return "\r\n".join(out) + "\r\n"


# m-lines that neither publish nor receive (a stopped transceiver stays in the SDP as one).
MAX_INACTIVE_LINES = 8


def plan_offer(
    offer_sdp: str,
    screen_mids: Collection[str],
    *,
    max_audio_slots: int = 3,
    max_video_slots: int = 13,
) -> list[MediaPlan]:
    """Parse and check an offer before anything is applied (pure).

    Receive slots are capped at what the room could ever fill for one person (the loudest
    voices; last-N cameras plus screens and pins): each costs the worker a transceiver and
    its buffers, and 400 of them once cost 11 MB and 5 % of a core per peer."""
    try:
        desc = aiortc_sdp.SessionDescription.parse(offer_sdp)
    except Exception as exc:
        raise NegotiationError(f"malformed SDP offer: {exc}") from None
    media = [m for m in desc.media if m.kind in ("audio", "video")]
    if not media:
        raise NegotiationError("offer has no audio or video m-line")
    mids = [m.rtp.muxId for m in desc.media]
    if any(not mid for mid in mids) or len(set(mids)) != len(mids):
        raise NegotiationError("every m-line needs a distinct a=mid")
    bundle = next((g for g in desc.group if g.semantic == "BUNDLE"), None)
    if bundle is None or set(map(str, bundle.items)) != set(mids):
        raise NegotiationError("all m-lines must be in one BUNDLE group")
    unknown_screens = set(screen_mids) - {m.rtp.muxId for m in media if m.kind == "video"}
    if unknown_screens:
        raise NegotiationError(f"screen_mids are not video m-lines: {sorted(unknown_screens)}")
    plans: list[MediaPlan] = []
    published: set[SourceKind] = set()
    sections = _sections(offer_sdp)
    attributes = {m.rtp.muxId: sections[i] for i, m in enumerate(desc.media) if i < len(sections)}
    for m in media:
        mid = m.rtp.muxId
        kind: Literal["audio", "video"] = "audio" if m.kind == "audio" else "video"
        names = {_codec_name(c) for c in m.rtp.codecs}
        if m.kind == "audio" and "opus" not in names:
            raise NegotiationError(f"audio m-line {mid} does not offer Opus")
        if m.kind == "video" and "vp8" not in names:
            raise NegotiationError(f"video m-line {mid} does not offer VP8")
        direction = m.direction or "sendrecv"
        if direction in ("sendonly", "sendrecv") and m.port != 0:
            source_kind: SourceKind = (
                "audio" if m.kind == "audio" else "screen" if mid in screen_mids else "camera"
            )
            if source_kind in published:
                raise NegotiationError(f"more than one {source_kind} stream published")
            published.add(source_kind)
            rids: tuple[str, ...] = ()
            rid_ext_id = 0
            if source_kind != "audio":
                # A camera or a screen share may come in layers (a screen's differ mostly in
                # frame rate and bitrate, see docs/simulcast.md).
                rids, rid_ext_id = simulcast_rids(attributes.get(mid, []))
            ssrc = m.ssrc[0].ssrc if m.ssrc and not rids else None
            twcc = transport_cc(attributes.get(mid, []))
            plans.append(MediaPlan(mid, kind, "publish", source_kind, ssrc, rids, rid_ext_id, twcc))
        elif direction == "recvonly" and m.port != 0:
            plans.append(MediaPlan(mid, kind, "slot", None, None))
        else:
            # A stopped (or refused) share's m-line: should it publish again, in layers, the
            # browser's next offer may only use the extensions negotiated for it, and
            # Chromium refuses its own simulcast offer without rtp-stream-id (the whole
            # connection was rebuilt on every second share of a call). The answer keeps it.
            keep_rid = _extension_id(attributes.get(mid, []), RID_URI) if kind == "video" else 0
            plans.append(MediaPlan(mid, kind, "inactive", None, None, rid_ext_id=keep_rid))
    slots = {
        k: sum(1 for p in plans if p.role == "slot" and p.kind == k) for k in ("audio", "video")
    }
    if slots["audio"] > max_audio_slots or slots["video"] > max_video_slots:
        raise NegotiationError(
            f"too many receive slots: at most {max_audio_slots} audio and {max_video_slots} video"
        )
    if sum(1 for p in plans if p.role == "inactive") > MAX_INACTIVE_LINES:
        raise NegotiationError(f"too many inactive m-lines: at most {MAX_INACTIVE_LINES}")
    return plans


def _forwarding_codecs(
    codecs: list[RTCRtpCodecParameters], name: str, *, with_rtx: bool
) -> list[RTCRtpCodecParameters]:
    primary = next((c for c in codecs if _codec_name(c) == name), None)
    if primary is None:
        return []
    result = [primary]
    if with_rtx:
        result += [
            c
            for c in codecs
            if _codec_name(c) == "rtx" and c.parameters.get("apt") == primary.payloadType
        ][:1]
    return result


def prepare_transceiver(t: RTCRtpTransceiver, plan: MediaPlan) -> None:
    """Set the direction the answer gives this m-line and narrow its codecs to the one the SFU
    forwards (with RTX for a video slot); between setRemoteDescription and createAnswer."""
    codecs = transport.negotiated_codecs(t)
    name = "opus" if plan.kind == "audio" else "vp8"
    if plan.role == "publish":
        t.direction = "recvonly"
        narrowed = _forwarding_codecs(codecs, name, with_rtx=False)
    elif plan.role == "slot":
        t.direction = "sendonly"
        narrowed = _forwarding_codecs(codecs, name, with_rtx=plan.kind == "video")
    else:
        t.direction = "inactive"
        narrowed = _forwarding_codecs(codecs, name, with_rtx=False)
    if not narrowed:
        raise NegotiationError(f"m-line {plan.mid}: no common {name} codec")
    transport.restrict_codecs(t, narrowed)

"""SFU configuration (plain dataclasses; the control plane builds it from settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiortc import RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCBundlePolicy

from .speakers import SpeakerConfig


@dataclass(frozen=True, slots=True)
class IceServer:
    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class SfuConfig:
    ice_addresses: tuple[str, ...] = ()
    """Host addresses offered as ICE candidates; empty = every non-loopback interface."""
    ice_servers: tuple[IceServer, ...] = ()
    """STUN servers for the worker's own candidates. Empty (the default) means no STUN
    server is ever contacted; aiortc would otherwise use stun.l.google.com."""
    audio_slots: int = 3
    last_n: int = 9
    tick_interval: float = 0.1
    stats_interval: float = 10.0
    """How often each peer's packet counters go to its client (``media.stats``). Each is a
    channel-layer group send, 0.39 ms of the worker's CPU measured against a local Redis: at
    50 people every 2 s that was 25 sends and ~10 ms of CPU a second, about 4 % of the
    worker's load, for counters the web client does not show."""
    keyframe_min_interval: float = 0.3
    keyframe_retry_after: float = 1.0
    nack_cache_size: int = 512
    nack_upstream: bool = True
    """NACK publishers for video packets lost on the way in (nack.MissingPackets)."""
    udp_gso: bool = True
    """Send runs of same-sized datagrams to one destination as one UDP GSO message
    (fastpath.c; the whole process follows the last ``Sfu`` made)."""
    remb_bitrate: int = 1_500_000
    remb_min_bitrate: int = 150_000
    simulcast_max_bitrate: int = 3_000_000
    """What a publisher is granted for its simulcast camera at most (all layers)."""
    downlink_initial_bitrate: int = 20_000_000
    """A subscriber's downlink estimate until its feedback says otherwise (a client that
    sends no REMB, like the bots, is limited only by the loss it reports)."""
    downlink_min_bitrate: int = 100_000
    downlink_max_bitrate: int = 20_000_000
    speakers: SpeakerConfig = field(default_factory=SpeakerConfig)

    def __post_init__(self) -> None:
        if self.audio_slots < 1:
            raise ValueError("audio_slots must be at least 1")
        if self.last_n < 0:
            raise ValueError("last_n must not be negative")
        if self.tick_interval <= 0 or self.stats_interval <= 0:
            raise ValueError("intervals must be positive")
        for server in self.ice_servers:
            for url in server.urls:
                # The forwarding fast path writes to the selected host socket; a worker is
                # reached directly (clients may use TURN, the worker does not).
                if not url.startswith("stun:"):
                    raise ValueError(f"the SFU worker only accepts stun: ICE servers, got {url}")

    def rtc_configuration(self) -> RTCConfiguration:
        """Always explicit ICE servers (possibly none) and one transport for all media."""
        return RTCConfiguration(
            iceServers=[
                RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
                for s in self.ice_servers
            ],
            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
        )

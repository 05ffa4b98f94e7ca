"""``SfuRoom``: the forwarding core of one room (the API the control plane calls).

The control plane decides who may publish and receive; this class enforces it and forwards:

    room = sfu.room("room-1")
    answer = await room.offer("alice", offer_sdp, can_publish_screen=False)
    await room.add_ice_candidate("alice", "candidate:...", sdp_mid="0", sdp_mline_index=0)
    room.set_muted("alice", True)            # her audio stops being forwarded at once
    room.set_camera_off("alice", True)       # her camera too; her slots go to others
    room.set_screen_share_allowed("bob", False)
    room.set_pinned("carol", ["alice"])
    await room.remove("alice")               # peer closed, all her media stops now
    await room.close()

Lobby members never get a peer: the control plane simply does not call ``offer`` for them.
Events (peer state, active speakers, renegotiation needed, slot sources, stats) go to the
``EventSink`` given at construction.

One owned task runs per room (the tick: speaker selection, slot assignment, deferred
keyframe requests, upstream RR/REMB, stats); peer teardown after an ICE/DTLS failure runs in
tasks the room also owns. ``close()`` cancels and awaits all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from aiortc.sdp import candidate_from_sdp

from . import feedback
from .allocation import (
    Layer,
    SlotDemand,
    SlotLayer,
    allocate,
    committed_bitrate,
    held_upgrades,
    keep,
    layer_of,
    layers_in_use,
    outcome,
    remember,
)
from .config import SfuConfig
from .errors import (
    InvalidCandidate,
    InvalidTileSize,
    NegotiationError,
    RoomClosed,
    ScreenShareBusy,
    ScreenShareForbidden,
    UnknownParticipant,
)
from .negotiation import offer_ice_ufrag, plan_offer
from .peer import Peer
from .reports import (
    ActiveSpeakersChanged,
    EventSink,
    PeerState,
    PeerStateChanged,
    PeerStats,
    RenegotiationNeeded,
    SfuEvent,
    SlotSourceChanged,
)
from .selection import Recency, SourceKey, assign_slots, video_sources_for
from .speakers import Selection, SpeakerSelector
from .streams import OutputSlot, Source, forward
from .totals import Totals, of_peer, of_source

logger = logging.getLogger(__name__)

TEARDOWN_TIMEOUT = 5.0
# Video slots beyond last-N a subscriber may hold: screen shares and pinned cameras, which
# come first (selection.video_sources_for). Offers with more slots are refused.
EXTRA_VIDEO_SLOTS = 4
# What each audio stream a subscriber receives is assumed to need: its downlink keeps this
# for audio before any video is allocated (audio is never dropped for video).
AUDIO_BITRATE = 40_000
# The largest tile size (either side) a client may report.
MAX_TILE_SIDE = 8192
# At most one offer/answer per subscriber in this time for lip sync (rooms.sfu.peer): a
# crowd's speaker changes must not keep everyone renegotiating.
RESTREAM_MIN_INTERVAL = 1.0


class SfuRoom:
    def __init__(
        self,
        room_id: str,
        config: SfuConfig,
        sink: EventSink,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.room_id = room_id
        self.config = config
        self._sink = sink
        self.now = clock
        self.peers: dict[str, Peer] = {}
        self.speakers: SpeakerSelector[str] = SpeakerSelector(config.speakers)
        self.selection: Selection[str] = Selection((), None)
        self.recency: Recency[str] = Recency()
        self._muted: set[str] = set()
        self._camera_off: set[str] = set()
        self._screen_allowed: dict[str, bool] = {}
        self._pins: dict[str, tuple[str, ...]] = {}
        self._renegotiation_asked: dict[str, tuple[int, int]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._dirty = False
        self._closed = False
        self._tick_task: asyncio.Task[None] | None = None
        self._teardowns: set[asyncio.Task[None]] = set()
        self._next_feedback = 0.0
        self._next_stats = 0.0
        self._last_feedback: float | None = None
        # Each subscriber's last allocation: its video slots' demands and the layers chosen.
        self._allocations: dict[
            str, tuple[list[SlotDemand[str, SourceKey]], dict[str, SlotLayer]]
        ] = {}
        self.forwarded_packets = 0
        self.forwarded_bytes = 0
        # The counts of peers and sources that are gone (see rooms.sfu.totals).
        self.retired = Totals()

    # --- public API --------------------------------------------------------------------

    async def offer(
        self,
        participant_id: str,
        sdp: str,
        *,
        can_publish_screen: bool = False,
        screen_mids: Collection[str] = (),
        max_screen_shares: int = 1,
    ) -> str:
        """Apply a client's (re-)offer and return the SFU's answer SDP.

        Raises ``ScreenShareForbidden`` or ``ScreenShareBusy`` (a new share while
        ``max_screen_shares`` others are already shown; nothing changed) or
        ``NegotiationError``; for the
        latter, a malformed offer changes nothing, while an offer aiortc fails to apply tears
        the peer down (reported as ``failed``) and the client starts again with a new one.
        """
        if self._closed:
            raise RoomClosed("room is closed")
        self._screen_allowed[participant_id] = can_publish_screen
        plans = plan_offer(
            sdp,
            screen_mids,
            max_audio_slots=self.config.audio_slots,
            max_video_slots=self.config.last_n + EXTRA_VIDEO_SLOTS,
        )
        if any(p.source_kind == "screen" for p in plans) and not can_publish_screen:
            raise ScreenShareForbidden("screen sharing is not allowed for this participant")
        if any(p.source_kind == "screen" for p in plans):
            sharing = [
                pid
                for pid, p in self.peers.items()
                if pid != participant_id and "screen" in p.sources and p.sources["screen"].enabled
            ]
            if len(sharing) >= max_screen_shares:
                raise ScreenShareBusy("someone else is already sharing their screen")
        lock = self._locks.setdefault(participant_id, asyncio.Lock())
        async with lock:
            peer = self.peers.get(participant_id)
            if peer is not None and peer.remote_ufrag not in (None, offer_ice_ufrag(sdp)):
                # The same person offers from a new connection (the browser rebuilt its own,
                # or restarts ICE, which aiortc cannot do): the old peer would never carry
                # it. It goes quietly ("closed", which no client rebuilds on), and the new
                # connection gets a peer of its own.
                await self._teardown(peer, "closed", "replaced by a new connection")
                peer = None
            if peer is None:
                self._ensure_tick()
                peer = Peer(self, participant_id, self.config, self._peer_state)
                self.peers[participant_id] = peer
                self.recency.add(participant_id)
                self._emit(PeerStateChanged(self.room_id, participant_id, "connecting"))
            elif peer.pc.signalingState != "stable":
                raise NegotiationError("an offer is already being applied for this peer")
            try:
                answer = await peer.negotiate(sdp, plans)
            except NegotiationError as exc:
                await self._teardown(peer, "failed", str(exc))
                raise
            except Exception as exc:  # aiortc raises many types on hostile SDP
                logger.exception("negotiation failed for %s", participant_id)
                await self._teardown(peer, "failed", "negotiation failed")
                raise NegotiationError(f"negotiation failed: {exc}") from None
        self._dirty = True
        self._reselect()
        return answer

    async def add_ice_candidate(
        self,
        participant_id: str,
        candidate: str | None,
        *,
        sdp_mid: str | None = None,
        sdp_mline_index: int | None = None,
    ) -> None:
        """Add a trickled remote candidate (``candidate:...`` line); None/"" ends them."""
        peer = self._peer(participant_id)
        try:
            if not candidate:
                await peer.pc.addIceCandidate(None)
                return
            line = candidate.split(":", 1)[1] if candidate.startswith("candidate:") else candidate
            parsed = candidate_from_sdp(line)
            parsed.sdpMid = sdp_mid
            parsed.sdpMLineIndex = sdp_mline_index
            if sdp_mid is None and sdp_mline_index is None:
                parsed.sdpMLineIndex = 0
            await peer.pc.addIceCandidate(parsed)
        except Exception as exc:
            raise InvalidCandidate(f"bad ICE candidate: {exc}") from None

    def set_muted(self, participant_id: str, muted: bool) -> None:
        """Stop (or resume) forwarding a participant's audio, effective immediately."""
        if muted:
            self._muted.add(participant_id)
            self.speakers.remove(participant_id)
        else:
            self._muted.discard(participant_id)
        peer = self.peers.get(participant_id)
        if peer is not None and "audio" in peer.sources:
            source = peer.sources["audio"]
            source.enabled = not muted
            if muted:
                for slot in list(source.outputs):
                    slot.detach(source)
        self._update_speakers(self.now())
        self._dirty = True
        self._reselect()

    def set_camera_off(self, participant_id: str, off: bool) -> None:
        """Stop (or resume) forwarding a participant's camera, effective immediately. Camera
        off is a state, not a black picture: the slots that carried it are freed for other
        people, and subscribers show the person's initials (the roster says camera off)."""
        if off:
            self._camera_off.add(participant_id)
        else:
            self._camera_off.discard(participant_id)
        peer = self.peers.get(participant_id)
        if peer is not None and "camera" in peer.sources:
            for layer in peer.sources["camera"].layers:
                layer.enabled = not off
                if off:
                    for slot in list(layer.outputs):
                        slot.detach(layer)
        self._dirty = True
        self._reselect()

    def set_screen_share_allowed(self, participant_id: str, allowed: bool) -> None:
        """Allow or forbid screen share; forbidding stops a running share at once."""
        self._screen_allowed[participant_id] = allowed
        peer = self.peers.get(participant_id)
        if peer is not None and "screen" in peer.sources:
            source = peer.sources["screen"]
            source.enabled = allowed
            if not allowed:
                for slot in list(source.outputs):
                    slot.detach(source)
        self._dirty = True
        self._reselect()

    def set_pinned(self, participant_id: str, pinned: Sequence[str]) -> None:
        """Video of ``pinned`` participants is sent to ``participant_id`` on top of last-N."""
        self._pins[participant_id] = tuple(pinned)
        self._dirty = True
        self._reselect()

    def set_tile_sizes(self, participant_id: str, tiles: Mapping[str, tuple[int, int]]) -> int:
        """The size (device pixels) the client shows its video slots at (by mid); slots it
        does not name keep the size they had. A mid that is not one of its video slots (yet:
        a renegotiation may be under way) is skipped; returns how many sizes were taken.
        Raises ``InvalidTileSize`` (nothing changed) for a size out of range."""
        peer = self._peer(participant_id)
        taken: dict[str, tuple[int, int]] = {}
        for mid, (width, height) in tiles.items():
            if not (0 <= width <= MAX_TILE_SIDE and 0 <= height <= MAX_TILE_SIDE):
                raise InvalidTileSize(f"tile size out of range: {width}x{height}")
            slot = peer.slots.get(mid)
            if slot is not None and slot.kind == "video":
                taken[mid] = (int(width), int(height))
        if taken:
            peer.tiles.update(taken)
            self._dirty = True
            self._reselect()
        return len(taken)

    async def remove(self, participant_id: str, reason: str = "removed") -> None:
        """Close the participant's peer; none of their media is forwarded after this call
        starts (forwarding is cut synchronously, before the connection closes)."""
        peer = self.peers.get(participant_id)
        if peer is None:
            raise UnknownParticipant(participant_id)
        await self._teardown(peer, "closed", reason)

    @property
    def active_speakers(self) -> tuple[str, ...]:
        return self.selection.speakers

    def peer_state(self, participant_id: str) -> PeerState:
        return self._peer(participant_id).state

    def totals(self) -> Totals:
        """Everything this room forwarded and received so far, its departed peers included."""
        result = Totals(
            forwarded_packets=self.forwarded_packets, forwarded_bytes=self.forwarded_bytes
        )
        result.add(self.retired)
        for peer in tuple(self.peers.values()):
            result.add(of_peer(peer))
        return result

    def stats(self, participant_id: str) -> PeerStats:
        return self._stats(self._peer(participant_id))

    def slot_sources(self, participant_id: str) -> dict[str, SourceKey | None]:
        """What each receive slot (by mid) of a subscriber currently carries."""
        peer = self._peer(participant_id)
        return {
            mid: slot.current.key if slot.current is not None else None
            for mid, slot in peer.slots.items()
        }

    async def close(self) -> None:
        """Close every peer and stop every task the room started."""
        self._closed = True
        for peer in list(self.peers.values()):
            await self._teardown(peer, "closed", "room closed")
        # Teardowns are awaited, not cancelled: cancelling a task that waits inside
        # RTCPeerConnection.close() cancels aiortc's own close future and breaks it.
        if self._teardowns:
            await asyncio.wait(set(self._teardowns), timeout=TEARDOWN_TIMEOUT)
        tasks = [t for t in (self._tick_task, *self._teardowns) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tick_task = None
        self._teardowns.clear()

    # --- called by peers ------------------------------------------------------------------

    def add_source(self, peer: Peer, source: Source) -> None:
        kind = source.key.kind
        if kind in peer.sources:
            self.drop_source(peer, peer.sources[kind])
        if kind == "audio" and peer.participant_id in self._muted:
            source.enabled = False
        if kind == "camera" and peer.participant_id in self._camera_off:
            source.enabled = False
        if kind == "screen" and not self._screen_allowed.get(peer.participant_id, False):
            source.enabled = False
        for layer in source.layers:
            layer.enabled = source.enabled
        peer.attach_source(source)
        self._dirty = True

    def drop_source(self, peer: Peer, source: Source) -> None:
        if peer.detach_source(source):
            for layer in source.layers:
                self.retired.add(of_source(layer))
        for layer in source.layers:
            layer.enabled = False
            for slot in list(layer.outputs):
                slot.detach(layer)
        if source.key.kind == "audio":
            self.speakers.remove(peer.participant_id)
        self._dirty = True

    def forward(self, source: Source, data: bytes, pkt: Any) -> None:
        """Hot path: one incoming RTP packet of ``source``, parsed into ``pkt`` (``fwd_pkt``,
        see ``Peer.on_rtp``), to every slot that wants it."""
        if not source.enabled:
            return
        now = pkt.now = self.now()
        level = pkt.level
        if level >= 0:
            self.speakers.observe(source.key.participant_id, level, now)
        if not source.outputs:
            return
        history = source.history
        if history is not None:
            history.store(pkt.seq, data, now)
        packets, octets = forward(source, pkt, data)
        self.forwarded_packets += packets
        self.forwarded_bytes += octets

    def request_keyframe(self, source: Source) -> None:
        if source.keyframes.request(self.now()):
            self._send_pli(source)

    def slot_switched(self, slot: OutputSlot, source: Source | None) -> None:
        self._emit(
            SlotSourceChanged(
                room_id=self.room_id,
                participant_id=slot.subscriber_id,
                mid=slot.mid,
                kind=slot.kind,
                source_participant_id=source.key.participant_id if source else None,
                source_kind=source.key.kind if source else None,
            )
        )

    # --- internals --------------------------------------------------------------------

    def _peer(self, participant_id: str) -> Peer:
        peer = self.peers.get(participant_id)
        if peer is None:
            raise UnknownParticipant(participant_id)
        return peer

    def _emit(self, event: SfuEvent) -> None:
        try:
            self._sink(event)
        except Exception:
            logger.exception("event sink failed for %s", event.type)

    def _send_pli(self, source: Source) -> None:
        peer = self.peers.get(source.key.participant_id)
        if peer is not None:
            feedback.send_pli(peer.writer, peer.rtcp_ssrc, source)

    def _peer_state(self, peer: Peer, state: PeerState, reason: str) -> None:
        if state == "connected":
            self._emit(PeerStateChanged(self.room_id, peer.participant_id, "connected"))
            return
        # Called from an aiortc event handler: the teardown awaits, so it runs in a task
        # the room owns (cancelled and awaited by close()).
        task = asyncio.ensure_future(self._teardown(peer, state, reason))
        self._teardowns.add(task)
        task.add_done_callback(self._teardowns.discard)

    async def _teardown(self, peer: Peer, state: PeerState, reason: str) -> None:
        if self.peers.get(peer.participant_id) is not peer:
            return
        # Cut forwarding synchronously first: nothing of theirs goes out after this line.
        del self.peers[peer.participant_id]
        peer.closed = True
        peer.state = state
        for source in list(peer.sources.values()):
            self.drop_source(peer, source)
        for slot in peer.slots.values():
            if slot.target is not None:
                slot.assign(None, self.now())
        self.retired.add(of_peer(peer, with_sources=False))
        self.speakers.remove(peer.participant_id)
        self.recency.remove(peer.participant_id)
        self._renegotiation_asked.pop(peer.participant_id, None)
        self._allocations.pop(peer.participant_id, None)
        self._pins.pop(peer.participant_id, None)
        self._emit(PeerStateChanged(self.room_id, peer.participant_id, state, reason))
        self._update_speakers(self.now())
        self._dirty = True
        self._reselect()
        try:
            await peer.close()
        except Exception:
            logger.exception("closing peer %s failed", peer.participant_id)

    def _ensure_tick(self) -> None:
        if self._tick_task is None:
            self._tick_task = asyncio.ensure_future(self._run_tick())

    async def _run_tick(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_interval)
            try:
                self._tick(self.now())
            except Exception:
                logger.exception("room %s tick failed", self.room_id)

    def _tick(self, now: float) -> None:
        for peer in self.peers.values():
            # The C forwarding loop sends only to writers marked ready: a transport that
            # closed without a state event we saw stops receiving within one tick.
            if peer.writer is not None:
                peer.writer.sync()
        for peer in self.peers.values():
            if peer.downlink.react(now):
                self._dirty = True  # a subscriber's REMB fell: its allocation follows now
            arrivals = peer.transport_feedback
            if arrivals is not None and peer.writer is not None and peer.writer.connected:
                feedback.send_transport_feedback(
                    peer.writer, peer.rtcp_ssrc, arrivals, next(iter(peer.sources_by_ssrc), 0)
                )
        self._update_speakers(now)
        self._reselect()
        retry = self.config.keyframe_retry_after
        for peer in self.peers.values():
            for source in peer.all_sources():
                if source.keyframes.poll(now):
                    self._send_pli(source)
            for slot in peer.slots.values():
                if slot.pending is not None and now - slot.pending_since >= retry:
                    slot.pending_since = now
                    self.request_keyframe(slot.pending)
        self._ask_restreams(now)
        if now >= self._next_feedback:
            self._next_feedback = now + feedback.FEEDBACK_INTERVAL
            self._send_feedback(now)
        if now >= self._next_stats:
            self._next_stats = now + self.config.stats_interval
            for peer in self.peers.values():
                self._emit(self._stats(peer))

    def _update_speakers(self, now: float) -> None:
        selection = self.speakers.update(now)
        previous = self.selection
        if selection == previous:
            return
        for pid in selection.speakers:
            if pid not in previous.speakers:
                self.recency.touch(pid)
        self.selection = selection
        self._dirty = True
        if (selection.speakers, selection.dominant) != (previous.speakers, previous.dominant):
            self._emit(ActiveSpeakersChanged(self.room_id, selection.speakers, selection.dominant))

    def _reselect(self) -> None:
        """Recompute what every subscriber receives (cheap; only after a change)."""
        if not self._dirty:
            return
        self._dirty = False
        now = self.now()
        audio = {
            pid: p.sources["audio"]
            for pid, p in self.peers.items()
            if "audio" in p.sources and p.sources["audio"].enabled
        }
        cameras = {
            pid
            for pid, p in self.peers.items()
            if "camera" in p.sources and p.sources["camera"].enabled
        }
        screens = {
            pid
            for pid, p in self.peers.items()
            if "screen" in p.sources and p.sources["screen"].enabled
        }
        recency = self.recency.ordered()
        # What the allocation knows of each wanted source's layers, worked out once per
        # reselection rather than once per subscriber that wants it.
        layers: dict[SourceKey, tuple[Layer, ...]] = {}
        for pid, peer in self.peers.items():
            # The loudest others: a selected speaker gets the reserve in place of itself.
            heard = self.selection.speakers
            if pid in heard and self.selection.reserve is not None:
                heard = (*heard, self.selection.reserve)
            wanted_audio = [SourceKey(s, "audio") for s in heard if s in audio and s != pid]
            self._apply(peer, "audio", wanted_audio, now)
            wanted_video = video_sources_for(
                pid,
                recency=recency,
                cameras=cameras,
                screens=screens,
                pinned=self._pins.get(pid, ()),
                last_n=self.config.last_n,
            )[: self.config.last_n + EXTRA_VIDEO_SLOTS]
            self._apply_video(peer, wanted_video, len(wanted_audio), now, layers)
            lock = self._locks.get(pid)
            if lock is not None and lock.locked():
                # Its offer is being applied: the slots it offers are not known yet. Asking
                # now would make it offer again beside that offer; once the answer is out
                # the room is marked dirty and this runs again.
                continue
            others_audio = len(audio) - (1 if pid in audio else 0)
            need = (min(self.config.audio_slots, others_audio), len(wanted_video))
            have = (
                sum(1 for s in peer.slots.values() if s.kind == "audio"),
                sum(1 for s in peer.slots.values() if s.kind == "video"),
            )
            if need[0] > have[0] or need[1] > have[1]:
                ask = (max(need[0], have[0]), max(need[1], have[1]))
                if self._renegotiation_asked.get(pid) != ask:
                    self._renegotiation_asked[pid] = ask
                    self._emit(RenegotiationNeeded(self.room_id, pid, ask[0], ask[1]))

    def _ask_restreams(self, now: float) -> None:
        """Ask for a new offer where a person's audio and camera reach a subscriber in two
        streams (a slot changed owner since the last answer): the answer pairs them (msid)."""
        for pid, peer in self.peers.items():
            if peer.restream_asked or now - peer.answered_at < RESTREAM_MIN_INTERVAL:
                continue
            lock = self._locks.get(pid)
            if (lock is not None and lock.locked()) or not peer.streams_stale():
                continue
            peer.restream_asked = True
            audio = sum(1 for s in peer.slots.values() if s.kind == "audio")
            self._emit(RenegotiationNeeded(self.room_id, pid, audio, len(peer.slots) - audio))

    def _apply(self, peer: Peer, kind: str, wanted: list[SourceKey], now: float) -> None:
        slots = {mid: s for mid, s in peer.slots.items() if s.kind == kind}
        if not slots:
            return
        current = {mid: (s.target.key if s.target else None) for mid, s in slots.items()}
        for mid, key in assign_slots(current, wanted).items():
            slot = slots[mid]
            source = self._source(key) if key is not None else None
            if slot.assign(source, now) and source is not None:
                self.request_keyframe(source)

    def _apply_video(
        self,
        peer: Peer,
        wanted: list[SourceKey],
        audio_streams: int,
        now: float,
        layers: dict[SourceKey, tuple[Layer, ...]],
    ) -> None:
        """Place the wanted video sources in the subscriber's slots (``assign_slots``), then
        pick each slot's layer within its downlink (``allocation.allocate``). ``layers``: each
        source's layers as the allocation sees them (``layer_of``), filled in as needed."""
        slots = {mid: s for mid, s in peer.slots.items() if s.kind == "video"}
        if not slots:
            self._allocations.pop(peer.participant_id, None)
            peer.downlink.committed = peer.downlink.least = 0
            return
        current = {mid: (s.target.key if s.target else None) for mid, s in slots.items()}
        placed = assign_slots(current, wanted)
        by_key = {key: mid for mid, key in placed.items() if key is not None}
        dominant = self.selection.dominant
        demands: list[SlotDemand[str, SourceKey]] = []
        groups: dict[str, list[Source]] = {}
        for key in wanted:
            mid = by_key.get(key)
            source = self._source(key)
            if mid is None or source is None:
                continue
            groups[mid] = source.layers
            seen = layers.get(key)
            if seen is None:
                seen = layers[key] = tuple(layer_of(layer) for layer in source.layers)
            demands.append(
                SlotDemand(
                    slot=mid,
                    source=key,
                    layers=seen,
                    tile=peer.tiles.get(mid),
                    prominent=key.kind == "screen" or key.participant_id == dominant,
                )
            )
        budget, reserve = peer.downlink.value, audio_streams * AUDIO_BITRATE
        fits = allocate(budget, demands, audio_reserve=reserve)
        held = held_upgrades(demands, fits, peer.layer_history, now)
        result = keep(demands, fits, held) if held else fits
        peer.layer_history = remember(
            demands,
            result,
            peer.layer_history,
            now,
            budget,
            link_limited=peer.downlink.following_remb(now),
        )
        self._allocations[peer.participant_id] = (demands, result)
        # A video the estimate cannot give what its tile wants (a lower layer, or none) lets
        # the estimate grow past what is sent (a receiver's REMB only follows what it
        # receives: it could not otherwise); not one that merely waits out its hold. And the
        # estimate keeps what the layers that fit need until they flow (``committed``).
        peer.downlink.starved = any(outcome(d, fits[d.slot]) != "as_wanted" for d in demands)
        peer.downlink.committed = committed_bitrate(demands, fits, reserve)
        # An unconfirmed REMB fall keeps the most important video at its lowest layer.
        peer.downlink.least = reserve + (demands[0].layers[0].bitrate if demands else 0)
        for mid, slot in slots.items():
            chosen = result[mid].chosen if mid in result else None
            target = groups[mid][chosen] if chosen is not None else None
            if slot.assign(target, now) and target is not None:
                self.request_keyframe(target)

    def downlinks(self) -> list[tuple[int, Counter[str]]]:
        """Per subscriber with video slots: its downlink estimate (bit/s) and how its videos
        fared in the last allocation (``allocation.outcome``), for the metrics."""
        out = []
        for participant_id, (demands, result) in self._allocations.items():
            peer = self.peers.get(participant_id)
            if peer is not None:
                fared = Counter(outcome(d, result[d.slot]) for d in demands)
                out.append((peer.downlink.value, fared))
        return out

    def _source(self, key: SourceKey) -> Source | None:
        peer = self.peers.get(key.participant_id)
        return peer.sources.get(key.kind) if peer is not None else None

    def _send_feedback(self, now: float) -> None:
        """Receiver reports and a REMB toward every publisher (rooms.sfu.feedback), after
        measuring what came in and went out and updating each subscriber's downlink estimate."""
        interval = now - self._last_feedback if self._last_feedback is not None else 0.0
        self._last_feedback = now
        for peer in self.peers.values():
            peer.measure(interval, now)
        watched = layers_in_use(list(self._allocations.values()))
        # The allocation follows the estimates and the layers that arrive.
        self._dirty = True
        for peer in self.peers.values():
            if peer.writer is None or not peer.writer.connected:
                continue
            feedback.send_upstream(
                peer.writer, peer.rtcp_ssrc, list(peer.sources.values()), watched, self.config, now
            )

    def _stats(self, peer: Peer) -> PeerStats:
        slots = peer.slots.values()
        return PeerStats(
            room_id=self.room_id,
            participant_id=peer.participant_id,
            state=peer.state,
            packets_in=peer.packets_in,
            bytes_in=peer.bytes_in,
            packets_out=sum(s.packets for s in slots),
            bytes_out=sum(s.octets for s in slots),
            packets_dropped=peer.packets_dropped,
            nacks_answered=peer.nacks_answered,
            keyframe_requests_sent=sum(s.keyframes.sent for s in peer.all_sources()),
        )

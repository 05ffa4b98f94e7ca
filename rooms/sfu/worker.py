"""An SFU worker: `Sfu` driven by commands from the channel layer, reporting back through it.

It reads its own channel (commands of `rooms.sfu.protocol`), answers offers to the person's
group, turns SFU events into messages for sockets, keeps its heartbeat and load in the
placement store, and watches the other workers: when one dies, its rooms are re-pinned and
their people told to start a new peer connection.

Run one per core with `python manage.py sfu`; in embedded mode the web process runs one on
its own event loop. This module never touches the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from typing import Any

from channels.layers import BaseChannelLayer

from . import logcontext, metrics
from . import placement as places
from .config import SfuConfig
from .errors import SfuError
from .protocol import participant_group, room_group
from .reports import (
    ActiveSpeakersChanged,
    PeerStateChanged,
    PeerStats,
    RenegotiationNeeded,
    SfuEvent,
    SlotSourceChanged,
)
from .sfu import Sfu

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 0.5
# Back-off while the channel layer cannot be reached.
RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 2.0
PROBE = "sfu.probe"
# How long a drain waits for its people to move before the worker closes anyway.
DRAIN_SECONDS = 30.0


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Worker:
    def __init__(
        self,
        config: SfuConfig,
        layer: BaseChannelLayer,
        placement: places.Placement,
        *,
        worker_id: str | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.sfu = Sfu(config, self.sink)
        self.layer = layer
        self.placement = placement
        self.worker_id = worker_id or default_worker_id()
        self.channel = ""
        self.heartbeat_seconds = heartbeat_seconds
        self.outbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self._slots: dict[tuple[str, str], dict[str, dict[str, Any] | None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        # Set when an owned loop ended by itself: the worker must stop, not linger.
        self.failed = asyncio.Event()
        # While receiving fails the worker does not heartbeat: it must not look alive (and
        # get rooms placed on it) while it cannot take their commands.
        self.receiving_failed = False
        self._registered = False
        # Set by `drain` (SIGTERM, or `manage.py sfu_drain`): no new rooms, ours move away.
        self.draining = False
        self.drain_requested = asyncio.Event()
        self._moved_rooms: set[str] = set()
        self._last_heartbeat = float("-inf")  # monotonic time of the last one that went through
        # People whose peers were dropped and who are still to be told (once the channel
        # layer can carry it).
        self._to_notify: set[int] = set()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Register and start the owned tasks (receive, send, heartbeat, watchdog)."""
        self.channel = f"sfu.{self.worker_id}".replace(":", "-")
        await self._heartbeat_once()
        loops = (self._receive_loop, self._send_loop, self._heartbeat_loop, self._watch_loop)
        for loop in loops:
            name = f"{self.worker_id}:{loop.__name__}"
            task = asyncio.create_task(loop(), name=name)
            task.add_done_callback(self._loop_ended)
            self._tasks.append(task)
        metrics.COLLECTOR.track(self)

    @property
    def registered(self) -> bool:
        """Its registry entry is fresh: nobody takes it for dead and moves its rooms."""
        return time.monotonic() - self._last_heartbeat <= self.placement.dead_after

    @property
    def ready(self) -> bool:
        """What its readiness probe answers: registered, and taking commands."""
        return self.registered and not self.receiving_failed and not self.failed.is_set()

    def _loop_ended(self, task: asyncio.Task[None]) -> None:
        # The loops run until cancelled. One that ends by itself is a bug; a worker without
        # it would go on heartbeating while it no longer takes commands (or no longer tells
        # anyone anything), so it gives up and lets its supervisor start a fresh one.
        if task.cancelled() or self.failed.is_set():
            return
        logger.error("%s ended (%r): the worker stops", task.get_name(), task.exception())
        self.failed.set()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        # A loop that ended by itself was logged when it ended.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.sfu.close()
        metrics.COLLECTOR.untrack(self)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.placement.forget, self.worker_id)

    async def run_until(self, stop: asyncio.Event, drain_seconds: float = DRAIN_SECONDS) -> bool:
        """Serve until `stop` is set, or until a drain (`drain_requested`) has emptied the
        worker; False when the worker stopped because it failed."""
        await self.start()
        waits = [
            asyncio.create_task(event.wait()) for event in (stop, self.failed, self.drain_requested)
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if self.drain_requested.is_set() and not (stop.is_set() or self.failed.is_set()):
                drained = asyncio.create_task(self.drain(drain_seconds))
                await asyncio.wait([drained, *waits[:2]], return_when=asyncio.FIRST_COMPLETED)
                drained.cancel()
        finally:
            for task in waits:
                task.cancel()
            await self.close()
        return not self.failed.is_set()

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Empty this worker for maintenance: it takes no new rooms, each of its rooms is
        re-pinned to another worker, and the room's people are asked to move
        (`media.state` "moving"): clients build their connection to the new worker while
        the old one still plays (make before break), then close the old one. Returns when no
        peer is left here, or after `timeout`."""
        self.draining = True
        await self._heartbeat_once()  # placement stops sending new rooms here at once
        for room_id in sorted(self.sfu.rooms, key=int):
            target = await asyncio.to_thread(
                places.move_room, self.placement, int(room_id), self.worker_id
            )
            if target is None:
                logger.warning("drain: no other worker can take room %s; it stays", room_id)
                continue
            logger.info("drain: room %s moves to worker %s", room_id, target.worker_id)
            self._moved_rooms.add(room_id)
            self._post(
                room_group(int(room_id)),
                {"type": "media.state", "state": "moving", "reason": "worker_draining"},
            )
        deadline = time.monotonic() + timeout
        while self.sfu.load() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        logger.info("drain: done, %d peers left", self.sfu.load())
        # What was posted last (the moves) goes out before the worker closes.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox_empty(), 2.0)

    async def _outbox_empty(self) -> None:
        while not self.outbox.empty():
            await asyncio.sleep(0.05)

    # --- losing the channel layer ------------------------------------------------------------

    async def _resync(self, why: str) -> None:
        """Commands may be lost (the channel layer fails, or Redis lost its data): a
        `sfu.remove` or `sfu.mute` among them would leave someone forwarded who must not be.
        The worker cannot know what it missed, so it drops every peer it holds and asks their
        people for a new connection: each new offer carries that person's rights as the
        database has them now, and a removed person has no socket left to offer from."""
        closed = await self.sfu.close_all()
        dropped = {int(pid) for peers in closed.values() for pid in peers}
        if dropped:
            logger.warning("%s: dropped %d peers; their clients reconnect", why, len(dropped))
        self._to_notify |= dropped
        if not self.receiving_failed:
            self._notify_dropped()

    def _notify_dropped(self) -> None:
        for pid in sorted(self._to_notify):
            self._post(
                participant_group(pid),
                {"type": "media.state", "state": "failed", "reason": "media_reset"},
            )
        self._to_notify.clear()

    # --- commands in -----------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not self.receiving_failed:
                    logger.error("channel layer receive failed (%r); retrying", error)
                    self.receiving_failed = True
                    await self._resync("channel layer failed")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                # A receive blocks until a message comes: a probe to our own channel is what
                # tells us that the way in works again.
                with contextlib.suppress(Exception):
                    await self.layer.send(self.channel, {"type": PROBE})
                continue
            if self.receiving_failed:
                logger.warning("channel layer receive works again")
                self.receiving_failed = False
                delay = RETRY_FIRST_SECONDS
                self._notify_dropped()
            if message.get("type") == PROBE:
                continue
            # What a command logs, and the peer tasks it starts, name its room and person.
            with logcontext.about(message.get("room_id"), message.get("participant_id")):
                try:
                    await self.handle(message)
                except Exception:
                    # One bad command must not stop the worker; the SFU API already answers
                    # client mistakes with SfuError, so anything else is logged as a bug.
                    logger.exception("command failed: %s", message.get("type"))

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "sfu.drain":
            logger.warning("drain requested")
            self.drain_requested.set()
            return
        room_id = message.get("room_id")
        if not isinstance(room_id, int):
            logger.warning("command without a room: %r", kind)
            return
        if kind == "sfu.close_room":
            await self.sfu.close_room(str(room_id))
            await asyncio.to_thread(self.placement.unpin, room_id)
            return
        participant_id = message.get("participant_id")
        if not isinstance(participant_id, int):
            logger.warning("command %r without a participant", kind)
            return
        pid = str(participant_id)
        if kind == "sfu.remove":
            room = self.sfu.rooms.get(str(room_id))
            if room is not None and pid in room.peers:
                await room.remove(pid)
            return
        room = self.sfu.room(str(room_id))
        # The client's id for its offer goes back with the answer or the error.
        offer_id = message.get("offer_id") if kind == "sfu.offer" else None
        echo = {"offer_id": offer_id} if isinstance(offer_id, str) else {}
        try:
            if kind == "sfu.offer":
                answer = await room.offer(
                    pid,
                    str(message["sdp"]),
                    can_publish_screen=bool(message.get("can_share_screen")),
                    screen_mids=[str(m) for m in message.get("screen_mids", [])],
                    max_screen_shares=int(message.get("max_screen_shares", 1)),
                )
                room.set_muted(pid, bool(message.get("muted")))
                room.set_camera_off(pid, bool(message.get("camera_off")))
                self._post(
                    participant_group(participant_id),
                    {"type": "media.answer", "sdp": answer, **echo},
                )
            elif kind == "sfu.ice":
                await room.add_ice_candidate(
                    pid,
                    message.get("candidate"),
                    sdp_mid=message.get("sdp_mid"),
                    sdp_mline_index=message.get("sdp_mline_index"),
                )
            elif kind == "sfu.mute":
                if pid in room.peers:
                    room.set_muted(pid, bool(message.get("muted")))
            elif kind == "sfu.tiles":
                tiles = message.get("tiles")
                if pid in room.peers and isinstance(tiles, dict):
                    room.set_tile_sizes(
                        pid,
                        {
                            str(mid): (int(size[0]), int(size[1]))
                            for mid, size in tiles.items()
                            if isinstance(size, list | tuple)
                            and len(size) == 2
                            and all(isinstance(v, int) for v in size)
                        },
                    )
            elif kind == "sfu.camera":
                if pid in room.peers:
                    room.set_camera_off(pid, bool(message.get("off")))
            elif kind == "sfu.screen":
                if pid in room.peers:
                    room.set_screen_share_allowed(pid, bool(message.get("allowed")))
            else:
                logger.warning("unknown command %r", kind)
        except SfuError as error:
            self._post(
                participant_group(participant_id),
                {"type": "media.error", "code": _code(error), "message": str(error), **echo},
            )

    # --- events out ------------------------------------------------------------------------

    def sink(self, event: SfuEvent) -> None:
        """The SFU's event sink: never blocks, the send loop delivers."""
        if event.room_id in self._moved_rooms:
            # Its people were told to move to another worker: what happens to their old
            # connections here (closed as they leave, slots emptied) is not news to them, and
            # a "failed" would make a client rebuild the new connection it just made.
            if isinstance(event, PeerStateChanged) and event.state in ("failed", "closed"):
                self._slots.pop((event.room_id, event.participant_id), None)
            return
        if isinstance(event, PeerStateChanged):
            self._post(
                participant_group(int(event.participant_id)),
                {"type": "media.state", "state": event.state, "reason": event.reason},
            )
            if event.state in ("failed", "closed"):
                self._slots.pop((event.room_id, event.participant_id), None)
        elif isinstance(event, RenegotiationNeeded):
            self._post(
                participant_group(int(event.participant_id)),
                {
                    "type": "media.renegotiate",
                    "audio_slots": event.audio_slots,
                    "video_slots": event.video_slots,
                },
            )
        elif isinstance(event, SlotSourceChanged):
            slots = self._slots.setdefault((event.room_id, event.participant_id), {})
            source = event.source_participant_id
            slots[event.mid] = (
                {"participant_id": int(source), "kind": event.source_kind}
                if source is not None
                else None
            )
            self._post(
                participant_group(int(event.participant_id)),
                {"type": "media.slots", "slots": dict(slots)},
            )
        elif isinstance(event, ActiveSpeakersChanged):
            self._post(
                room_group(int(event.room_id)),
                {"type": "media.speakers", "participant_ids": [int(s) for s in event.speakers]},
            )
        elif isinstance(event, PeerStats):
            self._post(
                participant_group(int(event.participant_id)),
                {
                    "type": "media.stats",
                    "packets_in": event.packets_in,
                    "packets_out": event.packets_out,
                    "bytes_in": event.bytes_in,
                    "bytes_out": event.bytes_out,
                    "packets_dropped": event.packets_dropped,
                },
            )

    def _post(self, group: str, message: dict[str, Any]) -> None:
        self.outbox.put_nowait((group, message))

    async def _send_loop(self) -> None:
        while True:
            group, message = await self.outbox.get()
            try:
                await self.layer.group_send(group, message)
            except Exception:
                logger.exception("could not deliver %s to %s", message.get("type"), group)

    # --- heartbeat and watchdog ------------------------------------------------------------

    async def _heartbeat_once(self) -> None:
        info = places.WorkerInfo(
            self.worker_id, self.channel, self.sfu.load(), time.time(), draining=self.draining
        )
        new = await asyncio.to_thread(self.placement.heartbeat, info)
        if new and self._registered:
            # Our entry was gone: Redis restarted or was flushed (the channel layer's queued
            # commands went with it), or we were silent so long that we were declared dead
            # and our rooms moved.
            await self._resync("registry entry lost")
        self._registered = True
        self._last_heartbeat = time.monotonic()

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            if self.receiving_failed:
                continue
            try:
                await self._heartbeat_once()
            except Exception as error:
                logger.warning("heartbeat failed: %r", error)

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                moved = await asyncio.to_thread(places.replace_dead, self.placement)
            except Exception as error:
                logger.warning("watchdog failed: %r", error)
                continue
            for room_id, target in moved:
                logger.warning("room %s moved to worker %s", room_id, target.worker_id)
                # Everyone in the room starts a new peer connection; their offers now go to
                # the new worker.
                self._post(
                    room_group(room_id),
                    {"type": "media.state", "state": "failed", "reason": "worker_moved"},
                )


def _code(error: SfuError) -> str:
    name = type(error).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")

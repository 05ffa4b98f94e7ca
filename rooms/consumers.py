"""The room socket: authenticate, validate, call a service, relay.

One socket per visit, opened with a single-use join ticket (`?ticket=`) or, after a drop, the
resume token of the last connection (`?resume=`). Lobby members hear only about themselves.
Admitted people are in the room group and get a snapshot, then versioned events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pydantic import BaseModel, ValidationError

from rooms import (
    budget,
    events,
    flood,
    frames,
    i18n,
    lease,
    media_control,
    messages,
    metrics,
    outages,
    publisher,
    selectors,
    services,
    socket_auth,
)
from rooms.errors import DomainError
from rooms.flood import ChangeBudget, TokenBucket, Verdict
from rooms.identity import guest_id_from_cookies
from rooms.models import ParticipantState, ReportReason, Room
from rooms.seat_release import schedule_release
from rooms.sfu import logcontext, protocol
from rooms.sockets import ResilientSocket
from rooms.turn_renewal import CredentialRenewal

log = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's).
CLOSE_LEFT = 4000
CLOSE_REFUSED = 4003
CLOSE_REMOVED = 4004
CLOSE_ENDED = 4005
CLOSE_REPLACED = 4009
CLOSE_FLOOD = 4029
# Tells the client to build a new media connection (its peer in the SFU is gone).
MEDIA_RESET: frames.MediaState = {"type": "media.state", "state": "failed", "reason": "media_reset"}
# Not final: the database or the channel layer was down; the same resume token works later.
CLOSE_UNAVAILABLE = 4503

_MessageT = TypeVar("_MessageT", bound=BaseModel)
_Handler = Callable[["RoomConsumer", _MessageT], Awaitable[None]]
# The handler of each client message type (`messages.ClientMessage`), by its schema.
_HANDLERS: dict[type[BaseModel], _Handler[Any]] = {}


def _handles(kind: type[_MessageT]) -> Callable[[_Handler[_MessageT]], _Handler[_MessageT]]:
    """Make the method the handler of one message type: mypy then checks that the method
    takes that type, so each handler reads its message's fields with their types."""

    def register(handler: _Handler[_MessageT]) -> _Handler[_MessageT]:
        _HANDLERS[kind] = handler
        return handler

    return register


class RoomConsumer(ResilientSocket):
    participant_id: int | None = None
    room_id: int = 0
    room_token: str = ""
    state: str = ""
    role: str = ""
    lobby_reason: str = ""
    in_room_group = False
    # Set when this socket goes away on purpose: then the seat is not held for a resume.
    finished = False
    # Set once the socket is closing (by us or by the client): nothing more is sent on it.
    closing = False
    changes: ChangeBudget | None = None
    turn_credentials: CredentialRenewal

    # The language of this socket's person (rooms/i18n.py), found once: every human message
    # sent on it (errors, notices) is written in it, whoever's action caused it (`dispatch`).
    language: str | None = None

    async def connect(self) -> None:
        self.turn_credentials = CredentialRenewal(self.send_json)
        publisher.serving_loop_is(asyncio.get_running_loop())
        lease.ensure_running()
        metrics.ensure_loop_lag()
        self.bucket = TokenBucket()
        self.room_token = self.scope["url_route"]["kwargs"]["token"]
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        ticket = query.get("ticket", [""])[0]
        resume = query.get("resume", [""])[0]
        resume_nonce: str | None = None
        try:
            if ticket:
                participant = await database_sync_to_async(services.join_ticket_redeem)(
                    ticket=ticket, room_token=self.room_token
                )
            elif resume:
                # The account: an API client's socket ticket (`?auth=`), else the session's or
                # the Authorization header's (rooms.socket_auth).
                user = await socket_auth.socket_user(self.scope)
                checked = await database_sync_to_async(services.participant_resume)(
                    token=resume,
                    room_token=self.room_token,
                    user_id=user.pk if user is not None else None,
                    guest_id=guest_id_from_cookies(self.scope.get("cookies", {})),
                )
                participant, resume_nonce = checked.participant, checked.nonce
            else:
                metrics.socket_connected("refused")
                await self.close(code=CLOSE_REFUSED)
                return
            # Any older socket of this visit gives way to this one.
            await self.channel_layer.group_send(
                events.participant_group(participant.pk),
                {"type": "socket.replaced", "channel": self.channel_name},
            )
            await self.join_group(events.participant_group(participant.pk))
            self.participant_id = participant.pk
            self.room_id = participant.room_id
            self.changes = ChangeBudget(
                flood.person_key(
                    room_id=participant.room_id,
                    participant_id=participant.pk,
                    user_id=participant.user_id,
                    guest_id=participant.guest_id,
                )
            )
            # Every line this socket logs from now on (its task's context) names the two.
            logcontext.bind(participant.room_id, participant.pk)
            # A resume token is spent only here, once everything before worked.
            connection = await database_sync_to_async(services.participant_connected)(
                participant_id=participant.pk, resume_nonce=resume_nonce, server=lease.server_id()
            )
        except DomainError as error:
            metrics.socket_connected("refused")
            log.info("room socket refused: %s", error.code)
            await self._forget_groups()
            self.participant_id = None
            await self.close(code=CLOSE_REFUSED)
            return
        except Exception as error:
            # The database or the channel layer is down. Nothing was spent: the client
            # tries the same ticket or resume token again a moment later.
            metrics.socket_connected("unavailable")
            if outages.is_outage(error):
                log.warning("room socket could not connect, try again: %r", error)
            else:
                # A bug, not an outage: the client still retries, and the log says why.
                log.exception("room socket could not connect")
            with contextlib.suppress(Exception):
                await self._forget_groups()
            self.participant_id = None
            await self.accept()
            await self.send_json(_unavailable())
            await self.close(code=CLOSE_UNAVAILABLE)
            return
        metrics.socket_connected("resumed" if resume_nonce is not None else "accepted")
        await self.accept()
        await self.send_json({"type": "hello", "resume_token": connection.resume_token})
        await self._sync_state()
        if resume_nonce is not None and connection.was_disconnected:
            # The seat was marked dropped meanwhile, which closed this person's media peer.
            await self.send_json(
                {"type": "media.state", "state": "failed", "reason": "media_reset"}
            )

    async def disconnect(self, code: int) -> None:
        self.closing = True
        try:
            if self.participant_id is not None and not self.finished:
                still_there = await database_sync_to_async(services.participant_disconnected)(
                    participant_id=self.participant_id
                )
                if still_there:
                    await schedule_release(self.room_id)
        except Exception:
            # The seat is then released by the lazy check on the next join or by the sweep.
            log.exception("room socket disconnect handling failed")
        finally:
            await self.turn_credentials.stop()
            await self._forget_groups()

    async def _forget_groups(self) -> None:
        for group in list(self.joined_groups):
            await self.leave_group(group)
        self.in_room_group = False

    async def on_layer_back(self) -> None:
        """Events, SFU notices and commands may have been lost while the channel layer was
        down: a fresh view of the room, and a new media connection (the SFU worker may have
        dropped this person's peer, and its notice may have gone nowhere)."""
        if self.finished or self.participant_id is None:
            return
        self.state = ""  # whatever it was, send it again
        await self._sync_state()
        if self.state == ParticipantState.ADMITTED and not self.finished:
            await self.send_json(
                {"type": "media.state", "state": "failed", "reason": "media_reset"}
            )

    # --- state -------------------------------------------------------------------------------

    async def _sync_state(self) -> None:
        """Read our own visit and act on it: snapshot, lobby status, or a closing reason."""
        participant = await database_sync_to_async(selectors.participant_with_room)(
            participant_id=self.pid
        )
        previous = (self.state, self.role, self.lobby_reason)
        self.state, self.role = participant.state, participant.role
        self.lobby_reason = participant.lobby_reason
        if participant.state != ParticipantState.ADMITTED:
            await self.turn_credentials.stop()
        if participant.state == ParticipantState.ADMITTED:
            if not self.in_room_group:
                await self.join_group(events.room_group(self.room_id))
                self.in_room_group = True
            if previous[:2] != (self.state, self.role):
                await self._send_snapshot()
        elif participant.state == ParticipantState.LOBBY:
            if previous != (self.state, self.role, self.lobby_reason):
                reason = cast(frames.LobbyReasonName, self.lobby_reason)
                await self.send_json({"type": "lobby.status", "reason": reason})
        elif participant.state == ParticipantState.REMOVED:
            reason = await database_sync_to_async(selectors.removal_reason)(
                participant_id=participant.pk
            )
            by = await database_sync_to_async(selectors.acted_by)(
                participant_id=participant.pk, kind="participant.removed"
            )
            await self._finish({"type": "removed", "reason": reason, "by": by}, CLOSE_REMOVED)
        elif participant.state == ParticipantState.DENIED:
            by = await database_sync_to_async(selectors.acted_by)(
                participant_id=participant.pk, kind="participant.denied"
            )
            await self._finish({"type": "lobby.denied", "by": by}, CLOSE_REFUSED)
        elif participant.room.state == "ended":
            ended = await database_sync_to_async(selectors.room_ended_notice)(room_id=self.room_id)
            await self._finish(ended, CLOSE_ENDED)
        else:
            await self._finish({"type": "left"}, CLOSE_LEFT)

    async def _send_snapshot(self) -> None:
        try:
            snapshot = await database_sync_to_async(selectors.room_snapshot)(
                participant_id=self.pid
            )
        except DomainError:
            return  # no longer in the room: the notice about that is on its way
        await self.send_json(cast(frames.SnapshotFrame, {"type": "snapshot", **snapshot}))
        # The snapshot carried fresh TURN credentials: the next ones are due from now.
        await self.turn_credentials.restart(participant_id=self.pid)

    async def _finish(
        self, message: frames.RoomFrame, code: int, *, visit_over: bool = True
    ) -> None:
        """Say why and close. `visit_over`: the visit ended (removed, denied, left, room
        ended), so no seat is held for a resume and its media must stop; otherwise (another
        socket took over) the visit goes on elsewhere."""
        self.finished = True
        await self.turn_credentials.stop()
        if visit_over and self.participant_id is not None:
            # An offer already on its way when the person was removed (or left) may have built
            # a new peer after the service's own remove: close it again from here.
            remove: media_control.Command = {
                "type": "sfu.remove",
                "room_id": self.room_id,
                "participant_id": self.participant_id,
            }
            await media_control.send_command(self.room_id, remove)
        await self.send_json(message)
        await self._forget_groups()
        await self.close(code=code)

    @property
    def pid(self) -> int:
        if self.participant_id is None:
            raise RuntimeError("socket has no participant")  # only after a refused connect
        return self.participant_id

    @property
    def is_moderator(self) -> bool:
        return self.role in ("host", "cohost")

    # --- from the client ---------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Frames still in flight when this socket started closing are not acted on.
        if self.finished or self.closing or self.participant_id is None:
            return
        verdict = self.bucket.take(time.monotonic())
        if verdict == Verdict.CLOSE:
            # Not `_finish`: the visit goes on, so the disconnect below holds the seat for a
            # resume and releases it after the grace period like any dropped connection.
            await self.send_json(
                _error("flooding", _("Too many messages: the connection is closed."))
            )
            await self.close(code=CLOSE_FLOOD)
            return
        if verdict == Verdict.WARN:
            await self.send_json(_error("slow_down", _("Too many messages: slow down.")))
            return
        if text_data is None:
            metrics.message_in("invalid")
            await self.send_json(_error("text_only", _("Send JSON text frames.")))
            return
        if len(text_data) > messages.MAX_FRAME_BYTES:
            metrics.message_in("invalid")
            await self.send_json(_error("too_large", _("Messages may be at most 64 KB.")))
            return
        try:
            raw = json.loads(text_data)
        except (ValueError, RecursionError):
            metrics.message_in("invalid")
            await self.send_json(_error("bad_json", _("That is not valid JSON.")))
            return
        try:
            message = messages.parse(raw)
        except ValidationError as invalid:
            metrics.message_in("invalid")
            await self.send_json(_invalid(raw, invalid))
            return
        kind: str = message.type
        metrics.message_in(kind)
        if self.state != ParticipantState.ADMITTED and kind not in messages.LOBBY_TYPES:
            await self.send_json(_error("not_admitted", _("Wait until you are let in."), kind))
            return
        if kind not in messages.PARTICIPANT_TYPES and not self.is_moderator:
            await self.send_json(
                _error("not_a_host", _("Only hosts and co-hosts can do that."), kind)
            )
            return
        try:
            if kind in flood.CHANGES and not await self._may_change(message):
                return
            await self.handle(message)
        except DomainError as error:
            await self.send_json(_error(error.code, error.message, kind))
        except Exception as error:
            # A bug or an outage (database, Redis) must not end the socket without its
            # disconnect handling: the seat would stay "connected" for ever.
            if outages.is_outage(error):
                log.warning("room socket could not handle %s: %s", kind, error)
                answer = _unavailable(kind)
                if isinstance(message, messages.MediaOffer) and message.offer_id is not None:
                    answer["offer_id"] = message.offer_id
                await self.send_json(answer)
                return
            log.exception("room socket could not handle %s", kind)
            await self.send_json(
                _error("server_error", _("Something went wrong; try again."), kind)
            )

    async def _may_change(self, message: messages.ClientMessage) -> bool:
        """Spend from the person's change budget; say how long to wait when it is spent."""
        changes = self.changes
        if changes is None:  # set on connect, with the participant: never missing here
            return False
        wait = changes.waiting() or await sync_to_async(changes.spend, thread_sensitive=False)()
        if not wait or flood.always_allowed(message):
            return True
        seconds = budget.retry_after(wait)
        error = _error(
            "too_many_changes",
            ngettext(
                "Too many changes: try again in %(count)s second.",
                "Too many changes: try again in %(count)s seconds.",
                seconds,
            )
            % {"count": seconds},
            message.type,
        )
        error["retry_after"] = seconds
        await self.send_json(error)
        return False

    async def handle(self, message: messages.ClientMessage) -> None:
        await _HANDLERS[type(message)](self, message)

    def _room(self) -> Room:
        """This socket's room as the services take it: its pk (they lock and read the row)."""
        return Room(pk=self.room_id)

    # One method per message type, each taking its validated message. Their names start with
    # an underscore so that no channel-layer message type can reach them through `dispatch`.

    @_handles(messages.Ping)
    async def _on_ping(self, message: messages.Ping) -> None:
        await self.send_json({"type": "pong"})

    @_handles(messages.SnapshotRequest)
    async def _on_snapshot_request(self, message: messages.SnapshotRequest) -> None:
        if self.state == ParticipantState.ADMITTED:
            await self._send_snapshot()
        else:
            await self._sync_state()

    @_handles(messages.Leave)
    async def _on_leave(self, message: messages.Leave) -> None:
        self.finished = True
        await self.call(services.room_leave_visit, participant_id=self.pid)
        await self._finish({"type": "left"}, CLOSE_LEFT)

    @_handles(messages.HandSet)
    async def _on_hand_set(self, message: messages.HandSet) -> None:
        await self.call(
            services.participant_set_hand, participant_id=self.pid, raised=message.raised
        )

    @_handles(messages.AudioSet)
    async def _on_audio_set(self, message: messages.AudioSet) -> None:
        await self.call(
            services.participant_set_muted, participant_id=self.pid, muted=message.muted
        )

    @_handles(messages.CameraSet)
    async def _on_camera_set(self, message: messages.CameraSet) -> None:
        await self.call(services.participant_set_camera, participant_id=self.pid, off=message.off)

    @_handles(messages.Report)
    async def _on_report(self, message: messages.Report) -> None:
        await self.call(
            services.report_from_participant,
            participant_id=self.pid,
            reason=ReportReason(message.reason),
            details=message.details,
            target_id=message.target_id,
        )
        await self.send_json({"type": "report.received"})

    @_handles(messages.LobbyAdmit)
    async def _on_lobby_admit(self, message: messages.LobbyAdmit) -> None:
        await self._lobby_decide(services.lobby_admit, message)

    @_handles(messages.LobbyDeny)
    async def _on_lobby_deny(self, message: messages.LobbyDeny) -> None:
        await self._lobby_decide(services.lobby_deny, message)

    async def _lobby_decide(
        self, action: Any, message: messages.LobbyAdmit | messages.LobbyDeny
    ) -> None:
        await self.as_moderator(
            action,
            room=self._room(),
            participant_ids=None if message.all else message.participant_ids,
        )

    @_handles(messages.ParticipantRemove)
    async def _on_participant_remove(self, message: messages.ParticipantRemove) -> None:
        await self.as_moderator(
            services.participant_remove,
            room=self._room(),
            participant_id=message.participant_id,
            reason=message.reason,
        )

    @_handles(messages.ParticipantMute)
    async def _on_participant_mute(self, message: messages.ParticipantMute) -> None:
        await self.as_moderator(
            services.participant_mute, room=self._room(), participant_id=message.participant_id
        )

    @_handles(messages.MuteAll)
    async def _on_mute_all(self, message: messages.MuteAll) -> None:
        await self.as_moderator(services.participant_mute_all, room=self._room())

    @_handles(messages.AskUnmute)
    async def _on_ask_unmute(self, message: messages.AskUnmute) -> None:
        await self.as_moderator(
            services.participant_ask_unmute,
            room=self._room(),
            participant_id=message.participant_id,
        )

    @_handles(messages.RoomLock)
    async def _on_room_lock(self, message: messages.RoomLock) -> None:
        await self.as_moderator(services.room_set_locked, room=self._room(), locked=message.locked)

    @_handles(messages.RoomWaitingRoom)
    async def _on_room_waiting_room(self, message: messages.RoomWaitingRoom) -> None:
        await self.as_moderator(
            services.room_set_waiting_room, room=self._room(), enabled=message.value
        )

    @_handles(messages.RoomSignedInOnly)
    async def _on_room_signed_in_only(self, message: messages.RoomSignedInOnly) -> None:
        await self.as_moderator(
            services.room_set_signed_in_only, room=self._room(), enabled=message.value
        )

    @_handles(messages.RoomCapacity)
    async def _on_room_capacity(self, message: messages.RoomCapacity) -> None:
        await self.as_moderator(
            services.room_set_capacity, room=self._room(), capacity=message.capacity
        )

    @_handles(messages.RoomScreenShare)
    async def _on_room_screen_share(self, message: messages.RoomScreenShare) -> None:
        await self.as_moderator(
            services.room_set_screen_share,
            room=self._room(),
            participants_allowed=message.value,
        )

    @_handles(messages.RoomEnd)
    async def _on_room_end(self, message: messages.RoomEnd) -> None:
        await self.as_moderator(services.room_end, room=self._room())

    @_handles(messages.MediaOffer)
    async def _on_media_offer(self, message: messages.MediaOffer) -> None:
        pid = self.pid
        rights = await database_sync_to_async(selectors.media_rights)(participant_id=pid)
        command: protocol.OfferCommand = {
            "type": "sfu.offer",
            "room_id": self.room_id,
            "participant_id": pid,
            "sdp": message.sdp,
            "screen_mids": list(message.screen_mids),
            "can_share_screen": rights["can_share_screen"],
            "muted": rights["muted"],
            "camera_off": rights["camera_off"],
            "max_screen_shares": rights["max_screen_shares"],
        }
        if message.offer_id is not None:
            command["offer_id"] = message.offer_id
        await self._relay_media(command, message.type, offer_id=message.offer_id)

    @_handles(messages.MediaIce)
    async def _on_media_ice(self, message: messages.MediaIce) -> None:
        command: protocol.IceCommand = {
            "type": "sfu.ice",
            "room_id": self.room_id,
            "participant_id": self.pid,
            "candidate": message.candidate,
            "sdp_mid": message.sdp_mid,
            "sdp_mline_index": message.sdp_mline_index,
        }
        await self._relay_media(command, message.type)

    @_handles(messages.MediaTiles)
    async def _on_media_tiles(self, message: messages.MediaTiles) -> None:
        command: protocol.TilesCommand = {
            "type": "sfu.tiles",
            "room_id": self.room_id,
            "participant_id": self.pid,
            "tiles": {mid: list(size) for mid, size in message.tiles.items()},
        }
        await self._relay_media(command, message.type)

    async def _relay_media(
        self, command: media_control.Command, regarding: str, *, offer_id: str | None = None
    ) -> None:
        """Hand the command to the room's media worker; tell the client when none takes it."""
        if not await media_control.send_command(self.room_id, command):
            error = _error(
                "media_unavailable", _("Audio and video are not available right now."), regarding
            )
            if offer_id is not None:
                error["offer_id"] = offer_id
            await self.send_json(error)

    async def call(self, service: Any, **kwargs: Any) -> Any:
        return await database_sync_to_async(service)(**kwargs)

    async def as_moderator(self, service: Any, **kwargs: Any) -> Any:
        """Host controls act as the account behind this socket; the service checks the role."""
        actor = await database_sync_to_async(selectors.participant_account)(participant_id=self.pid)
        if actor is None:
            raise DomainError("not_a_host", _("Only hosts and co-hosts can do that."))
        return await database_sync_to_async(service)(actor=actor, **kwargs)

    # --- from the server ---------------------------------------------------------------------

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels raises on a message type without a handler, which would end this socket;
        # a newer worker or service version may send types this one does not know.
        if not hasattr(self, get_handler_name(message)):
            log.warning("room socket ignores message type %r", message.get("type"))
            return
        if self.language is None:
            self.language = await database_sync_to_async(i18n.language_for_scope)(self.scope)
        with translation.override(self.language):
            try:
                await super().dispatch(message)
            except Exception as error:
                # An event this socket could not act on (its state could not be read): the client
                # asks for a fresh snapshot after retry_after.
                if not outages.is_outage(error):
                    raise
                log.warning("room socket could not handle %s: %s", message.get("type"), error)
                # Channels tidies the database connections before each handler: the outage may
                # show there, before `receive` sees the client's message. Say which one it was.
                await self.send_json(_unavailable(_client_message_type(message)))

    async def room_event(self, message: dict[str, Any]) -> None:
        if not self.in_room_group:
            return
        # Built by rooms.services._common._record as one of frames.ROOM_EVENTS.
        event = events.for_participant(
            message["event"], message["audience"], is_moderator=self.is_moderator
        )
        await self.send_json(cast(frames.RoomFrame, event))

    async def participant_changed(self, message: dict[str, Any]) -> None:
        if self.finished:
            return
        if message.get("kind") == "participant.unmute_requested":
            await self.send_json({"type": "unmute.requested"})
        await self._sync_state()

    async def socket_replaced(self, message: dict[str, Any]) -> None:
        if message["channel"] != self.channel_name and not self.finished:
            await self._finish(
                {"type": "replaced", "message": _("You opened this room somewhere else.")},
                CLOSE_REPLACED,
                visit_over=False,
            )

    async def media_answer(self, message: dict[str, Any]) -> None:
        answer: frames.MediaAnswer = {"type": "media.answer", "sdp": message["sdp"]}
        if isinstance(message.get("offer_id"), str):
            answer["offer_id"] = message["offer_id"]
        await self.send_json(answer)

    async def media_renegotiate(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "media.renegotiate",
                "audio_slots": message["audio_slots"],
                "video_slots": message["video_slots"],
            }
        )

    async def media_state(self, message: dict[str, Any]) -> None:
        state: frames.MediaState = {"type": "media.state", "state": message["state"]}
        if isinstance(message.get("reason"), str):
            state["reason"] = message["reason"]
        await self.send_json(state)

    async def media_error(self, message: dict[str, Any]) -> None:
        error = _error(message["code"], message["message"], "media")
        if isinstance(message.get("offer_id"), str):
            error["offer_id"] = message["offer_id"]
        await self.send_json(error)

    async def media_slots(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "media.slots", "slots": message["slots"]})

    async def media_stats(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "media.stats",
                "packets_in": message["packets_in"],
                "packets_out": message["packets_out"],
                "bytes_in": message["bytes_in"],
                "bytes_out": message["bytes_out"],
                "packets_dropped": message["packets_dropped"],
            }
        )

    async def media_speakers(self, message: dict[str, Any]) -> None:
        if self.in_room_group:
            await self.send_json(
                {"type": "room.speakers", "participant_ids": message["participant_ids"]}
            )

    async def send_json(self, content: frames.RoomFrame) -> None:
        # An event may reach this socket after it started closing (its close frame is out, or
        # the client's is in): there is nobody left to tell, so it is dropped quietly.
        if self.closing:
            return
        metrics.message_out(str(content.get("type")))
        text = json.dumps(content, separators=(",", ":"))
        try:
            await self.send(text_data=text)
        except (OSError, RuntimeError):
            # The server refuses sends once the client's close frame is in, before the
            # disconnect reaches us: ASGI servers raise an OSError, Daphne (autobahn) a
            # RuntimeError ("Attempt to send on a closed protocol").
            self.closing = True
            log.debug("room socket closed before a send")

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self.closing = True
        await super().close(code=code, reason=reason)


def _client_message_type(message: dict[str, Any]) -> str | None:
    """The `type` of the client's JSON in a `websocket.receive`, if it has one."""
    if message.get("type") != "websocket.receive" or not isinstance(message.get("text"), str):
        return None
    try:
        kind = json.loads(message["text"]).get("type")
    except (ValueError, AttributeError, RecursionError):
        return None
    return kind if isinstance(kind, str) and len(kind) <= 64 else None


def _error(code: str, message: str | Promise, regarding: str | None = None) -> frames.Error:
    # str(): a lazy message is written here, in the socket's language (`dispatch`).
    body: frames.Error = {"type": "error", "code": code, "message": str(message)}
    if regarding:
        body["regarding"] = regarding
    return body


def _unavailable(regarding: str | None = None) -> frames.Error:
    body = _error("unavailable", outages.MESSAGE, regarding)
    body["retry_after"] = outages.RETRY_AFTER_SECONDS
    return body


def _invalid(raw: object, invalid: ValidationError) -> frames.Error:
    kind = raw.get("type") if isinstance(raw, dict) else None
    problems: list[frames.Problem] = [
        {"field": ".".join(str(part) for part in err["loc"][1:]) or "type", "problem": err["msg"]}
        for err in invalid.errors(include_url=False, include_input=False)[:5]
    ]
    body = _error(
        "invalid_message", _("That message is not valid."), kind if isinstance(kind, str) else None
    )
    body["problems"] = problems
    return body

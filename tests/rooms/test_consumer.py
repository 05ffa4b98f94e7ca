"""The room socket: connecting, the lobby, host controls, validation, flood control, resume."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, get_args

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import user_suspend
from config.asgi import application
from rooms import consumers, events, messages, services
from rooms.consumers import (
    CLOSE_ENDED,
    CLOSE_FLOOD,
    CLOSE_LEFT,
    CLOSE_REFUSED,
    CLOSE_REMOVED,
    CLOSE_REPLACED,
    CLOSE_UNAVAILABLE,
)
from rooms.models import AuditEvent, Ban, Participant, ParticipantState, Report, Room
from tests.factories import UserFactory
from tests.rooms.socket_client import (
    HOST,
    ORIGIN,
    Socket,
    about,
    api_join,
    connect,
    cookie_header,
    enter,
    guest,
    join,
    me,
    session_cookie,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("in_memory_channel_layer"),
]


@pytest.fixture
def room(alice: User) -> Room:
    return services.room_create(host=alice, title="Friday chat")


async def state(participant_id: int) -> Participant:
    return await database_sync_to_async(Participant.objects.get)(pk=participant_id)


async def fresh(room: Room) -> Room:
    return await database_sync_to_async(Room.objects.get)(pk=room.pk)


async def host_in(room: Room, host: User) -> tuple[Socket, dict[str, Any]]:
    socket, _ = await enter(room, me(host))
    snapshot = await socket.expect("snapshot")
    return socket, snapshot


# --- connecting ---------------------------------------------------------------------------


async def test_host_gets_snapshot_and_room_opens(alice: User, room: Room) -> None:
    socket, snapshot = await host_in(room, alice)
    assert [p["display_name"] for p in snapshot["roster"]] == ["Alice"]
    assert snapshot["you"]["role"] == "host"
    assert snapshot["lobby"] == []
    assert snapshot["room"]["state"] == "open"
    assert snapshot["version"] == (await fresh(room)).version
    await socket.close()


async def test_refusals(alice: User, bob: User, room: Room) -> None:
    assert not (await connect(room, ""))[0]  # no ticket
    assert not (await connect(room, "ticket=forged"))[0]
    result = await join(room, me(alice))
    other = await database_sync_to_async(services.room_create)(host=bob, title="Other")
    assert not (await connect(other, f"ticket={result.ticket}"))[0]  # another room's ticket
    assert not (await connect(room, f"ticket={result.ticket}", origin=None))[0]  # no Origin
    evil = (b"origin", b"https://evil.example.com")
    assert not (await connect(room, f"ticket={result.ticket}", origin=evil))[0]
    ok, socket = await connect(room, f"ticket={result.ticket}")
    assert ok  # the refusals above did not use the ticket up
    await socket.close()
    assert not (await connect(room, f"ticket={result.ticket}"))[0]  # single use


async def test_expired_ticket_is_refused(alice: User, room: Room, settings) -> None:  # type: ignore[no-untyped-def]
    result = await join(room, me(alice))
    settings.ROOMS_JOIN_TICKET_TTL_SECONDS = -1
    assert not (await connect(room, f"ticket={result.ticket}"))[0]


async def test_suspended_account_is_refused(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    result = await join(room, me(bob))
    await database_sync_to_async(user_suspend)(user=bob)
    assert not (await connect(room, f"ticket={result.ticket}"))[0]
    await host.close()


async def test_removed_person_cannot_connect_with_old_ticket(alice: User, room: Room) -> None:
    host, _ = await host_in(room, alice)
    result = await join(room, guest())
    await database_sync_to_async(services.participant_remove)(
        room=room, actor=alice, participant_id=result.participant.pk
    )
    assert not (await connect(room, f"ticket={result.ticket}"))[0]
    await host.close()


# --- lobby --------------------------------------------------------------------------------


async def test_lobby_member_sees_only_own_status_until_admitted(alice: User, room: Room) -> None:
    waiting, result = await enter(room, guest())
    assert (await waiting.expect("lobby.status"))["reason"] == "waiting_for_host"
    host, snapshot = await host_in(room, alice)
    # The host arrived: the guest now waits for admission, and the host sees the request.
    assert (await waiting.expect("lobby.status"))["reason"] == "waiting_room"
    assert [p["id"] for p in snapshot["lobby"]] == [result.participant.pk] or (
        (await host.expect("room.lobby_waiting"))["participant"]["id"] == result.participant.pk
    )
    # Lobby members may not act in the room and hear nothing of it.
    await waiting.send({"type": "hand.set", "raised": True})
    assert (await waiting.expect("error"))["code"] == "not_admitted"
    await host.send({"type": "room.lock", "locked": True})
    await host.expect("room.locked")
    assert await waiting.silent()
    await host.send({"type": "room.lock", "locked": False})
    await host.send({"type": "lobby.admit", "participant_ids": [result.participant.pk]})
    snapshot = await waiting.expect("snapshot", timeout=1.0)  # moves on within a second
    assert result.participant.pk in [p["id"] for p in snapshot["roster"]]
    assert "lobby" not in snapshot
    joined = await host.expect("room.participant_joined")
    assert joined["participant"]["display_name"] == "Gus"
    await waiting.close()
    await host.close()


async def test_friend_waiting_for_host_is_let_in_when_host_connects(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    friend, _ = await enter(room, me(bob))
    assert (await friend.expect("lobby.status"))["reason"] == "waiting_for_host"
    host, _ = await host_in(room, alice)
    snapshot = await friend.expect("snapshot")
    assert {p["display_name"] for p in snapshot["roster"]} == {"Alice", "Bob"}
    await friend.close()
    await host.close()


async def test_deny_all(alice: User, room: Room) -> None:
    host, _ = await host_in(room, alice)
    first, _ = await enter(room, guest("One", "1" * 32))
    second, _ = await enter(room, guest("Two", "2" * 32))
    await host.send({"type": "lobby.deny", "all": True})
    for socket in (first, second):
        assert (await socket.expect("lobby.denied"))["by"] == "host"  # who turned them away
        assert await socket.expect_closed() == CLOSE_REFUSED
    await host.close()


async def test_lobby_admit_needs_ids_or_all(alice: User, room: Room) -> None:
    host, _ = await host_in(room, alice)
    await host.send({"type": "lobby.admit"})
    assert (await host.expect("error"))["code"] == "invalid_message"
    await host.send({"type": "lobby.admit", "all": True, "participant_ids": [1]})
    assert (await host.expect("error"))["code"] == "invalid_message"
    await host.close()


# --- host controls and who may use them ---------------------------------------------------


async def test_participant_cannot_use_host_controls(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    member, _ = await enter(room, me(bob))
    await member.expect("snapshot")
    before = (await fresh(room)).version
    for message in (
        {"type": "room.lock", "locked": True},
        {"type": "room.end"},
        {"type": "participant.mute_all"},
        {"type": "lobby.admit", "all": True},
        {"type": "room.capacity", "capacity": 2},
    ):
        await member.send(message)
        error = await member.expect("error")
        assert (error["code"], error["regarding"]) == ("not_a_host", message["type"])
    room_now = await fresh(room)
    assert (room_now.version, room_now.locked, room_now.state) == (before, False, "open")
    await member.close()
    await host.close()


async def test_forged_ids_take_no_effect(alice: User, bob: User, charlie: User, room: Room) -> None:
    """Ids from another room are not found; nothing in a message names the sender."""
    host, _ = await host_in(room, alice)
    other = await database_sync_to_async(services.room_create)(host=bob, title="Bob's")
    other_host, _ = await host_in(other, bob)
    stranger, stranger_join = await enter(other, guest())
    await host.send({"type": "participant.remove", "participant_id": stranger_join.participant.pk})
    assert (await host.expect("error"))["code"] == "participant_not_found"
    await host.send({"type": "lobby.admit", "participant_ids": [stranger_join.participant.pk]})
    assert (await host.expect("error"))["code"] == "not_in_lobby"
    await host.send({"type": "hand.set", "raised": True, "participant_id": 1, "room": other.pk})
    assert (await host.expect("error"))["code"] == "invalid_message"
    assert (await state(stranger_join.participant.pk)).state == ParticipantState.LOBBY
    for socket in (host, other_host, stranger):
        await socket.close()


async def test_remove_closes_the_socket_with_a_reason_and_the_ban_holds(
    alice: User, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    await host.send({"type": "room.waiting_room", "waiting_room": False})
    await host.expect("room.updated")
    victim, result = await enter(room, guest())
    await victim.expect("snapshot")
    await host.send(
        {"type": "participant.remove", "participant_id": result.participant.pk, "reason": "spam"}
    )
    removed = await victim.expect("removed", timeout=0.5)
    assert (removed["reason"], removed["by"]) == ("spam", "host")
    assert await victim.expect_closed() == CLOSE_REMOVED
    event = await host.expect("room.participant_removed")
    assert event["data"] == {"by": "host"}  # the reason is said to the removed person only
    assert await database_sync_to_async(Ban.objects.filter(room=room).count)() == 1
    with pytest.raises(services.JoinDenied):
        await join(room, guest())
    await host.close()


async def test_mute_one_and_all_and_ask_to_unmute(
    alice: User, bob: User, charlie: User, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    await host.send({"type": "room.waiting_room", "waiting_room": False})
    b, b_join = await enter(room, me(bob))
    c, c_join = await enter(room, me(charlie))
    await b.expect("snapshot")
    await c.expect("snapshot")
    await host.send({"type": "participant.mute", "participant_id": b_join.participant.pk})
    await c.expect("room.participant_updated", where=about(b_join.participant.pk, audio_muted=True))
    await host.send({"type": "participant.ask_unmute", "participant_id": b_join.participant.pk})
    await b.expect("unmute.requested")
    await host.send({"type": "participant.mute_all"})
    await c.expect("room.participant_updated", where=about(c_join.participant.pk, audio_muted=True))
    assert (await state(c_join.participant.pk)).audio_muted
    assert not (await state((await host_seat(room, alice)).pk)).audio_muted
    # Only the person themselves can unmute.
    await b.send({"type": "audio.set", "muted": False})
    await b.expect(
        "room.participant_updated", where=about(b_join.participant.pk, audio_muted=False)
    )
    assert not (await state(b_join.participant.pk)).audio_muted
    for socket in (b, c, host):
        await socket.close()


async def host_seat(room: Room, host: User) -> Participant:
    return await database_sync_to_async(Participant.objects.get)(
        room=room, user=host, state=ParticipantState.ADMITTED
    )


async def test_settings_controls(alice: User, room: Room) -> None:
    host, _ = await host_in(room, alice)
    await host.send({"type": "room.capacity", "capacity": 10})
    assert (await host.expect("room.updated"))["room"]["capacity"] == 10
    await host.send({"type": "room.screen_share", "participants_can_share_screen": False})
    assert (await host.expect("room.updated"))["room"]["participants_can_share_screen"] is False
    await host.send({"type": "room.waiting_room", "waiting_room": False})
    assert (await host.expect("room.updated"))["room"]["waiting_room"] is False
    await host.send({"type": "room.lock", "locked": True})
    assert (await host.expect("room.locked"))["room"]["locked"] is True
    await host.send({"type": "room.capacity", "capacity": 51})
    assert (await host.expect("error"))["code"] == "invalid_message"
    kinds = await database_sync_to_async(
        lambda: list(AuditEvent.objects.filter(room=room).values_list("kind", flat=True))
    )()
    assert kinds.count("room.updated") == 3
    await host.close()


async def test_signed_in_only_from_the_socket(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    member, _ = await enter(room, me(bob))
    await member.expect("snapshot")
    seated, _ = await enter(room, guest("Early", gid="e" * 32))  # came before the option
    await host.send({"type": "lobby.admit", "all": True})
    await seated.expect("snapshot")

    await host.send({"type": "room.signed_in_only", "signed_in_only": True})

    assert (await host.expect("room.updated"))["room"]["signed_in_only"] is True
    assert (await member.expect("room.updated"))["room"]["signed_in_only"] is True
    with pytest.raises(services.JoinDenied) as err:
        await join(room, guest())
    assert (err.value.code, err.value.status) == ("sign_in_required", 403)
    assert (await fresh(room)).signed_in_only is True
    # Not for participants; and the message is validated like every other.
    await member.send({"type": "room.signed_in_only", "enabled": False})
    assert (await member.expect("error"))["code"] == "not_a_host"
    await host.send({"type": "room.signed_in_only", "enabled": "no"})
    assert (await host.expect("error"))["code"] == "invalid_message"
    assert (await fresh(room)).signed_in_only is True
    # The old name of the field (deprecated, docs/socket.md) still works.
    await host.send({"type": "room.signed_in_only", "enabled": False})
    assert (await host.expect("room.updated"))["room"]["signed_in_only"] is False
    assert (await join(room, guest())).decision.reason == "waiting_room"
    for socket in (host, member, seated):
        await socket.close()


async def test_end_for_everyone_closes_every_socket(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    member, _ = await enter(room, me(bob))
    await member.expect("snapshot")
    waiting, _ = await enter(room, guest())
    await waiting.expect("lobby.status")
    await host.send({"type": "room.end"})
    versions = set()
    for socket in (member, waiting, host):
        ended = await socket.expect("room.ended")
        # Whichever comes first (the room's event or the socket's last word) is the room's
        # last version and says who ended it.
        assert ended["data"]["ended_by"] == "host"
        assert ended["room"]["state"] == "ended"
        versions.add(ended["version"])
        assert await socket.expect_closed() == CLOSE_ENDED
    last = await fresh(room)
    assert (last.state, versions) == ("ended", {last.version})


async def test_a_room_ended_by_a_moderator_says_so(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    member, _ = await enter(room, me(bob))
    await member.expect("snapshot")
    staff = await database_sync_to_async(UserFactory)(username="mod", is_staff=True)
    await database_sync_to_async(services.room_end)(room=room, actor=staff, as_staff=True)
    ended = await member.expect("room.ended")
    assert ended["data"]["ended_by"] == "moderator"
    await member.expect_closed()
    await host.close()


async def test_raise_hand_and_report(alice: User, bob: User, friends: None, room: Room) -> None:
    host, _ = await host_in(room, alice)
    member, member_join = await enter(room, me(bob))
    await member.expect("snapshot")
    await member.send({"type": "hand.set", "raised": True})
    await host.expect(
        "room.participant_updated", where=about(member_join.participant.pk, hand_raised=True)
    )
    seat = await host_seat(room, alice)
    await member.send({"type": "report", "reason": "spam", "details": "ads", "target_id": seat.pk})
    await member.expect("report.received")
    # The host hears only that the version moved, not who reported whom.
    tick = await host.expect("room.version")
    assert set(tick) == {"type", "version"}
    report = await database_sync_to_async(Report.objects.get)(room=room)
    assert (report.reporter_id, report.target_id) == (member_join.participant.pk, seat.pk)
    await member.close()
    await host.close()


async def test_reports_over_the_socket_share_the_hourly_limit(
    alice: User, bob: User, friends: None, room: Room, settings: Any
) -> None:
    settings.ROOMS_REPORTS_PER_HOUR = 1
    host, _ = await host_in(room, alice)
    member, _ = await enter(room, me(bob))
    await member.expect("snapshot")
    await member.send({"type": "report", "reason": "spam"})
    await member.expect("report.received")

    await member.send({"type": "report", "reason": "spam"})

    error = await member.expect("error")
    assert (error["code"], error["regarding"]) == ("rate_limited", "report")
    assert await database_sync_to_async(Report.objects.filter(room=room).count)() == 1
    await member.close()
    await host.close()


async def test_last_host_leaving_locks_the_room_and_nobody_is_promoted(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    member, member_join = await enter(room, me(bob))
    await member.expect("snapshot")
    await host.send({"type": "leave"})
    await host.expect("left")
    assert await host.expect_closed() == CLOSE_LEFT
    locked = await member.expect("room.locked")
    assert locked["data"] == {"reason": "host_left"} or locked["room"]["locked"] is True
    seat = await state(member_join.participant.pk)
    assert (seat.state, seat.role) == (ParticipantState.ADMITTED, "participant")
    await member.close()


# --- the socket protocol itself ----------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_json"),
        ("[" * 60000, "bad_json"),  # too deep for the decoder: an error, not a dead socket
        ('{"type": "no.such.type"}', "invalid_message"),
        ('{"type": "hand.set", "raised": "yes"}', "invalid_message"),
        ('{"type": "room.capacity", "capacity": 1e9}', "invalid_message"),
        ("[1, 2, 3]", "invalid_message"),
        ('{"type": "report", "reason": "meh"}', "invalid_message"),
        ('{"type": "media.ice", "candidate": "' + "x" * 2000 + '"}', "invalid_message"),
        ("x" * (64 * 1024 + 1), "too_large"),
        # Text that is not text: a NUL, or half of a surrogate pair, anywhere a string goes.
        ('{"type": "report", "reason": "spam", "details": "ads\\u0000"}', "invalid_message"),
        ('{"type": "report", "reason": "spam", "details": "\\ud800"}', "invalid_message"),
        (
            '{"type": "participant.remove", "participant_id": 1, "reason": "\\u0000"}',
            "invalid_message",
        ),
        (
            '{"type": "participant.remove", "participant_id": 1, "reason": "\\udfffx"}',
            "invalid_message",
        ),
        ('{"type": "media.ice", "candidate": "candidate:1 \\u0000"}', "invalid_message"),
        ('{"type": "media.ice", "candidate": "x", "sdp_mid": "\\ud83d"}', "invalid_message"),
        ('{"type": "media.offer", "sdp": "v=0\\u0000"}', "invalid_message"),
        ('{"type": "media.offer", "sdp": "v=0", "screen_mids": ["\\u0000"]}', "invalid_message"),
        ('{"type": "media.tiles", "tiles": {"\\u0000": [1, 1]}}', "invalid_message"),
        ('{"type": "media.tiles", "tiles": {"\\ud800": [1, 1]}}', "invalid_message"),
        ('{"type": "media.tiles", "tiles": [[1, 1]]}', "invalid_message"),
    ],
)
async def test_bad_messages_get_an_error_and_the_connection_survives(
    alice: User, room: Room, frame: str, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    host, _ = await host_in(room, alice)
    version = (await fresh(room)).version
    await host.send(frame)
    assert (await host.expect("error"))["code"] == code
    await host.send({"type": "ping"})
    await host.expect("pong")
    assert (await fresh(room)).version == version
    await host.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_every_message_type_has_its_handler() -> None:
    # A schema the socket accepts but has no handler for would be answered with server_error.
    schemas = get_args(get_args(messages.ClientMessage)[0])
    assert len(schemas) == 22
    assert set(consumers._HANDLERS) == set(schemas)


async def test_text_that_is_not_text_is_refused_like_the_api_does(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    member, _ = await enter(room, me(bob))
    await member.expect("snapshot")
    await member.send({"type": "report", "reason": "spam", "details": "ads\u0000here"})
    error = await member.expect("error")
    assert (error["code"], error["regarding"]) == ("invalid_message", "report")
    assert error["problems"] == [
        {"field": "details", "problem": "Value error, Null characters are not allowed."}
    ]
    await member.send('{"type": "report", "reason": "spam", "details": "\\ud800"}')
    error = await member.expect("error")
    assert error["problems"][0]["problem"].endswith("Surrogate characters are not allowed: U+D800.")
    # Whole emoji (a surrogate pair in JSON) are text, of course.
    await member.send('{"type": "report", "reason": "spam", "details": "\\ud83d\\ude00"}')
    await member.expect("report.received")
    report = await database_sync_to_async(Report.objects.get)(room=room)
    assert report.details == "\U0001f600"
    for socket in (member, host):
        await socket.close()


async def test_binary_frames_are_refused(alice: User, room: Room) -> None:
    host, _ = await host_in(room, alice)
    await host.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await host.expect("error"))["code"] == "text_only"
    await host.close()


async def test_flooding_is_told_then_closed(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    member, member_join = await enter(room, me(bob))
    await member.expect("snapshot")
    for _ in range(80):
        await member.send({"type": "ping"})
    codes = []
    while member.closed_with is None:
        message = await member.next()
        if message["type"] == "error":
            codes.append(message["code"])
    assert codes == ["slow_down", "flooding"]
    assert member.closed_with == CLOSE_FLOOD
    await member.close()  # the transport finishes closing (Daphne does this by itself)
    # Like any dropped connection: the seat is held for a resume, not left "connected".
    await host.expect(
        "room.participant_updated", where=about(member_join.participant.pk, connected=False)
    )
    await host.close()


async def test_a_socket_closed_for_flooding_hears_nothing_more(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    member, _ = await enter(room, me(bob))
    await member.expect("snapshot")
    for _ in range(80):
        await member.send({"type": "ping"})
    assert await member.expect_closed() == CLOSE_FLOOD
    # Events still reach its consumer until the client's close comes back; none is sent on.
    await host.send({"type": "room.lock", "locked": True})
    await host.expect("room.locked")
    assert await member.silent(0.5)
    await member.close()
    await host.close()


class ClientClosedServer:
    """The real application behind a server whose client has sent its close frame: from then
    on every send raises, as Daphne does ("Attempt to send on a closed protocol") until the
    disconnect reaches the application."""

    def __init__(self) -> None:
        self.client_closed = False
        self.refused = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from autobahn.exception import Disconnected

        async def server_send(message: dict[str, Any]) -> None:
            if self.client_closed and message["type"] == "websocket.send":
                self.refused.set()
                raise Disconnected("Attempt to send on a closed protocol")
            await send(message)

        await application(scope, receive, server_send)


async def test_an_event_meeting_a_socket_that_just_closed_is_dropped_quietly(
    alice: User, bob: User, friends: None, room: Room, caplog: pytest.LogCaptureFixture
) -> None:
    host, _ = await host_in(room, alice)
    result = await join(room, me(bob))
    server = ClientClosedServer()
    communicator = WebsocketCommunicator(
        server, f"/ws/rooms/{room.token}/?ticket={result.ticket}", headers=[HOST, ORIGIN]
    )
    assert (await communicator.connect(timeout=5))[0]
    member = Socket(communicator)
    await member.expect("snapshot")
    server.client_closed = True
    await host.send({"type": "room.lock", "locked": True})
    await host.expect("room.locked")
    await asyncio.wait_for(server.refused.wait(), timeout=5)
    # The socket's consumer lived on: the disconnect is handled like any other.
    await member.close()
    await host.expect(
        "room.participant_updated", where=about(result.participant.pk, connected=False)
    )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await host.close()


async def test_people_in_the_room_never_hear_of_lobby_visitors(
    alice: User, bob: User, charlie: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    member, _ = await enter(room, me(bob))
    await member.expect("snapshot")
    visitor, visit = await enter(room, me(charlie))
    await visitor.expect("lobby.status")
    await visitor.send({"type": "leave"})
    await visitor.expect("left")
    left = await host.expect("room.participant_left", where=about(visit.participant.pk))
    assert left["participant"]["display_name"] == "Charlie"  # hosts see who gave up
    await host.send({"type": "ping"})
    await host.expect("pong")
    heard = [m for m in member.seen if m["type"] != "snapshot"]
    assert all(
        "participant" not in m or m["participant"]["id"] != visit.participant.pk for m in heard
    )
    for socket in (member, host):
        await socket.close()


async def test_snapshot_on_request(alice: User, room: Room) -> None:
    host, first = await host_in(room, alice)
    await host.send({"type": "snapshot.request"})
    again = await host.expect("snapshot")
    assert again["version"] == first["version"]
    await host.close()


async def test_snapshot_plus_events_equals_a_fresh_snapshot(
    alice: User, bob: User, charlie: User, friends: None, room: Room
) -> None:
    host, snapshot = await host_in(room, alice)
    member, _ = await enter(room, me(bob))
    await member.expect("snapshot")
    stranger, stranger_join = await enter(room, me(charlie))
    await stranger.expect("lobby.status")
    visitor, visitor_join = await enter(room, guest())
    actions: list[dict[str, Any]] = [
        {"type": "lobby.admit", "participant_ids": [stranger_join.participant.pk]},
        {"type": "participant.mute", "participant_id": stranger_join.participant.pk},
        {"type": "room.lock", "locked": True},
        {"type": "room.capacity", "capacity": 20},
        {"type": "lobby.deny", "participant_ids": [visitor_join.participant.pk]},
        {"type": "participant.remove", "participant_id": stranger_join.participant.pk},
        {"type": "room.lock", "locked": False},
    ]
    for action in actions:
        await host.send(action)
    await member.send({"type": "hand.set", "raised": True})
    await member.send({"type": "leave"})
    # A socket handles its messages in order: once these answer, every action is done.
    await host.send({"type": "ping"})
    await host.expect("pong", timeout=5)
    await member.expect("left", timeout=5)
    await visitor.close()
    await stranger.close()
    # The host applies every event it heard after its first snapshot ...
    target = (await fresh(room)).version
    view: events.Snapshot | None = {k: snapshot[k] for k in ("version", "room", "roster", "lobby")}  # type: ignore[assignment]
    heard = host.seen[host.seen.index(snapshot) + 1 :]
    while view is not None and view["version"] < target:
        message = heard.pop(0) if heard else await host.next()
        if "version" in message and message["type"] != "snapshot":
            view = events.apply_event(view, message)
    # ... and ends with what a fresh snapshot says.
    await host.send({"type": "snapshot.request"})
    now = await host.expect("snapshot")
    assert view == {k: now[k] for k in ("version", "room", "roster", "lobby")}
    await host.close()


async def test_apply_event_detects_gaps_and_ignores_stale(alice: User, room: Room) -> None:
    host, snapshot = await host_in(room, alice)
    view: events.Snapshot = {k: snapshot[k] for k in ("version", "room", "roster")}  # type: ignore[assignment]
    stale = {"type": "room.locked", "version": view["version"], "room": view["room"]}
    assert events.apply_event(view, stale) == view
    gap = {"type": "room.locked", "version": view["version"] + 2, "room": view["room"]}
    assert events.apply_event(view, gap) is None
    await host.close()


# --- reconnect ----------------------------------------------------------------------------


async def test_resume_keeps_the_seat_even_when_locked(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    member, member_join = await enter(room, me(bob))
    resume_token = member.seen[0]["resume_token"]
    await member.expect("snapshot")
    await member.close()  # the connection drops
    await host.expect(
        "room.participant_updated", where=about(member_join.participant.pk, connected=False)
    )
    await host.send({"type": "room.lock", "locked": True})
    await host.expect("room.locked")
    bobs_browser = await session_cookie(bob)
    ok, back = await connect(room, f"resume={resume_token}", cookie=bobs_browser)
    assert ok
    await back.expect("hello")
    snapshot = await back.expect("snapshot")
    assert snapshot["you"]["id"] == member_join.participant.pk
    assert snapshot["you"]["connected"] is True
    # A resume token works once: the new connection got a new one.
    await back.close()
    assert not (await connect(room, f"resume={resume_token}", cookie=bobs_browser))[0]
    await host.close()


async def test_a_resume_that_fails_on_an_outage_keeps_its_token(
    alice: User, bob: User, friends: None, room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, _ = await host_in(room, alice)
    member, _ = await enter(room, me(bob))
    resume_token = member.seen[0]["resume_token"]
    await member.expect("snapshot")
    await member.close()
    bobs_browser = await session_cookie(bob)

    layer = get_channel_layer()
    real_group_send = layer.group_send

    async def redis_down(group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(layer, "group_send", redis_down)
    ok, refused = await connect(room, f"resume={resume_token}", cookie=bobs_browser)
    assert ok  # accepted, to be told to try again and closed with the code the client retries on
    assert (await refused.expect("error"))["code"] == "unavailable"
    assert await refused.expect_closed() == CLOSE_UNAVAILABLE
    monkeypatch.setattr(layer, "group_send", real_group_send)
    # The same token works once the outage is over.
    ok, back = await connect(room, f"resume={resume_token}", cookie=bobs_browser)
    assert ok
    await back.expect("hello")
    await back.close()
    await host.close()


async def test_an_api_client_resumes_with_its_token(
    alice: User, bob: User, charlie: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)

    def token_of(user: User, password: str) -> str:
        user.set_password(password)
        user.save()
        response = Client().post(
            "/api/auth/token/",
            {"username": user.username, "password": password},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        return f"Token {response.json()['token']}"

    bobs = await database_sync_to_async(token_of)(bob, "bob-secret-42")
    charlies = await database_sync_to_async(token_of)(charlie, "charlie-secret-42")
    # An API client: the join API with its token, the socket with the ticket, then a drop.
    api = Client(headers={"Authorization": bobs})
    joined = await api_join(api, room)
    ok, first = await connect(room, f"ticket={joined['ticket']}", authorization=bobs)
    assert ok
    resume_token = (await first.expect("hello"))["resume_token"]
    await first.close()
    # Another account's token does not take the seat; its own does.
    assert not (await connect(room, f"resume={resume_token}", authorization=charlies))[0]
    ok, back = await connect(room, f"resume={resume_token}", authorization=bobs)
    assert ok
    assert (await back.expect("snapshot"))["you"]["id"] == joined["participant"]["id"]
    await back.close()
    await host.close()


async def test_a_resume_token_works_only_for_its_owner(
    alice: User, bob: User, charlie: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    member, _ = await enter(room, me(bob))
    resume_token = member.seen[0]["resume_token"]
    await member.expect("snapshot")
    # Someone who got hold of the token (a proxy log) can't take the seat over: not signed
    # out, not as another account.
    assert not (await connect(room, f"resume={resume_token}"))[0]
    assert not (
        await connect(room, f"resume={resume_token}", cookie=await session_cookie(charlie))
    )[0]
    assert await member.silent()  # and the owner's socket was left alone
    await member.close()
    await host.close()


async def test_a_guest_resumes_with_the_cookie_the_join_api_set(alice: User, room: Room) -> None:
    host, _ = await host_in(room, alice)
    await host.send({"type": "room.waiting_room", "waiting_room": False})
    await host.expect("room.updated")
    visitor_browser, stranger_browser = Client(), Client()
    joined = await api_join(visitor_browser, room, "Visitor")
    await api_join(stranger_browser, room, "Stranger")
    ok, visitor = await connect(room, f"ticket={joined['ticket']}")
    assert ok
    resume_token = (await visitor.expect("hello"))["resume_token"]
    await visitor.expect("snapshot")
    await visitor.close()
    # Another guest's cookie (as the join API set it) does not take the seat...
    assert not (
        await connect(room, f"resume={resume_token}", cookie=cookie_header(stranger_browser))
    )[0]
    # ...the visitor's own does.
    ok, back = await connect(room, f"resume={resume_token}", cookie=cookie_header(visitor_browser))
    assert ok
    assert (await back.expect("snapshot"))["you"]["id"] == joined["participant"]["id"]
    await back.close()
    await host.close()


async def test_after_the_grace_period_the_seat_is_freed(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    host, _ = await host_in(room, alice)
    member, member_join = await enter(room, me(bob))
    resume_token = member.seen[0]["resume_token"]
    await member.expect("snapshot")
    await member.close()
    later = timezone.now() + timedelta(seconds=20)
    await database_sync_to_async(services.release_vanished_seats)(room_id=room.pk, now=later)
    left = await host.expect("room.participant_left")
    assert left["participant"]["id"] == member_join.participant.pk
    seat = await state(member_join.participant.pk)
    assert seat.state == ParticipantState.LEFT
    assert seat.left_at is not None and seat.left_at < later  # the time they vanished
    assert not (await connect(room, f"resume={resume_token}", cookie=await session_cookie(bob)))[0]
    await host.close()


async def test_embedded_mode_releases_the_seat_by_itself(
    alice: User, bob: User, friends: None, room: Room, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_RESUME_GRACE_SECONDS = 0
    settings.CELERY_TASK_ALWAYS_EAGER = True  # embedded mode: no broker, the loop times it
    host, _ = await host_in(room, alice)
    member, member_join = await enter(room, me(bob))
    await member.expect("snapshot")
    await member.close()
    left = await host.expect("room.participant_left", timeout=5)
    assert left["participant"]["id"] == member_join.participant.pk
    await host.close()


async def test_a_second_socket_replaces_the_first(alice: User, room: Room) -> None:
    first, _ = await host_in(room, alice)
    second, _ = await enter(room, me(alice))
    await first.expect("replaced")
    assert await first.expect_closed() == CLOSE_REPLACED
    await second.expect("snapshot")
    seat = await host_seat(room, alice)
    assert seat.disconnected_at is None  # the replaced socket did not mark the seat dropped
    await second.close()


async def test_no_group_membership_is_left_behind(
    alice: User, bob: User, friends: None, room: Room
) -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    host, host_join = await enter(room, me(alice))
    await host.expect("snapshot")
    member, member_join = await enter(room, me(bob))
    await member.expect("snapshot")
    await member.send({"type": "leave"})
    await member.expect_closed()
    await host.close()
    ours = {
        events.room_group(room.pk),
        events.participant_group(host_join.participant.pk),
        events.participant_group(member_join.participant.pk),
    }
    assert {group: layer.groups[group] for group in ours if layer.groups.get(group)} == {}

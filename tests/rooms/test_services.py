from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from accounts.models import User
from accounts.services import user_block, user_suspend
from bench.passwords import Clock
from rooms import services
from rooms.errors import Conflict, DomainError, Forbidden, Gone, InvalidInput, NotFound
from rooms.models import (
    AuditEvent,
    Ban,
    CoHost,
    Invitation,
    LobbyReason,
    Participant,
    ParticipantState,
    Report,
    ReportStatus,
    Role,
    Room,
    RoomState,
)
from rooms.policy import Outcome, Reason
from rooms.services import Identity, JoinDenied, admission
from tests.factories import UserFactory, befriend

pytestmark = pytest.mark.django_db


def me(user: User) -> Identity:
    return Identity(user=user, device_id=f"dev-{user.pk}")


def guest(name: str = "Gus", gid: str = "g-1", device: str = "d-1") -> Identity:
    return Identity(guest_id=gid, device_id=device, display_name=name, client_key="10.0.0.9")


def make_room(host: User, **kwargs: object) -> Room:
    return services.room_create(host=host, title="Friday chat", **kwargs)  # type: ignore[arg-type]


def arrive(room: Room, identity: Identity) -> services.JoinResult:
    """Join, then connect the socket, as a browser does."""
    result = services.room_join(token=room.token, identity=identity)
    services.participant_connected(participant_id=result.participant.pk)
    result.participant.refresh_from_db()
    return result


def open_room(host: User, **kwargs: object) -> Room:
    room = make_room(host, **kwargs)
    arrive(room, me(host))
    room.refresh_from_db()
    return room


def state_of(participant: Participant) -> str:
    participant.refresh_from_db()
    return participant.state


# --- create / update ----------------------------------------------------------------------


def test_create_room_defaults(alice: User) -> None:
    room = make_room(alice)
    assert room.state == RoomState.SCHEDULED
    assert room.capacity == 50
    assert room.waiting_room is True
    assert len(room.token) >= 22  # >= 128 bits of URL-safe base64
    assert AuditEvent.objects.filter(room=room, kind="room.created").exists()
    assert room.version == 1


def test_tokens_are_unique_and_url_safe(alice: User) -> None:
    tokens = {make_room(alice).token for _ in range(20)}
    assert len(tokens) == 20
    assert all(t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_password_is_hashed(alice: User) -> None:
    room = make_room(alice, password="s3cret-words")
    assert room.has_password
    assert "s3cret" not in room.password_hash


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"title": ""}, "title_required"),
        ({"title": "x" * 121}, "title_too_long"),
        ({"description": "x" * 2001}, "description_too_long"),
        ({"capacity": 0}, "invalid_capacity"),
        ({"capacity": 51}, "invalid_capacity"),
        ({"audience": "everyone"}, "invalid_audience"),
        ({"scheduled_start": timezone.now() - timedelta(hours=1)}, "start_in_past"),
        ({"password": "p" * 129}, "password_too_long"),
        ({"password": "1"}, "password_too_short"),
        ({"password": "7chars!"}, "password_too_short"),
    ],
)
def test_create_validates(alice: User, kwargs: dict[str, object], code: str) -> None:
    params: dict[str, object] = {"title": "ok", **kwargs}
    with pytest.raises(InvalidInput) as err:
        services.room_create(host=alice, **params)  # type: ignore[arg-type]
    assert err.value.code == code
    assert not Room.objects.exists()


def test_start_within_grace_is_accepted(alice: User) -> None:
    room = make_room(alice, scheduled_start=timezone.now() - timedelta(minutes=2))
    assert room.scheduled_start is not None


def test_suspended_user_cannot_create(alice: User) -> None:
    user_suspend(user=alice)
    with pytest.raises(Forbidden):
        make_room(alice)


def test_create_with_invitees(alice: User, bob: User, charlie: User) -> None:
    befriend(alice, bob)
    befriend(alice, charlie)
    room = make_room(alice, audience="invite_only", invitee_ids=[bob.pk, charlie.pk])
    assert set(Invitation.objects.filter(room=room).values_list("user_id", flat=True)) == {
        bob.pk,
        charlie.pk,
    }


def test_update_by_host(alice: User) -> None:
    room = make_room(alice)
    services.room_update(room=room, actor=alice, title="New", capacity=10, password="8 chars!")
    room.refresh_from_db()
    assert (room.title, room.capacity, room.has_password) == ("New", 10, True)
    services.room_update(room=room, actor=alice, password="")
    room.refresh_from_db()
    assert not room.has_password


def test_update_refuses_outsider_and_unknown_fields(alice: User, charlie: User) -> None:
    room = make_room(alice)
    with pytest.raises(Forbidden):
        services.room_update(room=room, actor=charlie, title="Mine now")
    with pytest.raises(InvalidInput):
        services.room_update(room=room, actor=alice, host=charlie)
    room.refresh_from_db()
    assert room.title == "Friday chat"


def test_cohost_can_update(alice: User, bob: User) -> None:
    room = make_room(alice)
    services.cohost_add(room=room, actor=alice, user=bob)
    services.room_update(room=room, actor=bob, waiting_room=False)
    room.refresh_from_db()
    assert room.waiting_room is False


# --- joining ------------------------------------------------------------------------------


def test_host_opens_room_on_arrival(alice: User) -> None:
    room = make_room(alice)
    result = services.room_join(token=room.token, identity=me(alice))
    room.refresh_from_db()
    assert room.state == RoomState.SCHEDULED  # joined, not yet connected
    services.participant_connected(participant_id=result.participant.pk)
    room.refresh_from_db()
    assert room.state == RoomState.OPEN
    assert room.opened_at is not None
    assert result.decision.outcome == Outcome.ADMIT
    assert result.participant.role == Role.HOST
    assert result.participant.joined_at is not None


def test_friend_waits_for_host_then_is_admitted_when_host_arrives(
    alice: User, bob: User, friends: None
) -> None:
    room = make_room(alice)
    waiting = services.room_join(token=room.token, identity=me(bob))
    assert waiting.decision.reason == Reason.WAITING_FOR_HOST
    assert waiting.participant.state == ParticipantState.LOBBY
    arrive(room, me(alice))
    assert state_of(waiting.participant) == ParticipantState.ADMITTED


def test_stranger_waiting_for_host_moves_to_waiting_room(alice: User, charlie: User) -> None:
    room = make_room(alice)
    waiting = services.room_join(token=room.token, identity=me(charlie))
    arrive(room, me(alice))
    waiting.participant.refresh_from_db()
    assert waiting.participant.state == ParticipantState.LOBBY
    assert waiting.participant.lobby_reason == LobbyReason.WAITING_ROOM


def test_guest_lands_in_lobby_and_host_admits(alice: User) -> None:
    room = open_room(alice)
    result = services.room_join(token=room.token, identity=guest())
    assert result.decision == services.Decision(Outcome.LOBBY, Reason.WAITING_ROOM)
    assert result.participant.display_name == "Gus"
    services.lobby_admit(room=room, actor=alice, participant_ids=[result.participant.pk])
    assert state_of(result.participant) == ParticipantState.ADMITTED


def test_guest_needs_a_name(alice: User) -> None:
    room = open_room(alice)
    with pytest.raises(InvalidInput) as err:
        services.room_join(token=room.token, identity=guest(name="  "))
    assert err.value.code == "display_name_required"


def test_join_is_idempotent(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    first = services.room_join(token=room.token, identity=me(bob))
    second = services.room_join(token=room.token, identity=me(bob))
    assert first.participant.pk == second.participant.pk
    assert Participant.objects.filter(room=room, user=bob).count() == 1


def test_unknown_token_and_blocked_host_look_the_same(alice: User, charlie: User) -> None:
    room = open_room(alice)
    user_block(blocker=alice, blocked=charlie)
    with pytest.raises(NotFound) as blocked:
        services.room_join(token=room.token, identity=me(charlie))
    with pytest.raises(NotFound) as unknown:
        services.room_join(token="nope" * 8, identity=me(charlie))
    assert (blocked.value.code, blocked.value.message) == (
        unknown.value.code,
        unknown.value.message,
    )


def test_blocking_the_host_also_keeps_you_out(alice: User, charlie: User) -> None:
    room = open_room(alice)
    user_block(blocker=charlie, blocked=alice)
    with pytest.raises(NotFound):
        services.room_join(token=room.token, identity=me(charlie))


def test_suspended_host_cannot_join_own_room(alice: User) -> None:
    room = make_room(alice)
    user_suspend(user=alice)
    with pytest.raises(JoinDenied) as err:
        services.room_join(token=room.token, identity=me(alice))
    assert err.value.code == "suspended"


def test_blocked_relation_learns_nothing_of_ended_room(alice: User, charlie: User) -> None:
    room = open_room(alice)
    services.room_end(room=room, actor=alice)
    user_block(blocker=alice, blocked=charlie)
    with pytest.raises(NotFound):
        services.room_join(token=room.token, identity=me(charlie))


def test_suspended_user_cannot_join(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    user_suspend(user=bob)
    with pytest.raises(JoinDenied) as err:
        services.room_join(token=room.token, identity=me(bob))
    assert err.value.code == "suspended"


def test_ended_room(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    services.room_end(room=room, actor=alice)
    with pytest.raises(JoinDenied) as err:
        services.room_join(token=room.token, identity=me(bob))
    assert (err.value.code, err.value.status) == ("room_ended", 410)


def test_password_rules_and_back_off(
    alice: User, bob: User, friends: None, limiter_clock: Clock
) -> None:
    """Past ROOMS_PASSWORD_ATTEMPTS wrong passwords, each further try waits for a back-off;
    the right password is not even checked until it has passed."""
    room = open_room(alice, password="open sesame")
    with pytest.raises(JoinDenied) as err:
        services.room_join(token=room.token, identity=me(bob))
    assert err.value.code == "password_required"
    for _ in range(5):
        with pytest.raises(JoinDenied) as err:
            services.room_join(token=room.token, identity=me(bob), password="guess")
        assert err.value.code == "wrong_password"
    with pytest.raises(JoinDenied) as err:
        services.room_join(token=room.token, identity=me(bob), password="open sesame")
    assert (err.value.code, err.value.status, err.value.retry_after) == (
        "too_many_attempts",
        429,
        1,
    )
    assert not Participant.objects.filter(room=room, user=bob).exists()
    limiter_clock.now += 1
    result = services.room_join(token=room.token, identity=me(bob), password="open sesame")
    assert result.decision.outcome == Outcome.ADMIT


def test_password_budget_is_per_room_across_identities(alice: User, limiter_clock: Clock) -> None:
    """Fresh guest identities from one address: the room checks its budget, then refuses
    without checking; another room is not affected."""
    room = open_room(alice, password="open sesame")
    other = open_room(alice, password="open sesame")
    codes = []
    for n in range(15):
        with pytest.raises(JoinDenied) as err:
            services.room_join(token=room.token, identity=guest(gid=f"g{n}"), password="x" * 8)
        codes.append(err.value.code)
    assert codes == ["wrong_password"] * 10 + ["too_many_attempts"] * 5
    joined = services.room_join(token=other.token, identity=guest(gid="g0"), password="open sesame")
    assert joined.decision.outcome == Outcome.LOBBY


def test_right_password_gets_in(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice, password="open sesame")
    result = services.room_join(token=room.token, identity=me(bob), password="open sesame")
    assert result.decision.outcome == Outcome.ADMIT


def test_host_needs_no_password(alice: User) -> None:
    room = make_room(alice, password="password")
    assert services.room_join(token=room.token, identity=me(alice)).decision.outcome == "admit"


def test_invite_only_room(alice: User, bob: User, charlie: User, friends: None) -> None:
    befriend(alice, charlie)
    room = open_room(alice, audience="invite_only", invitee_ids=[charlie.pk])
    invited = services.room_join(token=room.token, identity=me(charlie))
    uninvited_friend = services.room_join(token=room.token, identity=me(bob))
    assert invited.decision.outcome == Outcome.ADMIT
    assert uninvited_friend.decision == services.Decision(Outcome.LOBBY, Reason.WAITING_ROOM)


def test_waiting_room_off_admits_link_holders(alice: User, charlie: User) -> None:
    room = open_room(alice, waiting_room=False)
    assert services.room_join(token=room.token, identity=me(charlie)).decision.outcome == "admit"


def test_turning_waiting_room_off_lets_lobby_in(alice: User) -> None:
    room = open_room(alice)
    waiting = services.room_join(token=room.token, identity=guest()).participant
    services.room_set_waiting_room(room=room, actor=alice, enabled=False)
    assert state_of(waiting) == ParticipantState.ADMITTED


def test_full_room(alice: User) -> None:
    room = open_room(alice, capacity=2, waiting_room=False)
    services.room_join(token=room.token, identity=guest(gid="a"))
    with pytest.raises(JoinDenied) as err:
        services.room_join(token=room.token, identity=guest(gid="b"))
    assert err.value.code == "room_full"


def test_locked_room_keeps_newcomers_out_but_resume_works(
    alice: User, bob: User, friends: None
) -> None:
    room = open_room(alice)
    t0 = timezone.now()
    seat = services.room_join(token=room.token, identity=me(bob), now=t0).participant
    services.room_leave(room=room, identity=me(bob), now=t0 + timedelta(seconds=1))
    services.room_set_locked(room=room, actor=alice, locked=True)
    with pytest.raises(JoinDenied) as err:
        services.room_join(token=room.token, identity=guest())
    assert err.value.code == "locked"
    back = services.room_join(token=room.token, identity=me(bob), now=t0 + timedelta(seconds=10))
    assert back.decision.reason == Reason.RESUMING
    assert back.participant.pk == seat.pk  # the same seat, the same join time
    assert state_of(seat) == ParticipantState.ADMITTED


def test_resume_after_grace_is_refused_when_locked(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    t0 = timezone.now()
    services.room_join(token=room.token, identity=me(bob), now=t0)
    services.room_leave(room=room, identity=me(bob), now=t0)
    services.room_set_locked(room=room, actor=alice, locked=True)
    with pytest.raises(JoinDenied):
        services.room_join(token=room.token, identity=me(bob), now=t0 + timedelta(seconds=20))


def test_full_room_resume_within_grace(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice, capacity=2)
    t0 = timezone.now()
    services.room_join(token=room.token, identity=me(bob), now=t0)
    services.room_leave(room=room, identity=me(bob), now=t0)
    services.room_update(room=room, actor=alice, waiting_room=False)
    services.room_join(token=room.token, identity=guest(), now=t0)  # takes the free seat
    back = services.room_join(token=room.token, identity=me(bob), now=t0 + timedelta(seconds=5))
    assert back.decision.reason == Reason.RESUMING


# --- tickets ------------------------------------------------------------------------------


def test_ticket_is_single_use(alice: User) -> None:
    room = make_room(alice)
    result = services.room_join(token=room.token, identity=me(alice))
    participant = services.join_ticket_redeem(ticket=result.ticket, room_token=room.token)
    assert participant.pk == result.participant.pk
    with pytest.raises(Forbidden):
        services.join_ticket_redeem(ticket=result.ticket, room_token=room.token)


def test_only_newest_ticket_is_valid(alice: User) -> None:
    room = make_room(alice)
    old = services.room_join(token=room.token, identity=me(alice)).ticket
    new = services.room_join(token=room.token, identity=me(alice)).ticket
    with pytest.raises(Forbidden):
        services.join_ticket_redeem(ticket=old, room_token=room.token)
    services.join_ticket_redeem(ticket=new, room_token=room.token)


def test_ticket_for_another_room_is_refused(alice: User) -> None:
    room = make_room(alice)
    other = make_room(alice)
    ticket = services.room_join(token=room.token, identity=me(alice)).ticket
    with pytest.raises(Forbidden):
        services.join_ticket_redeem(ticket=ticket, room_token=other.token)


def test_expired_and_forged_tickets_are_refused(alice: User, settings) -> None:  # type: ignore[no-untyped-def]
    room = make_room(alice)
    ticket = services.room_join(token=room.token, identity=me(alice)).ticket
    settings.ROOMS_JOIN_TICKET_TTL_SECONDS = -1
    with pytest.raises(Forbidden):
        services.join_ticket_redeem(ticket=ticket, room_token=room.token)
    settings.ROOMS_JOIN_TICKET_TTL_SECONDS = 60
    forged = signing.dumps({"p": 1, "r": room.pk, "n": "x"}, salt="other")
    for bad in (forged, "", "garbage", ticket + "x"):
        with pytest.raises(Forbidden):
            services.join_ticket_redeem(ticket=bad, room_token=room.token)


def test_ticket_dies_with_removal(alice: User) -> None:
    room = open_room(alice)
    result = services.room_join(token=room.token, identity=guest())
    services.participant_remove(room=room, actor=alice, participant_id=result.participant.pk)
    with pytest.raises(Forbidden):
        services.join_ticket_redeem(ticket=result.ticket, room_token=room.token)


# --- leaving, host presence ---------------------------------------------------------------


def test_last_host_leaving_locks_room_and_nobody_is_promoted(
    alice: User, bob: User, friends: None
) -> None:
    room = open_room(alice)
    bob_seat = services.room_join(token=room.token, identity=me(bob)).participant
    services.room_leave(room=room, identity=me(alice))
    room.refresh_from_db()
    assert room.locked is True
    bob_seat.refresh_from_db()
    assert (bob_seat.state, bob_seat.role) == (ParticipantState.ADMITTED, Role.PARTICIPANT)
    assert AuditEvent.objects.filter(room=room, kind="room.locked").exists()


def test_cohost_presence_keeps_room_unlocked(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    services.cohost_add(room=room, actor=alice, user=bob)
    arrive(room, me(bob))
    services.room_leave(room=room, identity=me(alice))
    room.refresh_from_db()
    assert room.locked is False


def test_leave_records_time(alice: User) -> None:
    room = open_room(alice)
    left = services.room_leave(room=room, identity=me(alice))
    assert left.state == ParticipantState.LEFT
    assert left.left_at is not None


def test_leave_when_not_in_room(alice: User, charlie: User) -> None:
    room = open_room(alice)
    with pytest.raises(NotFound):
        services.room_leave(room=room, identity=me(charlie))


# --- lobby --------------------------------------------------------------------------------


def test_admit_all_fills_free_seats_oldest_first(alice: User) -> None:
    room = open_room(alice, capacity=3)
    waiting = [
        services.room_join(token=room.token, identity=guest(gid=f"g{i}")).participant
        for i in range(4)
    ]
    admitted = services.lobby_admit(room=room, actor=alice)
    assert [p.pk for p in admitted] == [waiting[0].pk, waiting[1].pk]
    assert state_of(waiting[3]) == ParticipantState.LOBBY


def test_admit_named_into_full_room_is_refused(alice: User) -> None:
    room = open_room(alice, capacity=2)
    first = services.room_join(token=room.token, identity=guest(gid="a")).participant
    second = services.room_join(token=room.token, identity=guest(gid="b")).participant
    with pytest.raises(Conflict):
        services.lobby_admit(room=room, actor=alice, participant_ids=[first.pk, second.pk])
    assert state_of(first) == state_of(second) == ParticipantState.LOBBY


def test_deny(alice: User) -> None:
    room = open_room(alice)
    waiting = services.room_join(token=room.token, identity=guest()).participant
    services.lobby_deny(room=room, actor=alice, participant_ids=[waiting.pk])
    assert state_of(waiting) == ParticipantState.DENIED


def test_deny_all(alice: User) -> None:
    room = open_room(alice)
    for i in range(3):
        services.room_join(token=room.token, identity=guest(gid=f"g{i}"))
    assert len(services.lobby_deny(room=room, actor=alice)) == 3
    assert not Participant.objects.filter(room=room, state=ParticipantState.LOBBY).exists()


def test_lobby_controls_refuse_participants(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    services.room_join(token=room.token, identity=me(bob))
    waiting = services.room_join(token=room.token, identity=guest()).participant
    for action in (services.lobby_admit, services.lobby_deny):
        with pytest.raises(Forbidden):
            action(room=room, actor=bob, participant_ids=[waiting.pk])
    assert state_of(waiting) == ParticipantState.LOBBY


def test_admitting_someone_not_in_lobby(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    seat = services.room_join(token=room.token, identity=me(bob)).participant
    with pytest.raises(NotFound):
        services.lobby_admit(room=room, actor=alice, participant_ids=[seat.pk])


def test_lobby_ids_from_another_room_are_ignored(alice: User, bob: User) -> None:
    room = open_room(alice)
    other = open_room(bob)
    stranger = services.room_join(token=other.token, identity=guest()).participant
    with pytest.raises(NotFound):
        services.lobby_admit(room=room, actor=alice, participant_ids=[stranger.pk])
    assert state_of(stranger) == ParticipantState.LOBBY


# --- removal and bans ---------------------------------------------------------------------


def test_remove_bans_account(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    seat = services.room_join(token=room.token, identity=me(bob)).participant
    services.participant_remove(room=room, actor=alice, participant_id=seat.pk, reason="rude")
    assert state_of(seat) == ParticipantState.REMOVED
    with pytest.raises(JoinDenied) as err:
        services.room_join(token=room.token, identity=me(bob))
    assert err.value.code == "banned"


def test_remove_bans_guest_identity_and_device(alice: User) -> None:
    room = open_room(alice, waiting_room=False)
    seat = services.room_join(token=room.token, identity=guest(gid="g1", device="d1")).participant
    services.participant_remove(room=room, actor=alice, participant_id=seat.pk)
    for comeback in (guest(gid="g1", device="new"), guest(gid="new", device="d1")):
        with pytest.raises(JoinDenied):
            services.room_join(token=room.token, identity=comeback)
    # A different person on another device is not affected.
    assert services.room_join(token=room.token, identity=guest(gid="g2", device="d2"))


def test_lifting_ban_lets_them_back(alice: User) -> None:
    room = open_room(alice, waiting_room=False)
    seat = services.room_join(token=room.token, identity=guest()).participant
    ban = services.participant_remove(room=room, actor=alice, participant_id=seat.pk)
    services.ban_lift(room=room, actor=alice, ban_id=ban.pk)
    assert services.room_join(token=room.token, identity=guest()).decision.outcome == "admit"


def test_host_cannot_be_removed(alice: User, bob: User) -> None:
    room = open_room(alice)
    services.cohost_add(room=room, actor=alice, user=bob)
    host_seat = Participant.objects.get(room=room, user=alice)
    with pytest.raises(Forbidden):
        services.participant_remove(room=room, actor=bob, participant_id=host_seat.pk)


def test_cohost_cannot_remove_cohost_but_host_can(alice: User, bob: User, charlie: User) -> None:
    room = open_room(alice)
    services.cohost_add(room=room, actor=alice, user=bob)
    services.cohost_add(room=room, actor=alice, user=charlie)
    charlie_seat = services.room_join(token=room.token, identity=me(charlie)).participant
    with pytest.raises(Forbidden):
        services.participant_remove(room=room, actor=bob, participant_id=charlie_seat.pk)
    services.participant_remove(room=room, actor=alice, participant_id=charlie_seat.pk)
    assert not CoHost.objects.filter(room=room, user=charlie).exists()


def test_participant_cannot_remove(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice, waiting_room=False)
    services.room_join(token=room.token, identity=me(bob))
    other = services.room_join(token=room.token, identity=guest()).participant
    with pytest.raises(Forbidden):
        services.participant_remove(room=room, actor=bob, participant_id=other.pk)
    assert state_of(other) == ParticipantState.ADMITTED
    assert not Ban.objects.exists()


def test_removing_from_another_room_is_refused(alice: User, bob: User) -> None:
    room = open_room(alice)
    other = open_room(bob, waiting_room=False)
    victim = services.room_join(token=other.token, identity=guest()).participant
    with pytest.raises(NotFound):
        services.participant_remove(room=room, actor=alice, participant_id=victim.pk)
    assert state_of(victim) == ParticipantState.ADMITTED


# --- co-hosts -----------------------------------------------------------------------------


def test_cohost_is_admitted_and_opens_room(alice: User, bob: User, charlie: User) -> None:
    room = make_room(alice)
    services.cohost_add(room=room, actor=alice, user=bob)
    waiting = services.room_join(token=room.token, identity=me(charlie)).participant
    result = arrive(room, me(bob))
    assert result.participant.role == Role.COHOST
    room.refresh_from_db()
    assert room.state == RoomState.OPEN
    waiting.refresh_from_db()
    assert waiting.lobby_reason == LobbyReason.WAITING_ROOM


def test_cohost_waiting_in_lobby_is_let_in(alice: User, bob: User) -> None:
    room = open_room(alice)
    waiting = services.room_join(token=room.token, identity=me(bob)).participant
    services.cohost_add(room=room, actor=alice, user=bob)
    waiting.refresh_from_db()
    assert (waiting.state, waiting.role) == (ParticipantState.ADMITTED, Role.COHOST)


def test_only_host_names_cohosts(alice: User, bob: User, charlie: User) -> None:
    room = open_room(alice)
    services.cohost_add(room=room, actor=alice, user=bob)
    with pytest.raises(Forbidden):
        services.cohost_add(room=room, actor=bob, user=charlie)
    with pytest.raises(Forbidden):
        services.cohost_remove(room=room, actor=bob, user_id=bob.pk)


def test_cohost_remove_demotes(alice: User, bob: User) -> None:
    room = open_room(alice)
    services.cohost_add(room=room, actor=alice, user=bob)
    seat = services.room_join(token=room.token, identity=me(bob)).participant
    services.cohost_remove(room=room, actor=alice, user_id=bob.pk)
    seat.refresh_from_db()
    assert seat.role == Role.PARTICIPANT


def test_blocked_user_cannot_be_cohost(alice: User, charlie: User) -> None:
    room = open_room(alice)
    user_block(blocker=charlie, blocked=alice)
    with pytest.raises(NotFound):
        services.cohost_add(room=room, actor=alice, user=charlie)


# --- invitations --------------------------------------------------------------------------


def test_invite_and_uninvite(alice: User, bob: User, friends: None) -> None:
    room = make_room(alice, audience="invite_only")
    services.invitation_add(room=room, actor=alice, user_ids=[bob.pk])
    services.invitation_add(room=room, actor=alice, user_ids=[bob.pk])  # no duplicate
    assert Invitation.objects.filter(room=room).count() == 1
    services.invitation_remove(room=room, actor=alice, user_id=bob.pk)
    assert not Invitation.objects.exists()


def test_invite_refusals(alice: User, bob: User, charlie: User, friends: None) -> None:
    room = make_room(alice)
    with pytest.raises(Forbidden):
        services.invitation_add(room=room, actor=charlie, user_ids=[bob.pk])
    with pytest.raises(NotFound):
        services.invitation_add(room=room, actor=alice, user_ids=[999_999])
    with pytest.raises(InvalidInput, match="friends"):  # a stranger
        services.invitation_add(room=room, actor=alice, user_ids=[charlie.pk])
    user_block(blocker=bob, blocked=alice)
    with pytest.raises(InvalidInput, match="friends"):  # no longer a friend
        services.invitation_add(room=room, actor=alice, user_ids=[bob.pk])
    assert not Invitation.objects.exists()


# --- end, lock ----------------------------------------------------------------------------


def test_end_for_everyone(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    bob_seat = services.room_join(token=room.token, identity=me(bob)).participant
    waiting = services.room_join(token=room.token, identity=guest()).participant
    services.room_end(room=room, actor=alice)
    room.refresh_from_db()
    assert room.state == RoomState.ENDED
    assert room.ended_at is not None
    for seat in (bob_seat, waiting):
        seat.refresh_from_db()
        assert seat.state == ParticipantState.LEFT
        assert seat.left_at is not None
    with pytest.raises(Gone):
        services.room_set_locked(room=room, actor=alice, locked=True)


def test_end_refuses_participants_but_staff_may(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    with pytest.raises(Forbidden):
        services.room_end(room=room, actor=bob)
    staff = UserFactory(username="mod", is_staff=True)
    with pytest.raises(Forbidden):
        services.room_end(room=room, actor=staff)  # staff acts only as staff
    services.room_end(room=room, actor=staff, as_staff=True)
    room.refresh_from_db()
    assert room.state == RoomState.ENDED


def test_lock_is_audited_and_versioned(alice: User) -> None:
    room = open_room(alice)
    before = room.version
    services.room_set_locked(room=room, actor=alice, locked=True)
    services.room_set_locked(room=room, actor=alice, locked=True)  # no-op, no event
    room.refresh_from_db()
    assert room.version == before + 1
    event = AuditEvent.objects.filter(room=room).first()
    assert event is not None
    assert (event.kind, event.version, event.actor_id) == ("room.locked", room.version, alice.pk)


def test_versions_are_gap_free(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    services.room_join(token=room.token, identity=me(bob))
    services.room_set_locked(room=room, actor=alice, locked=True)
    services.room_end(room=room, actor=alice)
    versions = sorted(AuditEvent.objects.filter(room=room).values_list("version", flat=True))
    assert versions == list(range(1, len(versions) + 1))
    room.refresh_from_db()
    assert room.version == versions[-1]


def test_capacity_cannot_drop_below_the_people_inside(alice: User) -> None:
    room = open_room(alice, waiting_room=False)
    for i in range(3):
        services.room_join(token=room.token, identity=guest(gid=f"g{i}"))
    version = Room.objects.get(pk=room.pk).version
    with pytest.raises(InvalidInput) as refused:
        services.room_set_capacity(room=room, actor=alice, capacity=2)
    assert refused.value.code == "capacity_below_inside"
    assert "4 people are in the room now" in refused.value.message
    room.refresh_from_db()
    assert (room.capacity, room.version) != (2, version + 1) and room.version == version
    # At the number inside it is taken, and nobody new gets in.
    services.room_set_capacity(room=room, actor=alice, capacity=4)
    assert Participant.objects.filter(room=room, state=ParticipantState.ADMITTED).count() == 4
    with pytest.raises(JoinDenied) as err:
        services.room_join(token=room.token, identity=guest(gid="late"))
    assert err.value.code == "room_full"


# --- reports ------------------------------------------------------------------------------


def test_report_flow(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    services.room_join(token=room.token, identity=me(bob))
    alice_seat = Participant.objects.get(room=room, user=alice)
    report = services.report_create(
        room=room,
        identity=me(bob),
        reason="harassment",
        details="shouting",
        target_id=alice_seat.pk,
    )
    assert report.status == ReportStatus.OPEN
    staff = UserFactory(username="mod", is_staff=True)
    services.report_resolve(report=report, moderator=staff, note="Warned the host.")
    report.refresh_from_db()
    assert (report.status, report.resolved_by_id) == (ReportStatus.RESOLVED, staff.pk)
    with pytest.raises(Conflict):
        services.report_resolve(report=report, moderator=staff, note="again")


def test_report_refusals(alice: User, bob: User, charlie: User, friends: None) -> None:
    room = open_room(alice)
    with pytest.raises(Forbidden):
        services.report_create(room=room, identity=me(charlie), reason="spam")
    services.room_join(token=room.token, identity=me(bob))
    with pytest.raises(InvalidInput):
        services.report_create(room=room, identity=me(bob), reason="because")
    with pytest.raises(NotFound):
        services.report_create(room=room, identity=me(bob), reason="spam", target_id=10**9)
    lobby_guest = services.room_join(token=room.token, identity=guest()).participant
    with pytest.raises(NotFound):
        services.report_create(room=room, identity=me(bob), reason="spam", target_id=lobby_guest.pk)
    report = services.report_create(room=room, identity=me(bob), reason="spam")
    with pytest.raises(Forbidden):
        services.report_resolve(report=report, moderator=bob, note="mine")
    assert Report.objects.filter(status=ReportStatus.OPEN).count() == 1


def test_domain_errors_share_one_base() -> None:
    assert issubclass(JoinDenied, DomainError)


def test_after_a_self_lock_the_returning_host_finds_people_waiting_for_a_decision(
    alice: User, charlie: User
) -> None:
    room = open_room(alice)
    waiting = services.room_join(token=room.token, identity=me(charlie)).participant
    services.room_leave(room=room, identity=me(alice))  # the room locks itself
    waiting.refresh_from_db()
    assert waiting.lobby_reason == LobbyReason.WAITING_FOR_HOST
    arrive(room, me(alice))  # the host is back, the room is still locked
    waiting.refresh_from_db()
    assert (waiting.state, waiting.lobby_reason) == ("lobby", LobbyReason.WAITING_ROOM)


def test_unlocking_lets_in_those_the_lock_held_back(
    alice: User, bob: User, charlie: User, friends: None
) -> None:
    room = open_room(alice)
    host_seat = Participant.objects.get(room=room, user=alice)
    services.participant_disconnected(participant_id=host_seat.pk)  # a blip: seat kept
    friend = services.room_join(token=room.token, identity=me(bob)).participant
    stranger = services.room_join(token=room.token, identity=me(charlie)).participant
    services.room_set_locked(room=room, actor=alice, locked=True)
    services.participant_connected(participant_id=host_seat.pk)
    assert state_of(friend) == state_of(stranger) == ParticipantState.LOBBY
    services.room_set_locked(room=room, actor=alice, locked=False)
    assert state_of(friend) == ParticipantState.ADMITTED  # a friend walks in
    stranger.refresh_from_db()
    assert (stranger.state, stranger.lobby_reason) == ("lobby", LobbyReason.WAITING_ROOM)


def test_the_password_is_not_hashed_while_the_limiter_refuses(
    alice: User, bob: User, friends: None, settings, monkeypatch, limiter_clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_PASSWORD_ATTEMPTS = 1
    room = open_room(alice, password="password")
    with pytest.raises(JoinDenied):
        services.room_join(token=room.token, identity=me(bob), password="wrong")
    calls: list[str] = []
    monkeypatch.setattr(admission, "check_password", lambda *a: calls.append("hash") or True)
    with pytest.raises(JoinDenied) as err:
        services.room_join(token=room.token, identity=me(bob), password="password")
    assert (err.value.code, calls) == ("too_many_attempts", [])


def test_a_guest_in_a_signed_in_only_room_spends_no_password_budget(
    alice: User, monkeypatch, limiter_clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    room = open_room(alice, password="password", signed_in_only=True)
    calls: list[str] = []
    monkeypatch.setattr(admission, "check_password", lambda *a: calls.append("hash") or True)
    for n in range(20):
        with pytest.raises(JoinDenied) as err:
            services.room_join(token=room.token, identity=guest(gid=f"g{n}"), password="password")
        assert err.value.code == "sign_in_required"
    assert calls == []

"""Getting in: joining (the join decision, passwords, the join limiter), the lobby, join
tickets and resume tokens for the room socket.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from rooms import budget, metrics, ratelimit
from rooms.adapter import get_adapter
from rooms.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from rooms.models import (
    ACTIVE_STATES,
    Audience,
    AuditEvent,
    Ban,
    CoHost,
    Invitation,
    LobbyReason,
    Participant,
    ParticipantState,
    Role,
    Room,
    RoomState,
)
from rooms.policy import Decision, JoinFacts, Outcome, Reason, decide_join
from rooms.services._common import (
    PASSWORD_MAX,
    Identity,
    _actor_kind,
    _blocked_with_host,
    _lock_room,
    _now,
    _record,
    _require_moderator,
    _require_not_ended,
    _validate_text,
)
from rooms.services._seats import _active_visit, _release_vanished
from rooms.users import User

DISPLAY_NAME_MAX = 80


TICKET_SALT = "rooms.join-ticket"


RESUME_SALT = "rooms.resume"


class JoinDenied(DomainError):
    """The join decision said no. `code` is the policy's reason; `retry_after` (seconds) is set
    when trying again later may work (the API sends it as `Retry-After`)."""

    status = 403
    retry_after = 0


class JoinThrottled(DomainError):
    """Too many join attempts from one address in a room, or in one room overall."""

    status = 429

    def __init__(self, wait: float) -> None:
        self.retry_after = budget.retry_after(wait)
        super().__init__(
            "too_many_joins",
            ngettext(
                "Too many attempts to join this room. Try again in %(count)s second.",
                "Too many attempts to join this room. Try again in %(count)s seconds.",
                self.retry_after,
            )
            % {"count": self.retry_after},
        )


_DENY_STATUS = {Reason.ENDED: 410, Reason.TOO_MANY_ATTEMPTS: 429}
# The error code of a refusal is the policy's reason, except where the same condition has a
# code of its own elsewhere in the API: an ended room is `room_ended` and a full one
# `room_full`, whichever operation met it (a join's decision reason stays `ended` / `full`).
DENY_CODES = {Reason.ENDED: "room_ended", Reason.FULL: "room_full"}


_DENY_MESSAGES = {
    Reason.ENDED: gettext_lazy("This room has ended."),
    Reason.BANNED: gettext_lazy("You can't join this room."),
    Reason.SUSPENDED: gettext_lazy("Your account is suspended, so you can't join rooms."),
    Reason.SIGN_IN_REQUIRED: gettext_lazy(
        "The host lets only people signed in to the site into this room. Sign in, then join again."
    ),
    Reason.PASSWORD_REQUIRED: gettext_lazy("This room needs a password."),
    Reason.WRONG_PASSWORD: gettext_lazy("That password is not right."),
    Reason.TOO_MANY_ATTEMPTS: gettext_lazy(
        "Too many wrong passwords have been tried. Try again %(when)s."
    ),
    Reason.LOCKED: gettext_lazy("The host has locked this room."),
    Reason.HOST_AWAY: gettext_lazy(
        "The host stepped away. Nobody new can come in until they are back."
    ),
    Reason.FULL: gettext_lazy("This room is full."),
    Reason.LOBBY_FULL: gettext_lazy(
        "Too many people are waiting to join this room. Try again later."
    ),
}


@dataclass(frozen=True, slots=True)
class JoinResult:
    participant: Participant
    decision: Decision
    ticket: str


def _last_released_seat(room: Room, identity: Identity) -> Participant | None:
    visits = Participant.objects.filter(
        room=room, state=ParticipantState.LEFT, joined_at__isnull=False, left_at__isnull=False
    )
    if identity.user is not None:
        visits = visits.filter(user=identity.user)
    elif identity.guest_id:
        visits = visits.filter(guest_id=identity.guest_id, user__isnull=True)
    else:
        return None
    return visits.order_by("-left_at").first()


def is_banned(*, room: Room, identity: Identity) -> bool:
    """This account, guest identity or device was removed from the room (the room page asks
    before the pre-join screen turns a camera on; joining checks it again)."""
    return _is_banned(room, identity)


def _is_banned(room: Room, identity: Identity) -> bool:
    match = Q()
    if identity.user is not None:
        match |= Q(user=identity.user)
    if identity.guest_id:
        match |= Q(guest_id=identity.guest_id)
    if identity.device_id:
        match |= Q(device_id=identity.device_id)
    if not match:
        return False
    return Ban.objects.filter(room=room).filter(match).exists()


def _moderator_present(room: Room) -> bool:
    """A host or co-host is in the room with a live socket: only then do others get in."""
    return Participant.objects.filter(
        room=room,
        state=ParticipantState.ADMITTED,
        role__in=(Role.HOST, Role.COHOST),
        disconnected_at__isnull=True,
    ).exists()


def _admitted_count(room: Room) -> int:
    return Participant.objects.filter(room=room, state=ParticipantState.ADMITTED).count()


def _role_for(room: Room, user: User | None) -> Role:
    if user is None:
        return Role.PARTICIPANT
    if room.host_id == user.pk:
        return Role.HOST
    if CoHost.objects.filter(room=room, user=user).exists():
        return Role.COHOST
    return Role.PARTICIPANT


def _join_facts(
    room: Room,
    identity: Identity,
    *,
    role: Role,
    password: str | None,
    active: Participant | None,
    now: datetime,
    checked: PasswordCheck | None = None,
) -> JoinFacts:
    """`checked`: the password check `room_join` made (or was refused) outside the room lock.
    Passwords are checked only there, through the limiter; one checked against a password that
    has changed since counts as wrong."""
    user = identity.user
    password_ok = False
    exhausted = False
    if room.has_password and role == Role.PARTICIPANT and checked is not None:
        exhausted = checked.retry_after > 0
        password_ok = checked.password_hash == room.password_hash and checked.right
    released = None if active else _last_released_seat(room, identity)
    in_lobby = active is not None and active.state == ParticipantState.LOBBY
    return JoinFacts(
        room_ended=room.state == RoomState.ENDED,
        is_moderator=role != Role.PARTICIPANT,
        banned=_is_banned(room, identity),
        blocked=user is not None and _blocked_with_host(room, user),
        suspended=user is not None and not get_adapter().can_join_rooms(user),
        password_set=room.has_password,
        password_given=bool(password),
        password_ok=password_ok,
        password_attempts_exhausted=exhausted,
        locked=room.locked,
        admitted_count=_admitted_count(room),
        capacity=room.capacity,
        moderator_present=_moderator_present(room),
        audience_friends=room.audience == Audience.FRIENDS,
        is_friend=user is not None and get_adapter().are_friends(user, room.host),
        is_invited=user is not None and Invitation.objects.filter(room=room, user=user).exists(),
        waiting_room=room.waiting_room,
        holds_seat=active is not None and active.state == ParticipantState.ADMITTED,
        seat_released_at=released.left_at if released else None,
        resume_grace=timedelta(seconds=settings.ROOMS_RESUME_GRACE_SECONDS),
        before_start=_before_start(room, now),
        signed_in_only=room.signed_in_only,
        is_guest=user is None,
        # Only a newcomer can find the lobby full: no count for those already waiting.
        lobby_count=0 if in_lobby else _lobby_count(room),
        lobby_max=settings.ROOMS_LOBBY_MAX,
        in_lobby=in_lobby,
    )


def _lobby_count(room: Room) -> int:
    return Participant.objects.filter(room=room, state=ParticipantState.LOBBY).count()


def _before_start(room: Room, now: datetime) -> bool:
    return (
        room.state == RoomState.SCHEDULED
        and room.scheduled_start is not None
        and now < room.scheduled_start
    )


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    password_hash: str  # the room's password when it was checked
    right: bool
    retry_after: int = 0  # the limiter refused to check it for this long


def _check_password(row: Mapping[str, Any], password: str, identity: Identity) -> PasswordCheck:
    """Check a room password through the limiter (rooms/ratelimit.py): per person and address
    a back-off, per room a budget of wrong guesses; a refused check is not made at all."""
    password_hash: str = row["password_hash"]
    permit = ratelimit.password_check_permit(
        room_id=row["pk"],
        identity=identity.key,
        # An account is its own record wherever it signs in from: people behind one address
        # (an office, a proxy) don't inherit a guesser's record by signing in.
        address=identity.client_key if identity.user is None else "",
        fingerprint=hashlib.sha256(password_hash.encode()).hexdigest()[:16],
        vouched=_vouched_for(row, identity.user),
    )
    if not permit.allowed:
        return PasswordCheck(password_hash, right=False, retry_after=permit.retry_after)
    right = False
    try:
        right = check_password(password, password_hash)
    finally:
        ratelimit.password_check_done(permit, right=right)
    return PasswordCheck(password_hash, right=right)


def _vouched_for(row: Mapping[str, Any], user: User | None) -> bool:
    """The host asked this person in: invited, or a friend in an all-friends room."""
    if user is None:
        return False
    if Invitation.objects.filter(room_id=row["pk"], user=user).exists():
        return True
    host = get_user_model()(pk=row["host_id"])
    return row["audience"] == Audience.FRIENDS and get_adapter().are_friends(user, host)


def _password_applies(row: Mapping[str, Any], identity: Identity) -> bool:
    """Whether the policy will read this person's password: not for the host and co-hosts, nor
    for a guest in a room for signed-in people only (refused before the password). Checking it
    anyway would spend the room's budget on answers nobody gets."""
    user = identity.user
    if user is None:
        return not row["signed_in_only"]
    if user.pk == row["host_id"]:
        return False
    return not CoHost.objects.filter(room_id=row["pk"], user=user).exists()


def _issue_ticket(participant: Participant) -> str:
    """A signed, single-use ticket for the room WebSocket; only the newest one is valid."""
    participant.ticket_nonce = secrets.token_urlsafe(16)
    Participant.objects.filter(pk=participant.pk).update(ticket_nonce=participant.ticket_nonce)
    return signing.dumps(
        {"p": participant.pk, "r": participant.room_id, "n": participant.ticket_nonce},
        salt=TICKET_SALT,
    )


def _open_room(room: Room, actor: User | None, now: datetime) -> None:
    if room.state == RoomState.SCHEDULED:
        room.state = RoomState.OPEN
        room.opened_at = now
        room.save(update_fields=["state", "opened_at"])
        _record(room, "room.opened", actor=actor)


def _admit(room: Room, participant: Participant, now: datetime, *, actor: User | None) -> None:
    participant.state = ParticipantState.ADMITTED
    participant.lobby_reason = ""
    participant.joined_at = participant.joined_at or now
    participant.left_at = None
    participant.save(update_fields=["state", "lobby_reason", "joined_at", "left_at"])
    _record(room, "participant.admitted", actor=actor, target=participant)


def _admit_lobby(room: Room, *, reason: LobbyReason, now: datetime) -> None:
    """Re-decide for everyone waiting with `reason` (oldest first) after the room changed."""
    waiting = list(
        Participant.objects.filter(room=room, state=ParticipantState.LOBBY, lobby_reason=reason)
        .select_related("user")
        .order_by("created_at", "pk")
    )
    host_here = _moderator_present(room)
    for person in waiting:
        identity = Identity(user=person.user, guest_id=person.guest_id, device_id=person.device_id)
        facts = _join_facts(
            room, identity, role=Role(person.role), password=None, active=person, now=now
        )
        # They answered any password when they entered the lobby.
        facts = replace(facts, password_set=False)
        decision = decide_join(facts, now=now)
        if decision.outcome == Outcome.ADMIT:
            _admit(room, person, now, actor=None)
            continue
        waits_for = decision.reason if decision.outcome == Outcome.LOBBY else None
        if decision.outcome == Outcome.DENY and host_here:
            # Locked or full while the host is here: they are no longer waiting for the host
            # but for the host's decision (the host may still let them in from the lobby).
            waits_for = Reason.WAITING_ROOM
        if waits_for is not None and waits_for != person.lobby_reason:
            person.lobby_reason = waits_for.value
            person.save(update_fields=["lobby_reason"])
            _record(room, "participant.waiting", target=person, reason=waits_for.value)


def room_join(
    *,
    token: str,
    identity: Identity,
    password: str | None = None,
    now: datetime | None = None,
) -> JoinResult:
    """Ask to enter the room behind `token`: admitted, sent to the lobby, or refused.

    An unknown token and a room whose host blocked (or was blocked by) the caller get the same
    NotFound, so refusals do not help anyone guess links. A password is checked only when the
    limiter allows it (`_check_password`), before the room lock.
    """
    now = _now(now)
    if identity.user is None and not identity.guest_id:
        raise InvalidInput("identity_required", _("Sign in or give a guest name to join."))
    if password is not None and len(password) > PASSWORD_MAX:
        raise InvalidInput("password_too_long", _("That password is too long."))
    row = (
        Room.objects.filter(token=token)
        .values("pk", "password_hash", "host_id", "signed_in_only", "audience")
        .first()
    )
    if row is None:
        raise NotFound("room_not_found", _("This room doesn't exist."))
    room_id = row["pk"]
    _count_join_attempt(room_id=room_id, host_id=row["host_id"], identity=identity)
    # Hashing a password is slow by design: do it before taking the room lock (which every
    # join and host action waits on), and only when the limiter allows it.
    checked = None
    if row["password_hash"] and password and _password_applies(row, identity):
        checked = _check_password(row, password, identity)
    with transaction.atomic():
        room = _lock_room(room_id)
        # Checked before anything else answers: to a blocked relation this room does not exist,
        # so not even "ended" or "banned" may tell them otherwise.
        if identity.user is not None and _blocked_with_host(room, identity.user):
            metrics.join_decided(Decision(Outcome.DENY, Reason.BLOCKED))
            raise NotFound("room_not_found", _("This room doesn't exist."))
        _release_vanished(room, now)
        role = _role_for(room, identity.user)
        active = _active_visit(room, identity)
        facts = _join_facts(
            room, identity, role=role, password=password, active=active, now=now, checked=checked
        )
        decision = decide_join(facts, now=now)
        metrics.join_decided(decision)
        if decision.outcome == Outcome.DENY:
            _refuse(
                decision.reason,
                retry_after=checked.retry_after if checked else 0,
                locked_by=_locked_by(room) if decision.reason == Reason.LOCKED else "",
            )
        participant = active or _resumable_seat(room, identity, decision)
        if participant is None:
            participant = Participant.objects.create(
                room=room,
                user=identity.user,
                guest_id="" if identity.user is not None else identity.guest_id,
                device_id=identity.device_id,
                display_name=_display_name(identity),
                role=role,
                state=ParticipantState.LOBBY,
                # Not connected yet: the seat waits for the socket for the grace period.
                disconnected_at=now,
            )
        elif participant.role != role:
            participant.role = role
            participant.save(update_fields=["role"])
        if decision.outcome == Outcome.ADMIT:
            if participant.state != ParticipantState.ADMITTED:
                _admit(room, participant, now, actor=identity.user)
        elif participant.lobby_reason != decision.reason:
            participant.lobby_reason = decision.reason.value
            participant.save(update_fields=["lobby_reason"])
            _record(room, "participant.waiting", target=participant, reason=decision.reason.value)
        ticket = _issue_ticket(participant)
    return JoinResult(participant=participant, decision=decision, ticket=ticket)


def _count_join_attempt(*, room_id: int, host_id: int, identity: Identity) -> None:
    """Count this attempt per client address in the room and per room; raise JoinThrottled
    once either is over its limit for the window. Counted before any work (a password hash,
    the room lock) is spent on it, so a crowd of throwaway guests costs little and the host
    hears from at most that many of them."""
    user = identity.user
    if user is not None and (
        user.pk == host_id or CoHost.objects.filter(room_id=room_id, user=user).exists()
    ):
        return  # a crowd at the door never keeps the host or a co-host out of their own room
    window = settings.ROOMS_JOIN_WINDOW_SECONDS
    limits = [(f"room-joins:{room_id}", settings.ROOMS_JOINS_PER_ROOM)]
    if identity.client_key:
        limits.insert(
            0,
            (f"room-joins:{room_id}:addr:{identity.client_key}", settings.ROOMS_JOINS_PER_ADDRESS),
        )
    # One address over its limit does not spend the room's budget, which others share.
    for key, limit in limits:
        wait = budget.spend(key, limit=limit, window=window)
        if wait:
            if user is not None and _blocked_with_host(Room(pk=room_id, host_id=host_id), user):
                # To a blocked relation this room does not exist, not even as "too many joins".
                raise NotFound("room_not_found", _("This room doesn't exist."))
            raise JoinThrottled(wait)


def _display_name(identity: Identity) -> str:
    if identity.user is not None:
        return get_adapter().display_name(identity.user)[:DISPLAY_NAME_MAX]
    return _validate_text(
        identity.display_name, field="display_name", limit=DISPLAY_NAME_MAX, required=True
    )


def _resumable_seat(room: Room, identity: Identity, decision: Decision) -> Participant | None:
    if decision.reason != Reason.RESUMING:
        return None
    seat = _last_released_seat(room, identity)
    if seat is not None:
        # Keeping the same row keeps the seat and its join time: a resume is not a new visit.
        seat.state = ParticipantState.LOBBY
        seat.disconnected_at = _now(None)
        seat.save(update_fields=["state", "disconnected_at"])
    return seat


# Who locked a room that is locked while a host or co-host is in it (a lock without them says
# host_away instead): the latest lock's `by` (rooms.services.moderation.room_set_locked).
_LOCKED_MESSAGES = {
    "host": gettext_lazy("The host has locked this room."),
    "cohost": gettext_lazy("A co-host has locked this room."),
    "moderator": gettext_lazy("A moderator of the site has locked this room."),
}


def _locked_by(room: Room) -> str:
    by = (
        AuditEvent.objects.filter(room=room, kind="room.locked")
        .order_by("-version")
        .values_list("data__by", flat=True)
        .first()
    )
    return by if isinstance(by, str) else ""


def _refuse(reason: Reason, *, retry_after: int = 0, locked_by: str = "") -> None:
    if reason == Reason.BLOCKED:
        raise NotFound("room_not_found", _("This room doesn't exist."))
    message = str(_DENY_MESSAGES[reason])
    if reason == Reason.LOCKED:
        message = str(_LOCKED_MESSAGES.get(locked_by, gettext_lazy("This room is locked.")))
    if reason == Reason.TOO_MANY_ATTEMPTS:
        message = message % {"when": _in_time(retry_after)}
    error = JoinDenied(DENY_CODES.get(reason, reason.value), message)
    error.status = _DENY_STATUS.get(reason, 403)
    if reason == Reason.TOO_MANY_ATTEMPTS:
        error.retry_after = retry_after
    raise error


def _in_time(seconds: int) -> str:
    if seconds < 60:
        count = max(1, seconds)
        return ngettext("in %(count)s second", "in %(count)s seconds", count) % {"count": count}
    minutes = math.ceil(seconds / 60)
    return ngettext("in %(count)s minute", "in %(count)s minutes", minutes) % {"count": minutes}


def join_ticket_redeem(*, ticket: str, room_token: str) -> Participant:
    """Trade a join ticket for its participant, once. Raises Forbidden otherwise."""
    invalid = Forbidden("invalid_ticket", _("This join ticket is not valid. Join again."))
    try:
        payload = signing.loads(
            ticket, salt=TICKET_SALT, max_age=settings.ROOMS_JOIN_TICKET_TTL_SECONDS
        )
        participant_id, room_id, nonce = int(payload["p"]), int(payload["r"]), str(payload["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise invalid from None
    if not nonce:
        raise invalid
    # Clearing the nonce in the same UPDATE that checks it makes a second redeem fail even if
    # two arrive at once.
    used = Participant.objects.filter(
        pk=participant_id,
        room_id=room_id,
        room__token=room_token,
        ticket_nonce=nonce,
        state__in=ACTIVE_STATES,
    ).update(ticket_nonce="")
    if used != 1:
        raise invalid
    return Participant.objects.select_related("room", "user").get(pk=participant_id)


def _host_arrived(room: Room, actor: User | None, now: datetime) -> None:
    """A host or co-host is connected: the room opens and those waiting for them move on."""
    _open_room(room, actor, now)
    _admit_lobby(room, reason=LobbyReason.WAITING_FOR_HOST, now=now)
    _admit_lobby(room, reason=LobbyReason.NOT_STARTED, now=now)


def _resume_token(participant: Participant) -> str:
    participant.resume_nonce = secrets.token_urlsafe(16)
    Participant.objects.filter(pk=participant.pk).update(resume_nonce=participant.resume_nonce)
    return signing.dumps(
        {"p": participant.pk, "r": participant.room_id, "n": participant.resume_nonce},
        salt=RESUME_SALT,
    )


@dataclass(frozen=True, slots=True)
class Resume:
    participant: Participant
    nonce: str  # hand to participant_connected, which spends it


def participant_resume(
    *, token: str, room_token: str, user_id: int | None, guest_id: str
) -> Resume:
    """Check a resume token: the same visit, the same person (the account signed in on this
    connection, or the same signed guest cookie), still holding its seat. Nothing is spent
    here; `participant_connected(resume_nonce=...)` spends the token."""
    invalid = Forbidden("resume_expired", _("This connection can't be resumed. Join again."))
    try:
        payload = signing.loads(token, salt=RESUME_SALT)
        participant_id, room_id, nonce = int(payload["p"]), int(payload["r"]), str(payload["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise invalid from None
    participant = (
        Participant.objects.select_related("room", "user")
        .filter(
            pk=participant_id,
            room_id=room_id,
            room__token=room_token,
            state__in=ACTIVE_STATES,
        )
        .first()
    )
    if participant is None or not nonce or not participant.resume_nonce:
        raise invalid
    if not secrets.compare_digest(participant.resume_nonce, nonce):
        raise invalid
    same_person = (
        participant.user_id == user_id
        if participant.user_id is not None
        else bool(guest_id) and participant.guest_id == guest_id
    )
    if not same_person:
        raise invalid
    grace = timedelta(seconds=settings.ROOMS_RESUME_GRACE_SECONDS)
    if (
        participant.disconnected_at is not None
        and timezone.now() - participant.disconnected_at > grace
    ):
        raise invalid
    return Resume(participant=participant, nonce=nonce)


def _lobby_members(room: Room, participant_ids: Iterable[int] | None) -> list[Participant]:
    members = Participant.objects.filter(room=room, state=ParticipantState.LOBBY)
    if participant_ids is not None:
        ids = list(participant_ids)
        members = members.filter(pk__in=ids)
        found = list(members.order_by("created_at", "pk"))
        if len(found) != len(set(ids)):
            raise NotFound("not_in_lobby", _("That person is not waiting in the lobby."))
        return found
    return list(members.order_by("created_at", "pk"))


@transaction.atomic
def lobby_admit(
    *,
    room: Room,
    actor: User,
    participant_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> list[Participant]:
    """Admit the given lobby members, or all of them (oldest first) when ids is None.

    Admitting one by name into a full room is refused; admitting all fills the free seats.
    """
    now = _now(now)
    room = _lock_room(room.pk)
    _require_moderator(room, actor)
    _require_not_ended(room)
    members = _lobby_members(room, participant_ids)
    free = room.capacity - _admitted_count(room)
    if participant_ids is not None and len(members) > free:
        raise Conflict("room_full", _("There are not enough free seats for that."))
    admitted = members[: max(free, 0)]
    for member in admitted:
        _admit(room, member, now, actor=actor)
    return admitted


@transaction.atomic
def lobby_deny(
    *,
    room: Room,
    actor: User,
    participant_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> list[Participant]:
    now = _now(now)
    room = _lock_room(room.pk)
    _require_moderator(room, actor)
    members = _lobby_members(room, participant_ids)
    for member in members:
        member.state = ParticipantState.DENIED
        member.left_at = now
        member.ticket_nonce = ""
        member.save(update_fields=["state", "left_at", "ticket_nonce"])
        _record(room, "participant.denied", actor=actor, target=member, by=_actor_kind(room, actor))
    return members

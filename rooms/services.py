"""Every rule about rooms. Views, consumers, tasks and admin actions only call these.

Each service runs in one transaction and locks the room row first (`_lock_room`): that
serialises everything that changes a room, which is what keeps capacity exact when many people
join at once and keeps the room version a gap-free sequence. Each change is written to the
audit log, which bumps the version.
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
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rooms import announce, budget, cards, events, media, metrics, ratelimit
from rooms.adapter import get_adapter
from rooms.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    TooManyRequests,
)
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
    Report,
    ReportReason,
    ReportStatus,
    Role,
    Room,
    RoomState,
    SocketServer,
)
from rooms.policy import Decision, JoinFacts, Outcome, Reason, decide_join
from rooms.users import User

TITLE_MAX = 120
DESCRIPTION_MAX = 2000
DISPLAY_NAME_MAX = 80
PASSWORD_MAX = 128
REASON_MAX = 500
DETAILS_MAX = 2000
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
            f"Too many attempts to join this room. Try again in {self.retry_after} seconds.",
        )


_DENY_STATUS = {Reason.ENDED: 410, Reason.TOO_MANY_ATTEMPTS: 429}
_DENY_MESSAGES = {
    Reason.ENDED: "This room has ended.",
    Reason.BANNED: "You can't join this room.",
    Reason.SUSPENDED: "Your account is suspended, so you can't join rooms.",
    Reason.SIGN_IN_REQUIRED: "The host lets only people signed in to the site into this room. "
    "Sign in, then join again.",
    Reason.PASSWORD_REQUIRED: "This room needs a password.",
    Reason.WRONG_PASSWORD: "That password is not right.",
    Reason.TOO_MANY_ATTEMPTS: "Too many wrong passwords have been tried. Try again {wait}.",
    Reason.LOCKED: "The host has locked this room.",
    Reason.HOST_AWAY: "The host stepped away. Nobody new can come in until they are back.",
    Reason.FULL: "This room is full.",
    Reason.LOBBY_FULL: "Too many people are waiting to join this room. Try again later.",
}


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is asking: an account, or a guest known by a signed guest id.

    `device_id` comes from a long-lived signed cookie every browser gets, so a ban can also
    match a person who comes back under a new account or guest identity on the same device.
    """

    user: User | None = None
    guest_id: str = ""
    device_id: str = ""
    display_name: str = ""
    client_key: str = ""  # e.g. the client address; scopes the password attempt counter

    @property
    def key(self) -> str:
        return f"u{self.user.pk}" if self.user is not None else f"g{self.guest_id}"


@dataclass(frozen=True, slots=True)
class JoinResult:
    participant: Participant
    decision: Decision
    ticket: str


# --- helpers ----------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def _lock_room(room_id: int) -> Room:
    # The lock every room service takes first; see the module docstring for the races it closes.
    room = Room.objects.select_for_update().filter(pk=room_id).first()
    if room is None:
        raise NotFound("room_not_found", "This room doesn't exist.")
    return room


def _record(
    room: Room,
    kind: str,
    *,
    actor: User | None = None,
    actor_name: str = "",
    target: Participant | None = None,
    **data: Any,
) -> AuditEvent:
    """Write the audit log, bump the room version and publish the event after commit.

    Call with the room row locked. This is the only place room events come from, so every
    version a client sees is exactly one change.
    """
    room.version += 1
    Room.objects.filter(pk=room.pk).update(version=room.version, updated_at=timezone.now())
    audit = AuditEvent.objects.create(
        room=room,
        kind=kind,
        actor=actor,
        actor_name=actor_name or (get_adapter().display_name(actor) if actor is not None else ""),
        target=target,
        data=data,
        version=room.version,
    )
    event_type, audience = events.EVENTS[kind]
    never_admitted = target is not None and target.joined_at is None
    if never_admitted and audience == events.Audience.ROOM:
        # People in the room only ever hear of those who have been in it: whatever happens to
        # someone who only waited in the lobby (left, removed, dropped) is for hosts only.
        audience = events.Audience.MODERATORS
    event: events.RoomEvent = {
        "type": event_type,
        "version": room.version,
        "room": events.room_public(room),
    }
    if target is not None:
        event["participant"] = events.participant_public(target)
    public_data = {k: v for k, v in data.items() if k not in _PRIVATE_DATA.get(kind, ())}
    if public_data:
        event["data"] = public_data
    events.publish_room_event(room.pk, event, audience)
    if target is not None:
        events.notify_participant(target.pk, kind=kind, **data)
    # Last: on-commit callbacks run in order, and feeds can wait; the people in the room and
    # the person concerned (e.g. someone removed) should not wait behind them.
    if kind in cards.CARD_KINDS and not never_admitted:
        cards.publish_after_commit(room)
    if kind in announce.ANNOUNCE_KINDS:
        announce.after_commit(room.pk)
    return audit


# Said to the person concerned (why they were removed), never to the whole room.
_PRIVATE_DATA = {"participant.removed": frozenset({"reason"})}


def is_moderator(*, room: Room, user: User | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if room.host_id == user.pk:
        return True
    return CoHost.objects.filter(room=room, user=user).exists()


def _require_moderator(room: Room, actor: User, *, as_staff: bool = False) -> None:
    if as_staff and _is_staff(actor):
        return
    if not is_moderator(room=room, user=actor):
        raise Forbidden("not_a_host", "Only the host or a co-host can do that.")


def _is_staff(user: User) -> bool:
    # The site's moderators: Django admin's notion of staff, for user models that have it.
    return bool(getattr(user, "is_staff", False))


def _require_not_ended(room: Room) -> None:
    if room.state == RoomState.ENDED:
        raise Gone("room_ended", "This room has ended.")


def _within_hourly_limit(
    *, action: str, actor: str, per_hour: int, what: str, cost: int = 1
) -> None:
    """Count a write against its actor's hourly budget (README "Limits"), or refuse it."""
    retry_after = ratelimit.hourly(action=action, actor=actor, per_hour=per_hour, cost=cost)
    if retry_after:
        raise TooManyRequests(
            "rate_limited",
            f"You have {what} too often. Try again {ratelimit.retry_phrase(retry_after)}.",
            retry_after=retry_after,
        )


def _validate_text(value: str, *, field: str, limit: int, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{field}_required", f"The {field.replace('_', ' ')} is required.")
    if len(value) > limit:
        raise InvalidInput(
            f"{field}_too_long", f"The {field.replace('_', ' ')} may be at most {limit} characters."
        )
    return value


def _validate_capacity(capacity: int) -> int:
    maximum = settings.ROOMS_MAX_CAPACITY
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= maximum:
        raise InvalidInput("invalid_capacity", f"Capacity must be between 1 and {maximum}.")
    return capacity


def _validate_start(start: datetime | None, now: datetime) -> datetime | None:
    if start is None:
        return None
    if timezone.is_naive(start):
        raise InvalidInput("start_needs_timezone", "The start time must include a time zone.")
    grace = timedelta(seconds=settings.ROOMS_START_GRACE_SECONDS)
    if start < now - grace:
        raise InvalidInput("start_in_past", "The start time is in the past.")
    if start > now + timedelta(days=366):
        raise InvalidInput("start_too_far", "The start time may be at most a year ahead.")
    return start


def _password_hash(password: str) -> str:
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(
            "password_too_long", f"The password may be at most {PASSWORD_MAX} characters."
        )
    shortest = settings.ROOMS_PASSWORD_MIN_LENGTH
    if password and len(password) < shortest:
        raise InvalidInput(
            "password_too_short", f"A room password needs at least {shortest} characters."
        )
    return make_password(password) if password else ""


def _blocked_with_host(room: Room, user: User) -> bool:
    return get_adapter().is_blocked(user, room.host)


# --- create / update --------------------------------------------------------------------------


@transaction.atomic
def room_create(
    *,
    host: User,
    title: str,
    description: str = "",
    scheduled_start: datetime | None = None,
    audience: str = Audience.FRIENDS,
    capacity: int | None = None,
    password: str = "",
    waiting_room: bool = True,
    signed_in_only: bool = False,
    participants_can_share_screen: bool = True,
    invitee_ids: Iterable[int] = (),
    now: datetime | None = None,
) -> Room:
    """Create a room. It opens when its host joins it (`room_join`). At most
    ROOMS_CREATED_PER_HOUR per host (TooManyRequests)."""
    now = _now(now)
    if not get_adapter().can_create_rooms(host):
        raise Forbidden("suspended", "Your account is suspended, so you can't create rooms.")
    _within_hourly_limit(
        action="room-create",
        actor=str(host.pk),
        per_hour=settings.ROOMS_CREATED_PER_HOUR,
        what="created rooms",
    )
    if audience not in Audience.values:
        raise InvalidInput("invalid_audience", "Audience must be 'friends' or 'invite_only'.")
    room = Room.objects.create(
        host=host,
        title=_validate_text(title, field="title", limit=TITLE_MAX, required=True),
        description=_validate_text(description, field="description", limit=DESCRIPTION_MAX),
        scheduled_start=_validate_start(scheduled_start, now),
        audience=audience,
        capacity=_validate_capacity(
            settings.ROOMS_DEFAULT_CAPACITY if capacity is None else capacity
        ),
        password_hash=_password_hash(password),
        waiting_room=waiting_room,
        signed_in_only=signed_in_only,
        participants_can_share_screen=participants_can_share_screen,
    )
    _record(room, "room.created", actor=host)
    ids = set(invitee_ids)
    if ids:
        _invite(room, host, ids)
    return room


_UPDATABLE = {
    "title",
    "description",
    "scheduled_start",
    "audience",
    "password",
    "waiting_room",
    "signed_in_only",
    "participants_can_share_screen",
    "capacity",
    "locked",
}


@transaction.atomic
def room_update(*, room: Room, actor: User, now: datetime | None = None, **changes: Any) -> Room:
    """Change a room's settings (host or co-host). Unknown fields are refused."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise InvalidInput("unknown_field", f"Can't change: {', '.join(sorted(unknown))}.")
    now = _now(now)
    room = _lock_room(room.pk)
    _require_moderator(room, actor)
    _require_not_ended(room)
    applied: dict[str, Any] = {}
    if "title" in changes:
        room.title = _validate_text(changes["title"], field="title", limit=TITLE_MAX, required=True)
        applied["title"] = room.title
    if "description" in changes:
        room.description = _validate_text(
            changes["description"], field="description", limit=DESCRIPTION_MAX
        )
        applied["description"] = room.description
    if "scheduled_start" in changes:
        if room.state != RoomState.SCHEDULED:
            raise Conflict("already_started", "A room that has started can't be rescheduled.")
        room.scheduled_start = _validate_start(changes["scheduled_start"], now)
        applied["scheduled_start"] = (
            room.scheduled_start.isoformat() if room.scheduled_start else None
        )
    if "audience" in changes:
        if changes["audience"] not in Audience.values:
            raise InvalidInput("invalid_audience", "Audience must be 'friends' or 'invite_only'.")
        room.audience = changes["audience"]
        applied["audience"] = room.audience
    if "password" in changes:
        room.password_hash = _password_hash(changes["password"] or "")
        applied["password_set"] = room.has_password
    for flag in ("waiting_room", "signed_in_only", "participants_can_share_screen", "locked"):
        if flag in changes:
            if not isinstance(changes[flag], bool):
                raise InvalidInput(f"invalid_{flag}", f"{flag} must be true or false.")
            setattr(room, flag, changes[flag])
            applied[flag] = changes[flag]
    if "capacity" in changes:
        room.capacity = _validate_capacity(changes["capacity"])
        applied["capacity"] = room.capacity
    if not applied:
        return room
    room.save()
    _record(room, "room.updated", actor=actor, changes=applied)
    if "participants_can_share_screen" in applied:
        for participant_id in Participant.objects.filter(
            room=room, state=ParticipantState.ADMITTED, role=Role.PARTICIPANT
        ).values_list("pk", flat=True):
            media.set_screen_allowed(
                room.pk, participant_id, allowed=room.participants_can_share_screen
            )
    if applied.get("waiting_room") is False:
        # Turning the waiting room off lets in everyone who was only waiting for admission.
        _admit_lobby(room, reason=LobbyReason.WAITING_ROOM, now=now)
    return room


def room_set_locked(*, room: Room, actor: User, locked: bool, as_staff: bool = False) -> Room:
    with transaction.atomic():
        room = _lock_room(room.pk)
        _require_moderator(room, actor, as_staff=as_staff)
        _require_not_ended(room)
        if room.locked != locked:
            room.locked = locked
            room.save(update_fields=["locked"])
            _record(room, "room.locked" if locked else "room.unlocked", actor=actor)
            if not locked:
                # Everyone the lock held back is decided again (friends walk in by themselves).
                for reason in (LobbyReason.WAITING_FOR_HOST, LobbyReason.WAITING_ROOM):
                    _admit_lobby(room, reason=reason, now=timezone.now())
        return room


def room_set_capacity(*, room: Room, actor: User, capacity: int) -> Room:
    """Seats already taken are kept when capacity drops below them; new joins are refused."""
    return room_update(room=room, actor=actor, capacity=capacity)


def room_set_waiting_room(*, room: Room, actor: User, enabled: bool) -> Room:
    return room_update(room=room, actor=actor, waiting_room=enabled)


def room_set_signed_in_only(*, room: Room, actor: User, enabled: bool) -> Room:
    """Only people signed in to the site may join from now on. Whoever is already in the room or
    its lobby stays until the host removes them or turns them away."""
    return room_update(room=room, actor=actor, signed_in_only=enabled)


def room_set_screen_share(*, room: Room, actor: User, participants_allowed: bool) -> Room:
    return room_update(room=room, actor=actor, participants_can_share_screen=participants_allowed)


@transaction.atomic
def room_end(
    *, room: Room, actor: User, as_staff: bool = False, now: datetime | None = None
) -> Room:
    """End the room for everyone: every active visit ends now."""
    now = _now(now)
    room = _lock_room(room.pk)
    _require_moderator(room, actor, as_staff=as_staff)
    if room.state == RoomState.ENDED:
        return room
    ended_by = "moderator" if as_staff else "host" if actor.pk == room.host_id else "cohost"
    _end_room(room, now, actor=actor, by_staff=as_staff, ended_by=ended_by)
    return room


def _end_room(room: Room, now: datetime, *, actor: User | None, **data: Any) -> None:
    """Every active visit ends now. Call with the room row locked."""
    room.state = RoomState.ENDED
    room.ended_at = now
    room.save(update_fields=["state", "ended_at"])
    active = Participant.objects.filter(room=room, state__in=ACTIVE_STATES)
    for participant_id in active.values_list("pk", flat=True):
        events.notify_participant(participant_id, kind="room.ended")
    active.update(state=ParticipantState.LEFT, left_at=now, ticket_nonce="", resume_nonce="")
    media.close_room(room.pk)
    _record(room, "room.ended", actor=actor, **data)


# --- joining ----------------------------------------------------------------------------------


def _active_visit(room: Room, identity: Identity) -> Participant | None:
    visits = Participant.objects.filter(room=room, state__in=ACTIVE_STATES)
    if identity.user is not None:
        return visits.filter(user=identity.user).first()
    if identity.guest_id:
        return visits.filter(guest_id=identity.guest_id, user__isnull=True).first()
    return None


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


def _moderator_seated(room: Room) -> bool:
    """A host or co-host still holds a seat (connected, or dropped within the grace period).

    The room locks itself only when this becomes false: a dropped connection is not a leave.
    """
    return Participant.objects.filter(
        room=room, state=ParticipantState.ADMITTED, role__in=(Role.HOST, Role.COHOST)
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
        raise InvalidInput("identity_required", "Sign in or give a guest name to join.")
    if password is not None and len(password) > PASSWORD_MAX:
        raise InvalidInput("password_too_long", "That password is too long.")
    row = (
        Room.objects.filter(token=token)
        .values("pk", "password_hash", "host_id", "signed_in_only", "audience")
        .first()
    )
    if row is None:
        raise NotFound("room_not_found", "This room doesn't exist.")
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
            raise NotFound("room_not_found", "This room doesn't exist.")
        _release_vanished(room, now)
        role = _role_for(room, identity.user)
        active = _active_visit(room, identity)
        facts = _join_facts(
            room, identity, role=role, password=password, active=active, now=now, checked=checked
        )
        decision = decide_join(facts, now=now)
        metrics.join_decided(decision)
        if decision.outcome == Outcome.DENY:
            _refuse(decision.reason, retry_after=checked.retry_after if checked else 0)
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
                raise NotFound("room_not_found", "This room doesn't exist.")
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


def _refuse(reason: Reason, *, retry_after: int = 0) -> None:
    if reason == Reason.BLOCKED:
        raise NotFound("room_not_found", "This room doesn't exist.")
    message = _DENY_MESSAGES[reason]
    if reason == Reason.TOO_MANY_ATTEMPTS:
        message = message.format(wait=_in_time(retry_after))
    error = JoinDenied(reason.value, message)
    error.status = _DENY_STATUS.get(reason, 403)
    if reason == Reason.TOO_MANY_ATTEMPTS:
        error.retry_after = retry_after
    raise error


def _in_time(seconds: int) -> str:
    if seconds <= 1:
        return "in a second"
    if seconds < 60:
        return f"in {seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return "in a minute" if minutes == 1 else f"in {minutes} minutes"


def join_ticket_redeem(*, ticket: str, room_token: str) -> Participant:
    """Trade a join ticket for its participant, once. Raises Forbidden otherwise."""
    invalid = Forbidden("invalid_ticket", "This join ticket is not valid. Join again.")
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


# --- live presence: sockets connect, drop and resume -----------------------------------------


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
class Connection:
    participant: Participant
    resume_token: str
    was_disconnected: bool = False


def participant_connected(
    *,
    participant_id: int,
    resume_nonce: str | None = None,
    server: str = "",
    now: datetime | None = None,
) -> Connection:
    """A socket for this visit is up (after a ticket or resume token was checked).

    With `resume_nonce` (from `participant_resume`), the resume token is spent here, in the
    same transaction that marks the seat connected: a connect that fails before this point
    (the channel layer or the database down) leaves the token usable for the next attempt.
    `server` names the web process holding the socket (`rooms.lease`): its lease keeps the
    seat counted as connected. Returns a fresh resume token: the previous one stops working,
    so a token is good for one reconnect only.
    """
    now = _now(now)
    with transaction.atomic():
        room = _lock_room(_room_id_of(participant_id))
        participant = (
            Participant.objects.select_related("user")
            .filter(pk=participant_id, state__in=ACTIVE_STATES)
            .first()
        )
        if participant is None:
            raise Forbidden("not_in_room", "You are no longer in this room. Join again.")
        # Under the room lock: of two connections presenting the same token, one wins.
        if resume_nonce is not None and not (
            participant.resume_nonce
            and secrets.compare_digest(participant.resume_nonce, resume_nonce)
        ):
            raise Forbidden("resume_expired", "This connection can't be resumed. Join again.")
        if participant.user is not None and not get_adapter().can_join_rooms(participant.user):
            raise Forbidden("suspended", "Your account is suspended.")
        was_disconnected = participant.disconnected_at is not None
        participant.disconnected_at = None
        participant.server = server
        participant.save(update_fields=["disconnected_at", "server"])
        token = _resume_token(participant)
        if was_disconnected:
            _record(room, "participant.updated", target=participant, connected=True)
        if participant.is_moderator and participant.state == ParticipantState.ADMITTED:
            _host_arrived(room, participant.user, now)
        participant.refresh_from_db()
        return Connection(
            participant=participant, resume_token=token, was_disconnected=was_disconnected
        )


def participant_disconnected(*, participant_id: int, now: datetime | None = None) -> bool:
    """A socket dropped without a goodbye: the seat is kept for the grace period.

    Returns True when the visit is still active (a release check should follow).
    """
    now = _now(now)
    with transaction.atomic():
        room_id = (
            Participant.objects.filter(pk=participant_id).values_list("room_id", flat=True).first()
        )
        if room_id is None:
            return False
        room = _lock_room(room_id)
        participant = Participant.objects.filter(
            pk=participant_id, state__in=ACTIVE_STATES, disconnected_at__isnull=True
        ).first()
        if participant is None:
            return False
        _mark_disconnected(room, participant, now)
        return True


def _mark_disconnected(room: Room, participant: Participant, at: datetime) -> None:
    """The socket is gone: the seat is held from `at` for the grace period. Call with the
    room row locked."""
    participant.disconnected_at = at
    participant.server = ""
    participant.save(update_fields=["disconnected_at", "server"])
    _record(room, "participant.updated", target=participant, connected=False)
    media.remove_peer(room.pk, participant.pk)


def socket_server_renew(*, server: str, now: datetime | None = None) -> None:
    """The web process `server` is alive and holds its sockets (rooms.lease)."""
    SocketServer.objects.update_or_create(id=server, defaults={"last_seen": _now(now)})


def socket_servers_expire(*, lease_seconds: float, now: datetime | None = None) -> list[int]:
    """Web processes that stopped renewing their lease are gone, and so are their sockets:
    each of their seats counts as dropped from the process's last renewal, so the grace
    period (and the release after it) runs from the moment they vanished. Returns the rooms
    whose seats changed (a release check should follow for each)."""
    cutoff = _now(now) - timedelta(seconds=lease_seconds)
    rooms: set[int] = set()
    for server in SocketServer.objects.filter(last_seen__lt=cutoff):
        with transaction.atomic():
            # Whoever deletes the row handles it, so two live processes don't both do it.
            if not SocketServer.objects.filter(pk=server.pk, last_seen=server.last_seen).delete()[
                0
            ]:
                continue
            room_ids = set(
                Participant.objects.filter(
                    server=server.pk, state__in=ACTIVE_STATES, disconnected_at__isnull=True
                ).values_list("room_id", flat=True)
            )
            for room_id in sorted(room_ids):
                room = _lock_room(room_id)
                ghosts = Participant.objects.filter(
                    room=room,
                    server=server.pk,
                    state__in=ACTIVE_STATES,
                    disconnected_at__isnull=True,
                )
                for participant in ghosts:
                    _mark_disconnected(room, participant, server.last_seen)
                rooms.add(room_id)
    return sorted(rooms)


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
    invalid = Forbidden("resume_expired", "This connection can't be resumed. Join again.")
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


def _release_vanished(room: Room, now: datetime) -> None:
    """Free the seats of people whose socket has been gone longer than the grace period.

    Their leave time is when they vanished. Call with the room row locked.
    """
    cutoff = now - timedelta(seconds=settings.ROOMS_RESUME_GRACE_SECONDS)
    gone = list(
        Participant.objects.filter(
            room=room, state__in=ACTIVE_STATES, disconnected_at__lt=cutoff
        ).order_by("disconnected_at", "pk")
    )
    if not gone:
        return
    had_moderator = _moderator_seated(room)
    for participant in gone:
        participant.state = ParticipantState.LEFT
        participant.left_at = participant.disconnected_at
        participant.ticket_nonce = ""
        participant.resume_nonce = ""
        participant.save(update_fields=["state", "left_at", "ticket_nonce", "resume_nonce"])
        _record(room, "participant.left", target=participant, vanished=True)
    if had_moderator and not _moderator_seated(room):
        _on_moderators_gone(room)


def release_vanished_seats(*, room_id: int, now: datetime | None = None) -> None:
    with transaction.atomic():
        room = _lock_room(room_id)
        _release_vanished(room, _now(now))


# --- in the room: hands, microphones ----------------------------------------------------------


def _admitted(room: Room, participant_id: int) -> Participant:
    participant = Participant.objects.filter(
        room=room, pk=participant_id, state=ParticipantState.ADMITTED
    ).first()
    if participant is None:
        raise NotFound("participant_not_found", "That person is not in this room.")
    return participant


@transaction.atomic
def participant_set_hand(*, participant_id: int, raised: bool) -> Participant:
    room = _lock_room(_room_id_of(participant_id))
    participant = _admitted(room, participant_id)
    if participant.hand_raised != raised:
        participant.hand_raised = raised
        participant.save(update_fields=["hand_raised"])
        _record(room, "participant.updated", target=participant, hand_raised=raised)
    return participant


@transaction.atomic
def participant_set_muted(*, participant_id: int, muted: bool) -> Participant:
    """Mute or unmute yourself. Unmuting is only ever done by the person themselves."""
    room = _lock_room(_room_id_of(participant_id))
    participant = _admitted(room, participant_id)
    if participant.audio_muted != muted:
        participant.audio_muted = muted
        participant.save(update_fields=["audio_muted"])
        _record(room, "participant.muted", target=participant, muted=muted, by_self=True)
        media.set_muted(room.pk, participant.pk, muted=muted)
    return participant


def _mute(room: Room, actor: User, participant: Participant) -> None:
    participant.audio_muted = True
    participant.save(update_fields=["audio_muted"])
    _record(room, "participant.muted", actor=actor, target=participant, muted=True)
    media.set_muted(room.pk, participant.pk, muted=True)


@transaction.atomic
def participant_mute(*, room: Room, actor: User, participant_id: int) -> Participant:
    """A host or co-host mutes someone; their audio stops being forwarded at once."""
    room = _lock_room(room.pk)
    _require_moderator(room, actor)
    _require_not_ended(room)
    participant = _admitted(room, participant_id)
    if not participant.audio_muted:
        _mute(room, actor, participant)
    return participant


@transaction.atomic
def participant_mute_all(*, room: Room, actor: User) -> list[Participant]:
    """Mute everyone but the hosts and co-hosts."""
    room = _lock_room(room.pk)
    _require_moderator(room, actor)
    _require_not_ended(room)
    muted = list(
        Participant.objects.filter(
            room=room, state=ParticipantState.ADMITTED, role=Role.PARTICIPANT, audio_muted=False
        ).order_by("pk")
    )
    for participant in muted:
        _mute(room, actor, participant)
    return muted


@transaction.atomic
def participant_ask_unmute(*, room: Room, actor: User, participant_id: int) -> Participant:
    """Ask someone to unmute; only they can do it."""
    room = _lock_room(room.pk)
    _require_moderator(room, actor)
    _require_not_ended(room)
    participant = _admitted(room, participant_id)
    if not participant.audio_muted:
        raise Conflict("not_muted", "That person is not muted.")
    _record(room, "participant.unmute_requested", actor=actor, target=participant)
    return participant


# --- leaving, lobby, removal ------------------------------------------------------------------


def participant_for(*, room: Room, identity: Identity) -> Participant:
    """The caller's active visit to `room`."""
    visit = _active_visit(room, identity)
    if visit is None:
        raise NotFound("not_in_room", "You are not in this room.")
    return visit


@transaction.atomic
def room_leave(*, room: Room, identity: Identity, now: datetime | None = None) -> Participant:
    """Leave. When the last host or co-host leaves, the room locks itself; nobody is promoted."""
    room = _lock_room(room.pk)
    return _leave(room, participant_for(room=room, identity=identity), _now(now))


@transaction.atomic
def room_leave_visit(*, participant_id: int, now: datetime | None = None) -> Participant:
    """Leave, from the visit's own socket."""
    room = _lock_room(_room_id_of(participant_id))
    participant = Participant.objects.filter(
        room=room, pk=participant_id, state__in=ACTIVE_STATES
    ).first()
    if participant is None:
        raise NotFound("not_in_room", "You are not in this room.")
    return _leave(room, participant, _now(now))


def _room_id_of(participant_id: int) -> int:
    room_id = (
        Participant.objects.filter(pk=participant_id).values_list("room_id", flat=True).first()
    )
    if room_id is None:
        raise NotFound("not_in_room", "You are not in this room.")
    return room_id


def _leave(room: Room, participant: Participant, now: datetime) -> Participant:
    was_admitted = participant.state == ParticipantState.ADMITTED
    participant.state = ParticipantState.LEFT
    participant.left_at = now
    participant.ticket_nonce = ""
    participant.save(update_fields=["state", "left_at", "ticket_nonce"])
    participant.resume_nonce = ""
    Participant.objects.filter(pk=participant.pk).update(resume_nonce="")
    media.remove_peer(room.pk, participant.pk)  # first: media stops before any fan-out
    _record(room, "participant.left", actor=participant.user, target=participant)
    if was_admitted and participant.is_moderator and not _moderator_seated(room):
        _on_moderators_gone(room)
    return participant


def _on_moderators_gone(room: Room) -> None:
    if not room.locked:
        room.locked = True
        room.save(update_fields=["locked"])
        _record(room, "room.locked", reason="host_left")
    Participant.objects.filter(
        room=room, state=ParticipantState.LOBBY, lobby_reason=LobbyReason.WAITING_ROOM
    ).update(lobby_reason=LobbyReason.WAITING_FOR_HOST)


def _lobby_members(room: Room, participant_ids: Iterable[int] | None) -> list[Participant]:
    members = Participant.objects.filter(room=room, state=ParticipantState.LOBBY)
    if participant_ids is not None:
        ids = list(participant_ids)
        members = members.filter(pk__in=ids)
        found = list(members.order_by("created_at", "pk"))
        if len(found) != len(set(ids)):
            raise NotFound("not_in_lobby", "That person is not waiting in the lobby.")
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
        raise Conflict("room_full", "There are not enough free seats for that.")
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
        _record(room, "participant.denied", actor=actor, target=member)
    return members


@transaction.atomic
def participant_remove(
    *,
    room: Room,
    actor: User,
    participant_id: int,
    reason: str = "",
    now: datetime | None = None,
) -> Ban:
    """Remove someone and ban them (account, guest identity and device) until the ban is lifted.

    The host can't be removed; only the host removes a co-host.
    """
    now = _now(now)
    reason = _validate_text(reason, field="reason", limit=REASON_MAX)
    room = _lock_room(room.pk)
    _require_moderator(room, actor)
    _require_not_ended(room)
    target = (
        Participant.objects.filter(room=room, pk=participant_id, state__in=ACTIVE_STATES)
        .select_related("user")
        .first()
    )
    if target is None:
        raise NotFound("participant_not_found", "That person is not in this room.")
    if target.role == Role.HOST or (target.user_id is not None and target.user_id == room.host_id):
        raise Forbidden("cannot_remove_host", "The host can't be removed.")
    if target.user_id == actor.pk:
        raise InvalidInput("cannot_remove_self", "Leave the room instead.")
    if target.role == Role.COHOST:
        if actor.pk != room.host_id:
            raise Forbidden("only_host_removes_cohost", "Only the host can remove a co-host.")
        CoHost.objects.filter(room=room, user=target.user).delete()
    was_moderator_seated = _moderator_seated(room)
    target.state = ParticipantState.REMOVED
    target.left_at = now
    target.ticket_nonce = ""
    target.save(update_fields=["state", "left_at", "ticket_nonce"])
    ban = Ban.objects.create(
        room=room,
        user_id=target.user_id,
        guest_id=target.guest_id,
        device_id=target.device_id,
        display_name=target.display_name,
        reason=reason,
        created_by=actor,
    )
    media.remove_peer(room.pk, target.pk)  # first: media stops before any fan-out
    _record(room, "participant.removed", actor=actor, target=target, reason=reason)
    if was_moderator_seated and not _moderator_seated(room):
        _on_moderators_gone(room)
    return ban


@transaction.atomic
def ban_lift(*, room: Room, actor: User, ban_id: int, as_staff: bool = False) -> None:
    room = _lock_room(room.pk)
    _require_moderator(room, actor, as_staff=as_staff)
    ban = Ban.objects.filter(room=room, pk=ban_id).first()
    if ban is None:
        raise NotFound("ban_not_found", "No such ban.")
    name = ban.display_name
    ban.delete()
    _record(room, "ban.lifted", actor=actor, name=name)


# --- co-hosts and invitations -----------------------------------------------------------------


@transaction.atomic
def cohost_add(*, room: Room, actor: User, user: User, now: datetime | None = None) -> CoHost:
    """Only the host names co-hosts. A co-host who is waiting in the lobby is let in."""
    now = _now(now)
    room = _lock_room(room.pk)
    if actor.pk != room.host_id:
        raise Forbidden("only_host", "Only the host can name co-hosts.")
    _require_not_ended(room)
    if user.pk == room.host_id:
        raise InvalidInput("already_host", "The host is already in charge.")
    if _blocked_with_host(room, user) or not user.is_active:
        raise NotFound("user_not_found", "No such user.")
    cohost, created = CoHost.objects.get_or_create(room=room, user=user)
    if created:
        visit = _active_visit(room, Identity(user=user))
        if visit is not None:
            visit.role = Role.COHOST
            visit.save(update_fields=["role"])
        name = get_adapter().display_name(user)
        _record(room, "cohost.added", actor=actor, target=visit, user_id=user.pk, name=name)
        if visit is not None:
            media.set_screen_allowed(room.pk, visit.pk, allowed=True)
        if visit is not None:
            if visit.state == ParticipantState.LOBBY:
                _admit(room, visit, now, actor=actor)
            if visit.disconnected_at is None:
                _host_arrived(room, actor, now)
    return cohost


@transaction.atomic
def cohost_remove(*, room: Room, actor: User, user_id: int) -> None:
    room = _lock_room(room.pk)
    if actor.pk != room.host_id:
        raise Forbidden("only_host", "Only the host can change co-hosts.")
    deleted, _ = CoHost.objects.filter(room=room, user_id=user_id).delete()
    if not deleted:
        raise NotFound("cohost_not_found", "That person is not a co-host.")
    had_moderator = _moderator_seated(room)
    visit = Participant.objects.filter(room=room, user_id=user_id, state__in=ACTIVE_STATES).first()
    if visit is not None:
        visit.role = Role.PARTICIPANT
        visit.save(update_fields=["role"])
    _record(room, "cohost.removed", actor=actor, target=visit, user_id=user_id)
    if visit is not None:
        media.set_screen_allowed(room.pk, visit.pk, allowed=room.participants_can_share_screen)
    if had_moderator and not _moderator_seated(room):
        _on_moderators_gone(room)


def _invite(room: Room, actor: User, user_ids: set[int]) -> list[Invitation]:
    """Invitations go to friends of the host only (a stranger's id is refused, not notified),
    at most ROOMS_INVITATIONS_PER_HOUR new ones per inviting account."""
    accounts = get_user_model()._default_manager
    users = [user for user in accounts.filter(pk__in=user_ids) if user.is_active]
    if len(users) != len(user_ids):
        raise NotFound("user_not_found", "No such user.")
    if room.host_id in user_ids:
        raise InvalidInput("cannot_invite_host", "The host doesn't need an invitation.")
    # A block ends a friendship, so a blocked person is refused here like any stranger, and
    # can't tell a block from an unfriending.
    friends = set(
        accounts.filter(pk__in=user_ids)
        .filter(pk__in=get_adapter().friend_ids(room.host))
        .values_list("pk", flat=True)
    )
    if friends != user_ids:
        raise InvalidInput("not_a_friend", "Only friends of the host can be invited.")
    existing = set(
        Invitation.objects.filter(room=room, user_id__in=user_ids).values_list("user_id", flat=True)
    )
    new = [user for user in users if user.pk not in existing]
    if new:
        _within_hourly_limit(
            action="invite",
            actor=str(actor.pk),
            per_hour=settings.ROOMS_INVITATIONS_PER_HOUR,
            what="invited people",
            cost=len(new),
        )
    created = Invitation.objects.bulk_create(
        [Invitation(room=room, user=u, invited_by=actor) for u in new]
    )
    if created:
        _record(room, "invitations.added", actor=actor, user_ids=[i.user_id for i in created])
    return created


@transaction.atomic
def invitation_add(*, room: Room, actor: User, user_ids: Iterable[int]) -> list[Invitation]:
    room = _lock_room(room.pk)
    _require_moderator(room, actor)
    _require_not_ended(room)
    ids = set(user_ids)
    if not ids:
        raise InvalidInput("no_users", "Name at least one person to invite.")
    if len(ids) > 200:
        raise InvalidInput("too_many_users", "Invite at most 200 people at a time.")
    return _invite(room, actor, ids)


@transaction.atomic
def invitation_remove(*, room: Room, actor: User, user_id: int) -> None:
    room = _lock_room(room.pk)
    _require_moderator(room, actor)
    deleted, _ = Invitation.objects.filter(room=room, user_id=user_id).delete()
    if not deleted:
        raise NotFound("invitation_not_found", "That person is not invited.")
    _record(room, "invitation.removed", actor=actor, user_id=user_id)


# --- reports ----------------------------------------------------------------------------------


@transaction.atomic
def report_create(
    *,
    room: Room,
    identity: Identity,
    reason: str,
    details: str = "",
    target_id: int | None = None,
) -> Report:
    """Anyone admitted to a room may report the room or someone in it."""
    if reason not in ReportReason.values:
        raise InvalidInput("invalid_reason", "Choose one of the report reasons.")
    details = _validate_text(details, field="details", limit=DETAILS_MAX)
    room = _lock_room(room.pk)
    reporter = _active_visit(room, identity)
    if reporter is None or reporter.state != ParticipantState.ADMITTED:
        raise Forbidden("not_in_room", "Only people in the room can report.")
    return _report(room, reporter, reason=reason, details=details, target_id=target_id)


@transaction.atomic
def report_from_participant(
    *, participant_id: int, reason: str, details: str = "", target_id: int | None = None
) -> Report:
    """Report from the visit's own socket."""
    if reason not in ReportReason.values:
        raise InvalidInput("invalid_reason", "Choose one of the report reasons.")
    details = _validate_text(details, field="details", limit=DETAILS_MAX)
    room = _lock_room(_room_id_of(participant_id))
    reporter = Participant.objects.filter(
        room=room, pk=participant_id, state=ParticipantState.ADMITTED
    ).first()
    if reporter is None:
        raise Forbidden("not_in_room", "Only people in the room can report.")
    return _report(room, reporter, reason=reason, details=details, target_id=target_id)


def _report(
    room: Room, reporter: Participant, *, reason: str, details: str, target_id: int | None
) -> Report:
    _within_hourly_limit(
        action="report",
        actor=f"u{reporter.user_id}" if reporter.user_id else f"g{reporter.guest_id}",
        per_hour=settings.ROOMS_REPORTS_PER_HOUR,
        what="sent reports",
    )
    target = None
    if target_id is not None:
        # Anyone who has been in the room (now or earlier), not lobby visitors nobody saw.
        target = Participant.objects.filter(
            room=room, pk=target_id, joined_at__isnull=False
        ).first()
        if target is None:
            raise NotFound("participant_not_found", "That person is not in this room.")
        if target.pk == reporter.pk:
            raise InvalidInput("cannot_report_self", "You can't report yourself.")
    report = Report.objects.create(
        room=room, reporter=reporter, target=target, reason=reason, details=details
    )
    _record(
        room,
        "report.created",
        actor=reporter.user,
        actor_name=reporter.display_name,
        target=target,
        report_id=report.pk,
    )
    return report


@transaction.atomic
def report_resolve(
    *, report: Report, moderator: User, note: str, now: datetime | None = None
) -> Report:
    """Close a report from the moderation queue (staff only)."""
    if not _is_staff(moderator):
        raise Forbidden("staff_only", "Only moderators can resolve reports.")
    note = _validate_text(note, field="note", limit=DETAILS_MAX, required=True)
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.RESOLVED:
        raise Conflict("already_resolved", "This report is already resolved.")
    report.status = ReportStatus.RESOLVED
    report.resolved_by = moderator
    report.resolution_note = note
    report.resolved_at = _now(now)
    report.save(update_fields=["status", "resolved_by", "resolution_note", "resolved_at"])
    room = _lock_room(report.room_id)
    _record(room, "report.resolved", actor=moderator, report_id=report.pk)
    return report

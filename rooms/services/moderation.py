"""What hosts and co-hosts (and the site's staff) do to a room and the people in it: lock,
mute, remove and ban, lift bans, name co-hosts, invite.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rooms import media_control
from rooms.adapter import get_adapter
from rooms.errors import Conflict, Forbidden, InvalidInput, NotFound
from rooms.models import (
    ACTIVE_STATES,
    Ban,
    CoHost,
    Invitation,
    LobbyReason,
    Participant,
    ParticipantState,
    Role,
    Room,
)
from rooms.services._common import (
    Identity,
    _actor_kind,
    _blocked_with_host,
    _lock_room,
    _now,
    _record,
    _require_moderator,
    _require_not_ended,
    _validate_text,
    _within_hourly_limit,
)
from rooms.services._seats import _active_visit, _admitted, _moderator_seated, _on_moderators_gone
from rooms.services.admission import _admit, _admit_lobby, _host_arrived
from rooms.users import User

REASON_MAX = 500


def room_set_locked(*, room: Room, actor: User, locked: bool, as_staff: bool = False) -> Room:
    with transaction.atomic():
        room = _lock_room(room.pk)
        _require_moderator(room, actor, as_staff=as_staff)
        _require_not_ended(room)
        if room.locked != locked:
            room.locked = locked
            room.save(update_fields=["locked"])
            by = _actor_kind(room, actor, as_staff=as_staff)
            _record(room, "room.locked" if locked else "room.unlocked", actor=actor, by=by)
            if not locked:
                # Everyone the lock held back is decided again (friends walk in by themselves).
                for reason in (LobbyReason.WAITING_FOR_HOST, LobbyReason.WAITING_ROOM):
                    _admit_lobby(room, reason=reason, now=timezone.now())
        return room


def _mute(room: Room, actor: User, participant: Participant) -> None:
    participant.audio_muted = True
    participant.save(update_fields=["audio_muted"])
    _record(room, "participant.muted", actor=actor, target=participant, muted=True)
    media_control.set_muted(room.pk, participant.pk, muted=True)


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
        raise Conflict("not_muted", _("That person is not muted."))
    _record(room, "participant.unmute_requested", actor=actor, target=participant)
    return participant


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
        raise NotFound("participant_not_found", _("That person is not in this room."))
    if target.role == Role.HOST or (target.user_id is not None and target.user_id == room.host_id):
        raise Forbidden("cannot_remove_host", _("The host can't be removed."))
    if target.user_id == actor.pk:
        raise InvalidInput("cannot_remove_self", _("Leave the room instead."))
    if target.role == Role.COHOST:
        if actor.pk != room.host_id:
            raise Forbidden("only_host_removes_cohost", _("Only the host can remove a co-host."))
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
    media_control.remove_peer(room.pk, target.pk)  # first: media stops before any fan-out
    by = _actor_kind(room, actor)
    _record(room, "participant.removed", actor=actor, target=target, reason=reason, by=by)
    if was_moderator_seated and not _moderator_seated(room):
        _on_moderators_gone(room)
    return ban


@transaction.atomic
def ban_lift(*, room: Room, actor: User, ban_id: int, as_staff: bool = False) -> None:
    room = _lock_room(room.pk)
    _require_moderator(room, actor, as_staff=as_staff)
    ban = Ban.objects.filter(room=room, pk=ban_id).first()
    if ban is None:
        raise NotFound("ban_not_found", _("No such ban."))
    name = ban.display_name
    ban.delete()
    _record(room, "ban.lifted", actor=actor, name=name)


@transaction.atomic
def cohost_add(*, room: Room, actor: User, user: User, now: datetime | None = None) -> CoHost:
    """Only the host names co-hosts. A co-host who is waiting in the lobby is let in."""
    now = _now(now)
    room = _lock_room(room.pk)
    if actor.pk != room.host_id:
        raise Forbidden("only_host", _("Only the host can name co-hosts."))
    _require_not_ended(room)
    if user.pk == room.host_id:
        raise InvalidInput("already_host", _("The host is already in charge."))
    if _blocked_with_host(room, user) or not user.is_active:
        raise NotFound("user_not_found", _("No such user."))
    cohost, created = CoHost.objects.get_or_create(room=room, user=user)
    if created:
        visit = _active_visit(room, Identity(user=user))
        if visit is not None:
            visit.role = Role.COHOST
            visit.save(update_fields=["role"])
        name = get_adapter().display_name(user)
        _record(room, "cohost.added", actor=actor, target=visit, user_id=user.pk, name=name)
        if visit is not None:
            media_control.set_screen_allowed(room.pk, visit.pk, allowed=True)
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
        raise Forbidden("only_host", _("Only the host can change co-hosts."))
    deleted, _rows = CoHost.objects.filter(room=room, user_id=user_id).delete()
    if not deleted:
        raise NotFound("cohost_not_found", _("That person is not a co-host."))
    had_moderator = _moderator_seated(room)
    visit = Participant.objects.filter(room=room, user_id=user_id, state__in=ACTIVE_STATES).first()
    if visit is not None:
        visit.role = Role.PARTICIPANT
        visit.save(update_fields=["role"])
    _record(room, "cohost.removed", actor=actor, target=visit, user_id=user_id)
    if visit is not None:
        media_control.set_screen_allowed(
            room.pk, visit.pk, allowed=room.participants_can_share_screen
        )
    if had_moderator and not _moderator_seated(room):
        _on_moderators_gone(room)


def _invite(room: Room, actor: User, user_ids: set[int]) -> list[Invitation]:
    """Invitations go to friends of the host only (a stranger's id is refused, not notified),
    at most ROOMS_INVITATIONS_PER_HOUR new ones per inviting account."""
    accounts = get_user_model()._default_manager
    users = [user for user in accounts.filter(pk__in=user_ids) if user.is_active]
    if len(users) != len(user_ids):
        raise NotFound("user_not_found", _("No such user."))
    if room.host_id in user_ids:
        raise InvalidInput("cannot_invite_host", _("The host doesn't need an invitation."))
    # A block ends a friendship, so a blocked person is refused here like any stranger, and
    # can't tell a block from an unfriending.
    friends = set(
        accounts.filter(pk__in=user_ids)
        .filter(pk__in=get_adapter().friend_ids(room.host))
        .values_list("pk", flat=True)
    )
    if friends != user_ids:
        raise InvalidInput("not_a_friend", _("Only friends of the host can be invited."))
    existing = set(
        Invitation.objects.filter(room=room, user_id__in=user_ids).values_list("user_id", flat=True)
    )
    new = [user for user in users if user.pk not in existing]
    if new:
        _within_hourly_limit(
            action="invite",
            actor=str(actor.pk),
            per_hour=settings.ROOMS_INVITATIONS_PER_HOUR,
            what=_("You have invited people too often. Try again %(when)s."),
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
        raise InvalidInput("no_users", _("Name at least one person to invite."))
    if len(ids) > 200:
        raise InvalidInput("too_many_users", _("Invite at most 200 people at a time."))
    return _invite(room, actor, ids)


@transaction.atomic
def invitation_remove(*, room: Room, actor: User, user_id: int) -> None:
    room = _lock_room(room.pk)
    _require_moderator(room, actor)
    deleted, _rows = Invitation.objects.filter(room=room, user_id=user_id).delete()
    if not deleted:
        raise NotFound("invitation_not_found", _("That person is not invited."))
    _record(room, "invitation.removed", actor=actor, user_id=user_id)

"""Reports: anyone in a room reports the room or someone in it; staff resolve them."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from rooms.errors import Conflict, Forbidden, InvalidInput, NotFound
from rooms.models import Participant, ParticipantState, Report, ReportReason, ReportStatus, Room
from rooms.services._common import (
    Identity,
    _is_staff,
    _lock_room,
    _now,
    _record,
    _validate_text,
    _within_hourly_limit,
)
from rooms.services._seats import _active_visit, _room_id_of
from rooms.users import User

DETAILS_MAX = 2000


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
        raise InvalidInput("invalid_reason", _("Choose one of the report reasons."))
    details = _validate_text(details, field="details", limit=DETAILS_MAX)
    room = _lock_room(room.pk)
    reporter = _active_visit(room, identity)
    if reporter is None or reporter.state != ParticipantState.ADMITTED:
        raise Forbidden("not_in_room", _("Only people in the room can report."))
    return _report(room, reporter, reason=reason, details=details, target_id=target_id)


@transaction.atomic
def report_from_participant(
    *, participant_id: int, reason: str, details: str = "", target_id: int | None = None
) -> Report:
    """Report from the visit's own socket."""
    if reason not in ReportReason.values:
        raise InvalidInput("invalid_reason", _("Choose one of the report reasons."))
    details = _validate_text(details, field="details", limit=DETAILS_MAX)
    room = _lock_room(_room_id_of(participant_id))
    reporter = Participant.objects.filter(
        room=room, pk=participant_id, state=ParticipantState.ADMITTED
    ).first()
    if reporter is None:
        raise Forbidden("not_in_room", _("Only people in the room can report."))
    return _report(room, reporter, reason=reason, details=details, target_id=target_id)


def _report(
    room: Room, reporter: Participant, *, reason: str, details: str, target_id: int | None
) -> Report:
    _within_hourly_limit(
        action="report",
        actor=f"u{reporter.user_id}" if reporter.user_id else f"g{reporter.guest_id}",
        per_hour=settings.ROOMS_REPORTS_PER_HOUR,
        what=_("You have sent reports too often. Try again %(when)s."),
    )
    target = None
    if target_id is not None:
        # Anyone who has been in the room (now or earlier), not lobby visitors nobody saw.
        target = Participant.objects.filter(
            room=room, pk=target_id, joined_at__isnull=False
        ).first()
        if target is None:
            raise NotFound("participant_not_found", _("That person is not in this room."))
        if target.pk == reporter.pk:
            raise InvalidInput("cannot_report_self", _("You can't report yourself."))
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
        raise Forbidden("staff_only", _("Only moderators can resolve reports."))
    note = _validate_text(note, field="note", limit=DETAILS_MAX, required=True)
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.RESOLVED:
        raise Conflict("already_resolved", _("This report is already resolved."))
    report.status = ReportStatus.RESOLVED
    report.resolved_by = moderator
    report.resolution_note = note
    report.resolved_at = _now(now)
    report.save(update_fields=["status", "resolved_by", "resolution_note", "resolved_at"])
    room = _lock_room(report.room_id)
    _record(room, "report.resolved", actor=moderator, report_id=report.pk)
    return report

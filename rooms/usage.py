"""How much the product is used: meeting minutes and live counts. Reads only.

Participant-minutes are the conferencing industry's headline figure: the sum over visits of
the time each person spent admitted in a room, from `joined_at` to `left_at` (a visit still
open counts up to now). A visit is split at midnight UTC, so each day gets its own share.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q

from rooms.models import Participant, ParticipantState, Report, ReportStatus, Room, RoomState


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def split_by_day(start: datetime, end: datetime) -> Iterable[tuple[date, float]]:
    """(day, minutes) for each UTC day the interval [start, end) touches."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    while start < end:
        next_midnight = _day_start(start.date() + timedelta(days=1))
        stop = min(end, next_midnight)
        yield start.date(), (stop - start).total_seconds() / 60
        start = stop


def _visits(
    *, since: datetime, until: datetime, room: Room | None
) -> Iterable[tuple[datetime | None, datetime | None, str]]:
    visits = Participant.objects.filter(joined_at__isnull=False, joined_at__lt=until).filter(
        Q(left_at__isnull=True) | Q(left_at__gt=since)
    )
    if room is not None:
        visits = visits.filter(room=room)
    return visits.values_list("joined_at", "left_at", "state").iterator(chunk_size=2000)


def participant_minutes_by_day(
    *, first_day: date, last_day: date, now: datetime, room: Room | None = None
) -> dict[date, float]:
    """Participant-minutes per UTC day from `first_day` to `last_day` (both included; days
    without any are 0), for all rooms or one."""
    since, until = _day_start(first_day), _day_start(last_day + timedelta(days=1))
    minutes = {first_day + timedelta(days=n): 0.0 for n in range((last_day - first_day).days + 1)}
    for joined_at, left_at, state in _visits(since=since, until=until, room=room):
        if joined_at is None:
            continue
        if left_at is None:
            if state != ParticipantState.ADMITTED:
                continue  # not in the room, and no leave time: nothing to count
            left_at = now
        for day, amount in split_by_day(max(joined_at, since), min(left_at, until)):
            minutes[day] += amount
    return minutes


def room_participant_minutes(*, room: Room, now: datetime) -> float:
    total = 0.0
    for joined_at, left_at, state in _visits(
        since=datetime.min.replace(tzinfo=UTC), until=now, room=room
    ):
        if joined_at is None or (left_at is None and state != ParticipantState.ADMITTED):
            continue
        total += max(((left_at or now) - joined_at).total_seconds(), 0) / 60
    return total


@dataclass(frozen=True, slots=True)
class Usage:
    rooms_created: int
    rooms_created_30_days: int
    rooms_live: int
    participants_now: int
    open_reports: int
    minutes_by_day: dict[date, float]


def usage_summary(*, now: datetime, days: int = 30) -> Usage:
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    return Usage(
        rooms_created=Room.objects.count(),
        rooms_created_30_days=Room.objects.filter(created_at__gte=_day_start(first)).count(),
        rooms_live=Room.objects.filter(state=RoomState.OPEN).count(),
        participants_now=Participant.objects.filter(
            state=ParticipantState.ADMITTED, room__state=RoomState.OPEN
        ).count(),
        open_reports=Report.objects.filter(status=ReportStatus.OPEN).count(),
        minutes_by_day=participant_minutes_by_day(first_day=first, last_day=today, now=now),
    )

"""How much the product is used: meeting minutes and live counts. Reads only.

Participant-minutes are the conferencing industry's headline figure: the sum over visits of
the time each person spent admitted in a room, from `joined_at` to `left_at` (a visit still
open counts up to now). A visit is split at midnight UTC, so each day gets its own share.

The database does the adding up: a page view costs a few aggregate queries whatever the number
of visits, never a loop over them in Python (at 200,000 visits that loop took over 3 s).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count, DateTimeField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate

from rooms.models import Participant, ParticipantState, Report, ReportStatus, Room, RoomState

DAY = timedelta(days=1)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _VisitGroup:
    """Visits that start on one UTC day and end on another (or the same), added up: how many,
    and the sums of their start and end times, each counted from the window's first midnight."""

    start_day: date
    end_day: date
    visits: int
    starts: timedelta
    ends: timedelta


def _spread(
    groups: Iterable[_VisitGroup], *, first_day: date, last_day: date
) -> dict[date, timedelta]:
    """Each group's time per day of the window, from its sums alone. A visit from s to e that
    crosses midnights gives its first day (next midnight - s), every day in between 24 hours
    and its last day (e - that day's midnight); added up over a group that is n times the
    midnight minus the sum of the starts, n full days, and the sum of the ends minus n times
    the midnight. A start before the window counts from the window's first midnight, an end
    after it at the window's last."""
    since = _day_start(first_day)
    time_by_day = {
        first_day + n * DAY: timedelta(0) for n in range((last_day - first_day).days + 1)
    }
    for g in groups:
        if g.start_day < first_day:
            first, into_first = first_day, timedelta(0)
        else:
            first, into_first = g.start_day, g.starts - g.visits * (_day_start(g.start_day) - since)
        if g.end_day > last_day:
            last, into_last = last_day + DAY, timedelta(0)  # the day after: not shown
        else:
            last, into_last = g.end_day, g.ends - g.visits * (_day_start(g.end_day) - since)
        if first == last:
            time_by_day[first] += into_last - into_first
            continue
        time_by_day[first] += g.visits * DAY - into_first
        day = first + DAY
        while day < last:
            time_by_day[day] += g.visits * DAY
            day += DAY
        if last in time_by_day:
            time_by_day[last] += into_last
    return time_by_day


def _visit_groups(
    visits: QuerySet[Participant], *, since: datetime, end: F | Value
) -> Iterable[_VisitGroup]:
    """`visits` grouped by the UTC days of their start and `end`, one row per pair of days:
    about as many rows as days in the window, whatever the number of visits."""
    origin = Value(since, output_field=DateTimeField())
    rows = (
        visits.annotate(
            start_day=TruncDate("joined_at", tzinfo=UTC), end_day=TruncDate(end, tzinfo=UTC)
        )
        .values("start_day", "end_day")
        # COUNT(*), not of a column: the visit-times index then covers the whole query.
        .annotate(visits=Count("*"), starts=Sum(F("joined_at") - origin), ends=Sum(end - origin))
        .order_by()
        .values_list("start_day", "end_day", "visits", "starts", "ends")
    )
    for start_day, end_day, count, starts, ends in rows:
        yield _VisitGroup(start_day, end_day, count, starts, ends)


def participant_minutes_by_day(
    *, first_day: date, last_day: date, now: datetime, room: Room | None = None
) -> dict[date, float]:
    """Participant-minutes per UTC day from `first_day` to `last_day` (both included; days
    without any are 0), for all rooms or one.

    Two grouped queries: visits that ended (their leave time is indexed, so only those ending
    in the window or later are read), and visits still open, which count up to `now`. An open
    visit of someone no longer admitted has no leave time and counts nothing."""
    since, until = _day_start(first_day), _day_start(last_day + DAY)
    visits = Participant.objects.filter(joined_at__lt=until)
    if room is not None:
        visits = visits.filter(room=room)
    ended = visits.filter(left_at__gt=since).filter(left_at__gt=F("joined_at"))
    groups = list(_visit_groups(ended, since=since, end=F("left_at")))
    open_until = min(now, until)
    if open_until > since:
        still_open = visits.filter(
            left_at__isnull=True, state=ParticipantState.ADMITTED, joined_at__lt=open_until
        )
        end = Value(open_until, output_field=DateTimeField())
        groups += _visit_groups(still_open, since=since, end=end)
    time_by_day = _spread(groups, first_day=first_day, last_day=last_day)
    return {day: amount.total_seconds() / 60 for day, amount in time_by_day.items()}


def room_participant_minutes(*, room: Room, now: datetime) -> float:
    """All of one room's participant-minutes up to `now` (open visits up to now)."""
    end = Coalesce("left_at", Value(now, output_field=DateTimeField()))
    total = (
        Participant.objects.filter(room=room, joined_at__lt=now)
        .filter(Q(left_at__isnull=False) | Q(state=ParticipantState.ADMITTED))
        .annotate(end=end)
        .filter(end__gt=F("joined_at"))
        .aggregate(total=Sum(F("end") - F("joined_at")))["total"]
    )
    return total.total_seconds() / 60 if total else 0.0


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
    # One pass over the rooms for the three room counts.
    rooms = Room.objects.aggregate(
        created=Count("*"),
        recent=Count("pk", filter=Q(created_at__gte=_day_start(first))),
        live=Count("pk", filter=Q(state=RoomState.OPEN)),
    )
    return Usage(
        rooms_created=rooms["created"],
        rooms_created_30_days=rooms["recent"],
        rooms_live=rooms["live"],
        participants_now=Participant.objects.filter(
            state=ParticipantState.ADMITTED, room__state=RoomState.OPEN
        ).count(),
        open_reports=Report.objects.filter(status=ReportStatus.OPEN).count(),
        minutes_by_day=_minutes_by_day_cached(first_day=first, today=today, now=now),
    )


def _day_key(day: date) -> str:
    return f"rooms:usage:minutes:{day.isoformat()}"


# A finished UTC day's minutes never change again (a visit still open counts each finished day
# whole), so the dashboard adds each day up once: with the past in the cache a page view reads
# only the visits of today. 1,000,000 visits in the window took about 350 ms to add up on this
# machine (bench/dashboard.py); today's share alone, a thirtieth of that.
PAST_DAYS_CACHE_SECONDS = 40 * 86_400


def _minutes_by_day_cached(*, first_day: date, today: date, now: datetime) -> dict[date, float]:
    past_days = [first_day + n * DAY for n in range((today - first_day).days)]
    cached = cache.get_many([_day_key(day) for day in past_days])
    if all(_day_key(day) in cached for day in past_days):
        minutes = {day: float(cached[_day_key(day)]) for day in past_days}
        minutes |= participant_minutes_by_day(first_day=today, last_day=today, now=now)
        return minutes
    minutes = participant_minutes_by_day(first_day=first_day, last_day=today, now=now)
    cache.set_many(
        {_day_key(day): minutes[day] for day in past_days}, timeout=PAST_DAYS_CACHE_SECONDS
    )
    return minutes

"""Meeting minutes (split at midnight UTC, open visits up to now) and the usage dashboard."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from rooms.models import Participant, ParticipantState, Report, Room, RoomState
from rooms.usage import participant_minutes_by_day, room_participant_minutes, usage_summary
from tests.factories import ParticipantFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 0, 30, tzinfo=UTC)


def test_a_visit_across_midnight_is_split_between_the_days(alice: User) -> None:
    room = RoomFactory(host=alice, state=RoomState.OPEN)
    ParticipantFactory(
        room=room,
        state=ParticipantState.LEFT,
        joined_at=datetime(2026, 11, 19, 23, 40, tzinfo=UTC),
        left_at=datetime(2026, 11, 20, 0, 25, tzinfo=UTC),
    )
    # Still in the room: counts up to now, across midnight again.
    ParticipantFactory(
        room=room,
        state=ParticipantState.ADMITTED,
        joined_at=datetime(2026, 11, 20, 23, 0, tzinfo=UTC),
    )
    # Waited in the lobby, never admitted: no minutes.
    ParticipantFactory(room=room, state=ParticipantState.LOBBY, joined_at=None)
    minutes = participant_minutes_by_day(
        first_day=date(2026, 11, 19), last_day=date(2026, 11, 21), now=NOW
    )
    assert minutes == {
        date(2026, 11, 19): pytest.approx(20),
        date(2026, 11, 20): pytest.approx(25 + 60),
        date(2026, 11, 21): pytest.approx(30),
    }
    assert room_participant_minutes(room=room, now=NOW) == pytest.approx(45 + 90)


def test_days_outside_the_window_are_cut_off(alice: User) -> None:
    room = RoomFactory(host=alice)
    ParticipantFactory(
        room=room,
        state=ParticipantState.LEFT,
        joined_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        left_at=datetime(2026, 11, 3, 12, 0, tzinfo=UTC),
    )
    minutes = participant_minutes_by_day(
        first_day=date(2026, 11, 2), last_day=date(2026, 11, 2), now=NOW
    )
    assert minutes == {date(2026, 11, 2): pytest.approx(24 * 60)}


def test_the_summary_counts_live_rooms_people_and_open_reports(alice: User, bob: User) -> None:
    live = RoomFactory(host=alice, state=RoomState.OPEN)
    RoomFactory(host=alice, state=RoomState.ENDED)
    seat = ParticipantFactory(room=live, user=bob, joined_at=NOW - timedelta(minutes=10))
    Report.objects.create(room=live, reporter=seat, reason="spam")
    summary = usage_summary(now=NOW)
    assert (summary.rooms_created, summary.rooms_live, summary.participants_now) == (2, 1, 1)
    assert summary.open_reports == 1
    assert len(summary.minutes_by_day) == 30
    assert summary.minutes_by_day[NOW.date()] == pytest.approx(10)


def test_the_dashboard_renders_for_staff_with_an_inline_svg_chart(alice: User) -> None:
    staff = UserFactory(username="mod", is_staff=True)
    room = RoomFactory(host=alice, state=RoomState.OPEN)
    ParticipantFactory(room=room, joined_at=datetime.now(UTC) - timedelta(minutes=5))
    client = Client()
    client.force_login(staff)
    page = client.get(reverse("admin:rooms_usage"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<rect" in html
    assert "Rooms live now</th><td>1</td>" in html
    assert "http://" not in html.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )
    # Linked from the rooms' changelist (for staff who may see rooms); the site's admin index is
    # left alone.
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    changelist = client.get(reverse("admin:rooms_room_changelist")).content.decode()
    assert f'href="{reverse("admin:rooms_usage")}"' in changelist


def test_the_dashboard_is_refused_to_non_staff(alice: User) -> None:
    client = Client()
    client.force_login(alice)
    response = client.get(reverse("admin:rooms_usage"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Client().get(reverse("admin:rooms_usage")).status_code == 302


# --- The SQL aggregation against a straightforward reference, on random visits -----------------


def reference_minutes_by_day(
    visits: list[Participant], *, first_day: date, last_day: date, now: datetime
) -> dict[date, float]:
    """Visit by visit, minute by minute of each day: what the dashboard must show."""
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    until = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    minutes = {first_day + timedelta(days=n): 0.0 for n in range((last_day - first_day).days + 1)}
    for visit in visits:
        if visit.joined_at is None:
            continue
        if visit.left_at is None and visit.state != ParticipantState.ADMITTED:
            continue  # not in the room, and no leave time: nothing to count
        start, end = max(visit.joined_at, since), min(visit.left_at or now, until)
        while start < end:
            midnight = datetime.combine(
                start.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC
            )
            stop = min(end, midnight)
            minutes[start.date()] += (stop - start).total_seconds() / 60
            start = stop
    return minutes


def reference_room_minutes(visits: list[Participant], *, now: datetime) -> float:
    total = 0.0
    for visit in visits:
        if visit.joined_at is None or visit.joined_at >= now:
            continue
        if visit.left_at is None and visit.state != ParticipantState.ADMITTED:
            continue
        total += max(((visit.left_at or now) - visit.joined_at).total_seconds(), 0) / 60
    return total


def random_instant(rng: random.Random, around: datetime, days: int) -> datetime:
    """Often exactly on a midnight or a whole minute: the edges where splitting goes wrong."""
    day = around.date() + timedelta(days=rng.randint(-days, 1))
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    kind = rng.random()
    if kind < 0.15:
        return midnight
    if kind < 0.4:
        return midnight + timedelta(minutes=rng.randrange(24 * 60))
    return midnight + timedelta(microseconds=rng.randrange(24 * 3600 * 10**6))


def random_visits(rng: random.Random, rooms: list[Room], now: datetime) -> list[Participant]:
    lengths = [
        lambda: timedelta(minutes=rng.randint(1, 90)),
        lambda: timedelta(hours=rng.uniform(1, 30)),  # often across a midnight
        lambda: timedelta(days=rng.uniform(1, 5)),  # several midnights
        lambda: timedelta(0),
        lambda: -timedelta(minutes=rng.randint(1, 30)),  # a clock went backwards
    ]
    visits = []
    for n in range(rng.randint(20, 70)):
        joined_at: datetime | None = random_instant(rng, now, days=rng.choice([3, 3, 40]))
        left_at: datetime | None = None
        state = rng.choice(list(ParticipantState))
        kind = rng.random()
        if kind < 0.1:
            joined_at = None  # waited in the lobby, never admitted
        elif kind < 0.3:
            pass  # no leave time yet: open if admitted, nothing otherwise
        elif kind < 0.4:
            assert joined_at is not None
            left_at = datetime.combine(  # leaves exactly at a midnight
                joined_at.date() + timedelta(days=rng.randint(0, 3)),
                datetime.min.time(),
                tzinfo=UTC,
            )
        else:
            assert joined_at is not None
            left_at = joined_at + rng.choices(lengths, weights=[5, 3, 1, 1, 1])[0]()
        visits.append(
            Participant(
                room=rng.choice(rooms),
                guest_id=f"guest-{n}",
                display_name=f"Guest {n}",
                state=state,
                joined_at=joined_at,
                left_at=left_at,
            )
        )
    return Participant.objects.bulk_create(visits)


@pytest.mark.parametrize("seed", range(12))
def test_the_sql_sums_match_a_visit_by_visit_reference(alice: User, seed: int) -> None:
    rng = random.Random(seed)
    rooms = [RoomFactory(host=alice) for _ in range(3)]
    now = random_instant(rng, datetime(2026, 11, 21, tzinfo=UTC), days=0)
    visits = random_visits(rng, rooms, now)
    last_day = now.date() + timedelta(days=rng.choice([-2, 0, 0, 1]))
    first_day = last_day - timedelta(days=rng.choice([0, 1, 6, 29]))

    expected = reference_minutes_by_day(visits, first_day=first_day, last_day=last_day, now=now)
    got = participant_minutes_by_day(first_day=first_day, last_day=last_day, now=now)
    assert got == {day: pytest.approx(m, abs=1e-6) for day, m in expected.items()}

    room = rooms[0]
    in_room = [v for v in visits if v.room_id == room.pk]
    expected = reference_minutes_by_day(in_room, first_day=first_day, last_day=last_day, now=now)
    got = participant_minutes_by_day(first_day=first_day, last_day=last_day, now=now, room=room)
    assert got == {day: pytest.approx(m, abs=1e-6) for day, m in expected.items()}
    assert room_participant_minutes(room=room, now=now) == pytest.approx(
        reference_room_minutes(in_room, now=now), abs=1e-6
    )

    today = now.date()
    expected = reference_minutes_by_day(
        visits, first_day=today - timedelta(days=29), last_day=today, now=now
    )
    assert usage_summary(now=now).minutes_by_day == {
        day: pytest.approx(m, abs=1e-6) for day, m in expected.items()
    }
    assert sum(expected.values()) > 0  # the case tests something


@pytest.mark.parametrize("seed", range(4))
def test_a_warm_dashboard_adds_up_only_today_and_gives_the_same_figures(
    alice: User, seed: int
) -> None:
    from django.core.cache import cache

    rng = random.Random(seed)
    rooms = [RoomFactory(host=alice) for _ in range(3)]
    morning = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    random_visits(rng, rooms, morning)
    usage_summary(now=morning)  # the past 29 days are added up once, and kept
    # Later that day: people came and went, some are still in.
    evening = morning + timedelta(hours=10)
    today = [
        Participant(
            room=rng.choice(rooms),
            guest_id=f"{n:032x}",
            display_name="Later",
            state=rng.choice([ParticipantState.LEFT, ParticipantState.ADMITTED]),
            joined_at=morning + timedelta(minutes=rng.randrange(1, 300)),
        )
        for n in range(5)
    ]
    for visit in today:
        if visit.state == ParticipantState.LEFT:
            visit.left_at = visit.joined_at + timedelta(minutes=rng.randrange(1, 200))
    Participant.objects.bulk_create(today)
    warm = usage_summary(now=evening).minutes_by_day
    cache.clear()
    cold = usage_summary(now=evening).minutes_by_day
    assert warm == {day: pytest.approx(m, abs=1e-6) for day, m in cold.items()}
    assert warm[evening.date()] > 0

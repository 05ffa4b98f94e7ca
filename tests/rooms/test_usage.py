"""Meeting minutes (split at midnight UTC, open visits up to now) and the usage dashboard."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from accounts.models import User
from rooms.models import ParticipantState, Report, RoomState
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
    page = client.get("/admin/usage/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<rect" in html
    assert "Rooms live now</th><td>1</td>" in html
    assert "http://" not in html.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )
    assert "/admin/usage/" in client.get("/admin/").content.decode()


def test_the_dashboard_is_refused_to_non_staff(alice: User) -> None:
    client = Client()
    client.force_login(alice)
    response = client.get("/admin/usage/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Client().get("/admin/usage/").status_code == 302

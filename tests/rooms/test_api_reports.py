"""POST /api/rooms/<token>/reports/."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from rooms import services
from rooms.models import Participant, Report
from tests.conftest import as_user
from tests.factories import open_room

pytestmark = pytest.mark.django_db


def test_an_admitted_guest_reports_someone(alice: User) -> None:
    room = open_room(alice, waiting_room=False)
    guest = APIClient()
    guest.post(f"/api/rooms/{room.token}/join/", {"display_name": "Dora"}, format="json")
    host_visit = Participant.objects.get(room=room, user=alice)

    r = guest.post(
        f"/api/rooms/{room.token}/reports/",
        {"reason": "harassment", "details": "rude", "target_id": host_visit.pk},
        format="json",
    )

    assert r.status_code == 201, r.json()
    assert r.json()["reason"] == "harassment"
    assert r.json()["status"] == "open"
    report = Report.objects.get()
    assert report.target == host_visit
    assert report.reporter.display_name == "Dora"


def test_an_admitted_user_reports_the_room(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    services.room_join(token=room.token, identity=services.Identity(user=bob))

    r = as_user(bob).post(f"/api/rooms/{room.token}/reports/", {"reason": "spam"}, format="json")

    assert r.status_code == 201
    assert Report.objects.get().target is None


def test_reports_validate_ownership(api: APIClient, alice: User, charlie: User) -> None:
    room = open_room(alice)
    in_lobby = APIClient()
    in_lobby.post(f"/api/rooms/{room.token}/join/", {"display_name": "Dora"}, format="json")

    for client in (as_user(charlie), api, in_lobby):
        r = client.post(f"/api/rooms/{room.token}/reports/", {"reason": "spam"}, format="json")
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "not_in_room"
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": "boring"},
        {"reason": "spam", "details": "x" * 2001},
        {"reason": "spam", "target_id": "someone"},
        {"reason": "spam", "target_id": 2**60},
    ],
)
def test_reports_validate_input(alice: User, body: dict[str, object]) -> None:
    room = open_room(alice)

    r = as_user(alice).post(f"/api/rooms/{room.token}/reports/", body, format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid"
    assert not Report.objects.exists()


def test_reports_are_limited_per_reporter(
    alice: User, bob: User, friends: None, settings: Any
) -> None:
    settings.ROOMS_REPORTS_PER_HOUR = 2
    room = open_room(alice)
    services.room_join(token=room.token, identity=services.Identity(user=bob))
    url = f"/api/rooms/{room.token}/reports/"

    codes = [
        as_user(bob).post(url, {"reason": "spam"}, format="json").status_code for _ in range(3)
    ]

    assert codes == [201, 201, 429]
    r = as_user(bob).post(url, {"reason": "spam"}, format="json")
    assert r.json()["error"]["code"] == "rate_limited"
    assert int(r["Retry-After"]) > 0
    assert Report.objects.count() == 2
    assert as_user(alice).post(url, {"reason": "spam"}, format="json").status_code == 201

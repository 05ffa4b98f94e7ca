"""The site's own admin with Rooms in it: the site's index stays the site's, Rooms' models and
usage dashboard are reachable, with a user model that has no username."""

from __future__ import annotations

from typing import Any

import pytest
from browsing import PASSWORD, Browser
from conftest import member
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(transactional_db: None) -> Any:
    return member("ada@example.org", "Ada Admin", is_staff=True, is_superuser=True)


async def admin_browser(browser: Any, staff: Any) -> Browser:
    """Signed in through the admin's own log-in form (the email is the username field)."""
    opened: Browser = browser()
    login = reverse("admin:login")
    await opened.get(login)
    answer = await opened.http.post(
        login,
        data={
            "csrfmiddlewaretoken": opened.http.cookies["csrftoken"],
            "username": staff.email,
            "password": PASSWORD,
            "next": reverse("admin:index"),
        },
    )
    assert answer.status_code == 302, answer.text
    return opened


async def test_the_admin_index_is_the_sites_and_lists_rooms(staff: Any, browser: Any) -> None:
    ada = await admin_browser(browser, staff)
    index = await ada.get(reverse("admin:index"))
    assert index.status_code == 200
    assert reverse("admin:people_member_changelist") in index.text
    assert reverse("admin:rooms_room_changelist") in index.text


async def test_rooms_admin_pages_and_the_usage_dashboard_open(
    staff: Any, host: Any, browser: Any
) -> None:
    from asgiref.sync import sync_to_async

    from rooms import services

    room = await sync_to_async(services.room_create)(host=host, title="Admin look")
    ada = await admin_browser(browser, staff)
    rooms_list = await ada.get(reverse("admin:rooms_room_changelist"))
    assert rooms_list.status_code == 200, rooms_list.text
    assert "Admin look" in rooms_list.text
    usage = reverse("admin:rooms_usage")
    assert usage in rooms_list.text
    assert (await ada.get(usage)).status_code == 200
    change = await ada.get(reverse("admin:rooms_room_change", args=[room.pk]))
    assert change.status_code == 200, change.text
    for name in ("ban", "report"):
        answer = await ada.get(reverse(f"admin:rooms_{name}_changelist"))
        assert answer.status_code == 200, (name, answer.text[:500])

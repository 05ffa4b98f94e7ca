"""Suspending from the moderation console goes through `accounts.services`."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")


@pytest.fixture
def mod(db: None) -> User:
    return UserFactory(username="mod", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(mod: User) -> Client:
    client = Client()
    client.force_login(mod)
    return client


def messages_of(response: object) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def test_user_pages_render(staff_client: Client, alice: User, bob: User) -> None:
    services.user_suspend(user=bob, reason="spam")
    for url in [
        CHANGELIST,
        CHANGELIST + "?suspended=yes",
        CHANGELIST + "?q=Alice",
        reverse("admin:accounts_user_change", args=[alice.pk]),
        reverse("admin:accounts_user_add"),
    ]:
        assert staff_client.get(url).status_code == 200, url
    suspended = staff_client.get(CHANGELIST + "?suspended=yes")
    assert [u.username for u in suspended.context["cl"].result_list] == ["bob"]
    page = staff_client.get(reverse("admin:accounts_user_change", args=[alice.pk]))
    assert "Alice" in page.content.decode()


def test_outsiders_are_refused(client: Client, alice: User, bob: User) -> None:
    client.force_login(alice)
    assert client.get(CHANGELIST).status_code == 302
    client.post(
        CHANGELIST,
        {"action": "suspend_users", helpers.ACTION_CHECKBOX_NAME: [bob.pk], "apply": "Suspend"},
    )
    bob.refresh_from_db()
    assert not bob.is_suspended


def test_suspend_asks_for_a_reason_then_suspends(
    staff_client: Client, alice: User, bob: User
) -> None:
    ids = [alice.pk, bob.pk]
    page = staff_client.post(
        CHANGELIST, {"action": "suspend_users", helpers.ACTION_CHECKBOX_NAME: ids, "index": "0"}
    )
    assert page.status_code == 200
    assert 'name="apply"' in page.content.decode()
    assert not User.objects.filter(suspended_at__isnull=False).exists()

    response = staff_client.post(
        CHANGELIST,
        {
            "action": "suspend_users",
            helpers.ACTION_CHECKBOX_NAME: ids,
            "apply": "Suspend",
            "note": "Harassment in rooms",
        },
        follow=True,
    )
    assert "Suspended 2 of 2 selected." in messages_of(response)
    for user in (alice, bob):
        user.refresh_from_db()
        assert user.is_suspended
        assert user.suspension_reason == "Harassment in rooms"


def test_unsuspend(staff_client: Client, alice: User) -> None:
    services.user_suspend(user=alice, reason="spam")
    response = staff_client.post(
        CHANGELIST,
        {"action": "unsuspend_users", helpers.ACTION_CHECKBOX_NAME: [alice.pk], "index": "0"},
        follow=True,
    )
    assert "Unsuspended 1 of 1 selected." in messages_of(response)
    alice.refresh_from_db()
    assert not alice.is_suspended
    assert alice.suspension_reason == ""


def test_a_superuser_cant_be_suspended(staff_client: Client, mod: User) -> None:
    response = staff_client.post(
        CHANGELIST,
        {
            "action": "suspend_users",
            helpers.ACTION_CHECKBOX_NAME: [mod.pk],
            "apply": "Suspend",
            "note": "",
        },
        follow=True,
    )
    assert "mod: Superusers can't be suspended." in messages_of(response)
    mod.refresh_from_db()
    assert not mod.is_suspended


def test_suspension_fields_are_not_editable(staff_client: Client, alice: User) -> None:
    page = staff_client.get(reverse("admin:accounts_user_change", args=[alice.pk]))
    form = page.context["adminform"].form
    assert "suspended_at" not in form.fields
    assert "suspension_reason" not in form.fields
    assert "display_name" in form.fields

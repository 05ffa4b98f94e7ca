"""The moderation console: pages render, actions go through the services, outsiders stay out."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.hashers import make_password
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import User
from feed.models import Post
from rooms import services
from rooms.models import (
    AuditEvent,
    Ban,
    ParticipantState,
    Report,
    ReportReason,
    ReportStatus,
    Role,
    Room,
    RoomState,
)
from tests.factories import ParticipantFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db: None) -> Client:
    client = Client()
    client.force_login(UserFactory(username="mod", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def room(alice: User, bob: User) -> Room:
    """A live room: alice hosts, bob is in it."""
    room = RoomFactory(host=alice, title="Book club", state=RoomState.OPEN)
    ParticipantFactory(room=room, user=alice, role=Role.HOST)
    ParticipantFactory(room=room, user=bob)
    return room


def act(client: Client, model: str, action: str, objs: list[object], **extra: str) -> object:
    return client.post(
        reverse(f"admin:{model}_changelist"),
        {
            "action": action,
            helpers.ACTION_CHECKBOX_NAME: [o.pk for o in objs],  # type: ignore[attr-defined]
            **extra,
        },
        follow=True,
    )


def messages_of(response: object) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def report_on(room: Room, reporter: User, target: User) -> Report:
    return Report.objects.create(
        room=room,
        reporter=room.participants.get(user=reporter),
        target=room.participants.get(user=target),
        reason=ReportReason.HARASSMENT,
        details="shouting",
    )


def test_console_pages_render(staff_client: Client, room: Room, alice: User, bob: User) -> None:
    ban = Ban.objects.create(room=room, user=bob, display_name="Bob", created_by=alice)
    report = report_on(room, alice, bob)
    AuditEvent.objects.create(room=room, kind="room.created", actor_name="Alice", version=1)
    Post.objects.create(author=alice, body="Hello feed")
    pages = [
        reverse("admin:index"),
        reverse("admin:rooms_room_changelist"),
        reverse("admin:rooms_room_changelist") + "?q=Book",
        reverse("admin:rooms_room_change", args=[room.pk]),
        reverse("admin:rooms_ban_changelist"),
        reverse("admin:rooms_ban_change", args=[ban.pk]),
        reverse("admin:rooms_ban_delete", args=[ban.pk]),
        reverse("admin:rooms_report_changelist"),
        reverse("admin:rooms_report_change", args=[report.pk]),
        reverse("admin:feed_post_changelist") + "?q=Hello",
    ]
    for url in pages:
        assert staff_client.get(url).status_code == 200, url

    page = staff_client.get(reverse("admin:rooms_room_change", args=[room.pk])).content.decode()
    assert "Bob" in page  # the participants inline
    assert "room.created" in page  # the audit inline
    assert room.token in page
    changelist = staff_client.get(reverse("admin:rooms_room_changelist")).content.decode()
    assert "Book club" in changelist


def test_outsiders_are_refused(client: Client, room: Room, alice: User) -> None:
    url = reverse("admin:rooms_room_changelist")
    assert client.get(url).status_code == 302  # anonymous: to the log-in page
    client.force_login(alice)  # the host, but not staff
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    act(client, "rooms_room", "end_rooms", [room])
    room.refresh_from_db()
    assert room.state == RoomState.OPEN


def test_room_form_is_read_only(staff_client: Client, room: Room) -> None:
    room.password_hash = make_password("secret")
    room.save()
    url = reverse("admin:rooms_room_change", args=[room.pk])
    response = staff_client.post(url, {"title": "Renamed", "capacity": 2, "locked": "on"})
    assert response.status_code == 403
    room.refresh_from_db()
    assert (room.title, room.capacity, room.locked) == ("Book club", 50, False)
    page = staff_client.get(url).content.decode()
    assert room.password_hash not in page
    assert 'name="_save"' not in page


def test_end_rooms_for_everyone(staff_client: Client, room: Room) -> None:
    response = act(staff_client, "rooms_room", "end_rooms", [room])
    assert "Ended 1 of 1 selected." in messages_of(response)
    room.refresh_from_db()
    assert room.state == RoomState.ENDED
    assert not room.participants.filter(state=ParticipantState.ADMITTED).exists()
    event = AuditEvent.objects.filter(room=room).first()
    assert event is not None
    assert (event.kind, event.actor_name, event.data) == (
        "room.ended",
        "Mod",
        {"by_staff": True, "ended_by": "moderator"},
    )


def test_lock_and_unlock(staff_client: Client, room: Room) -> None:
    act(staff_client, "rooms_room", "lock_rooms", [room])
    room.refresh_from_db()
    assert room.locked
    act(staff_client, "rooms_room", "unlock_rooms", [room])
    room.refresh_from_db()
    assert not room.locked


def test_a_refusal_is_shown_and_the_rest_goes_ahead(staff_client: Client, room: Room) -> None:
    ended = RoomFactory(title="Over", state=RoomState.ENDED)
    response = act(staff_client, "rooms_room", "lock_rooms", [room, ended])
    assert "Over: This room has ended." in messages_of(response)
    assert "Locked 1 of 2 selected." in messages_of(response)
    room.refresh_from_db()
    ended.refresh_from_db()
    assert room.locked
    assert not ended.locked


def test_lifting_a_ban_goes_through_the_service(
    staff_client: Client, room: Room, alice: User, bob: User
) -> None:
    bob_seat = room.participants.get(user=bob)
    ban = services.participant_remove(room=room, actor=alice, participant_id=bob_seat.pk)
    response = staff_client.post(reverse("admin:rooms_ban_delete", args=[ban.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Ban.objects.exists()
    assert AuditEvent.objects.filter(room=room).first().kind == "ban.lifted"  # type: ignore[union-attr]


def test_lift_bans_action(staff_client: Client, room: Room, alice: User, bob: User) -> None:
    ban = Ban.objects.create(room=room, user=bob, display_name="Bob", created_by=alice)
    response = act(staff_client, "rooms_ban", "lift_bans", [ban])
    assert "Lifted 1 of 1 selected." in messages_of(response)
    assert not Ban.objects.exists()


def test_reports_queue_shows_open_first(
    staff_client: Client, room: Room, alice: User, bob: User
) -> None:
    done = report_on(room, alice, bob)
    Report.objects.filter(pk=done.pk).update(status=ReportStatus.RESOLVED)
    waiting = report_on(room, bob, alice)
    response = staff_client.get(reverse("admin:rooms_report_changelist"))
    assert response.status_code == 200
    assert [r.pk for r in response.context["cl"].result_list] == [waiting.pk, done.pk]
    assert "Moderation queue: 1 open report" in response.content.decode()


def test_resolve_reports_asks_for_a_note(
    staff_client: Client, room: Room, alice: User, bob: User
) -> None:
    reports = [report_on(room, alice, bob), report_on(room, bob, alice)]
    url = reverse("admin:rooms_report_changelist")
    ids = [r.pk for r in reports]

    page = staff_client.post(
        url,
        {"action": "resolve_reports", helpers.ACTION_CHECKBOX_NAME: ids, "index": "0"},
    )
    assert page.status_code == 200
    assert page.templates[0].name == "rooms/admin/action_with_note.html"
    assert 'name="apply"' in page.content.decode()
    assert Report.objects.filter(status=ReportStatus.OPEN).count() == 2

    no_note = staff_client.post(
        url,
        {"action": "resolve_reports", helpers.ACTION_CHECKBOX_NAME: ids, "apply": "Resolve"},
    )
    assert no_note.status_code == 200
    assert "This field is required." in no_note.content.decode()
    assert Report.objects.filter(status=ReportStatus.OPEN).count() == 2

    response = staff_client.post(
        url,
        {
            "action": "resolve_reports",
            helpers.ACTION_CHECKBOX_NAME: ids,
            "apply": "Resolve",
            "note": "Warned both.",
        },
        follow=True,
    )
    assert "Resolved 2 of 2 selected." in messages_of(response)
    for report in reports:
        report.refresh_from_db()
        assert report.status == ReportStatus.RESOLVED
        assert report.resolution_note == "Warned both."
        assert report.resolved_by is not None
        assert report.resolved_by.username == "mod"


def test_posts_can_be_taken_down(staff_client: Client, alice: User) -> None:
    post = Post.objects.create(author=alice, body="Spam spam spam")
    response = staff_client.post(reverse("admin:feed_post_delete", args=[post.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Post.objects.exists()

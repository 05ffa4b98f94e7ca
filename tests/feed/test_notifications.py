"""Notifications: who hears what, when, exactly once; never across a block.

Rooms decides what is due and sends rooms.signals (rooms/announce.py); the feed app's receivers
make the notifications counted here (feed/receivers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.services import user_block
from feed import services
from feed.models import Notification, NotificationKind
from rooms import announce
from rooms import services as room_services
from rooms.models import Audience, Room
from tests.celery_helpers import eager_tasks
from tests.factories import UserFactory, befriend, host_arrives

pytestmark = pytest.mark.django_db

K = NotificationKind


@pytest.fixture(autouse=True)
def _eager() -> Iterator[None]:
    with eager_tasks():
        yield


def sent(kind: str, room: Room | None = None) -> list[str]:
    rows = Notification.objects.filter(kind=kind)
    if room is not None:
        rows = rows.filter(room=room)
    return sorted(rows.values_list("recipient__username", flat=True))


@pytest.fixture
def dana(db: None) -> User:
    return UserFactory(username="dana")


def test_an_invitation_notifies_the_invitee_once(
    alice: User, bob: User, charlie: User, django_capture_on_commit_callbacks: Any
) -> None:
    befriend(alice, bob)
    befriend(alice, charlie)
    with django_capture_on_commit_callbacks(execute=True):
        room = room_services.room_create(
            host=alice, title="Book club", audience=Audience.INVITE_ONLY, invitee_ids=[bob.pk]
        )
    with django_capture_on_commit_callbacks(execute=True):
        room_services.invitation_add(room=room, actor=alice, user_ids=[charlie.pk])
    assert sent(K.ROOM_INVITATION) == ["bob", "charlie"]
    announce.announce_sweep()
    announce.room_announce(room_id=room.pk)
    assert sent(K.ROOM_INVITATION) == ["bob", "charlie"]


def test_going_live_reaches_the_hosts_friends_not_the_host_strangers_or_blocked(
    alice: User,
    bob: User,
    charlie: User,
    dana: User,
    friends: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    befriend(alice, dana)
    user_block(blocker=dana, blocked=alice)  # ends the friendship too; blocked either way
    erin = UserFactory(username="erin")
    befriend(alice, erin)
    user_block(blocker=alice, blocked=erin)
    room = room_services.room_create(host=alice, title="Coffee")
    with django_capture_on_commit_callbacks(execute=True):
        host_arrives(room, alice)
    assert sent(K.ROOM_LIVE) == ["bob"]


def test_blocked_relations_never_hear_even_if_friends_rows_remain(
    alice: User, bob: User, friends: None, dana: User
) -> None:
    # A block written straight into the table (no unfriending): the filter alone must hold.
    from accounts.models import Block

    befriend(alice, dana)
    Block.objects.create(blocker=dana, blocked=alice)
    room = room_services.room_create(host=alice, title="Coffee", invitee_ids=[bob.pk])
    host_arrives(room, alice)
    announce.announce_sweep()
    assert sent(K.ROOM_LIVE) == ["bob"]
    assert "dana" not in sent(K.ROOM_INVITATION)


def test_invite_only_goes_live_to_invitees_only(
    alice: User, bob: User, charlie: User, friends: None
) -> None:
    befriend(alice, charlie)
    room = room_services.room_create(
        host=alice, title="Secret", audience=Audience.INVITE_ONLY, invitee_ids=[charlie.pk]
    )
    host_arrives(room, alice)
    announce.room_announce(room_id=room.pk)
    assert sent(K.ROOM_LIVE) == ["charlie"]  # bob is a friend but not invited


def test_the_sweep_catches_up_and_never_sends_twice(
    alice: User, bob: User, charlie: User, friends: None
) -> None:
    # No task ran after commit (as if the worker was down): the sweep delivers everything.
    befriend(alice, charlie)
    room = room_services.room_create(host=alice, title="Coffee", invitee_ids=[charlie.pk])
    host_arrives(room, alice)
    assert Notification.objects.count() == 0
    first = announce.announce_sweep()
    second = announce.announce_sweep()
    announce.room_announce(room_id=room.pk)
    assert (first, second) == (3, 0)
    assert sent(K.ROOM_LIVE) == ["bob", "charlie"]
    assert sent(K.ROOM_INVITATION) == ["charlie"]


def scheduled(host: User, minutes: int, **kwargs: Any) -> tuple[Room, Any]:
    now = timezone.now()
    room = room_services.room_create(
        host=host, title="Later", scheduled_start=now + timedelta(minutes=minutes), **kwargs
    )
    return room, now


def test_reminders_go_at_the_lead_time_to_invitees_people_coming_and_the_host(
    alice: User, bob: User, charlie: User, dana: User, friends: None, settings: Any
) -> None:
    settings.ROOMS_REMINDER_MINUTES = 10
    befriend(alice, dana)
    befriend(alice, charlie)
    room, now = scheduled(alice, 60, invitee_ids=[charlie.pk])
    room_services.rsvp_set(room=room, user=bob, going=True)
    announce.announce_sweep(now=now + timedelta(minutes=49))
    assert sent(K.ROOM_REMINDER) == [] and sent(K.HOST_REMINDER) == []
    announce.announce_sweep(now=now + timedelta(minutes=50))
    announce.announce_sweep(now=now + timedelta(minutes=51))
    assert sent(K.ROOM_REMINDER) == ["bob", "charlie"]  # dana, a friend, did not say she'd come
    assert sent(K.HOST_REMINDER) == ["alice"]


def test_a_moved_start_gets_a_new_reminder_and_a_started_room_none(
    alice: User, bob: User, friends: None
) -> None:
    room, now = scheduled(alice, 5, invitee_ids=[bob.pk])
    announce.announce_sweep(now=now)
    room_services.room_update(
        room=room, actor=alice, scheduled_start=now + timedelta(minutes=8), now=now
    )
    announce.announce_sweep(now=now)
    assert sent(K.ROOM_REMINDER) == ["bob", "bob"]
    other, _ = scheduled(alice, 5, invitee_ids=[bob.pk])
    host_arrives(other, alice)
    announce.room_announce(room_id=other.pk, now=now)
    assert Notification.objects.filter(room=other, kind=K.ROOM_REMINDER).count() == 0


def test_a_reminder_missed_while_the_worker_was_down_is_still_sent_before_the_no_show(
    alice: User, bob: User, friends: None, settings: Any
) -> None:
    settings.ROOMS_NO_SHOW_MINUTES = 30
    _, now = scheduled(alice, 5, invitee_ids=[bob.pk])
    announce.announce_sweep(now=now + timedelta(minutes=20))
    assert sent(K.ROOM_REMINDER) == ["bob"]
    late, _ = scheduled(alice, 5, invitee_ids=[bob.pk])
    announce.announce_sweep(now=now + timedelta(minutes=40))
    assert sent(K.ROOM_REMINDER, late) == []


def test_an_ended_room_notifies_nobody(alice: User, bob: User, friends: None) -> None:
    room = room_services.room_create(host=alice, title="Coffee")
    host_arrives(room, alice)
    room_services.room_end(room=room, actor=alice)
    assert announce.announce_sweep() == 0
    assert Notification.objects.count() == 0


def test_mark_read_some_or_all_and_only_ones_own(
    alice: User, bob: User, charlie: User, friends: None
) -> None:
    befriend(alice, charlie)
    for title in ("One", "Two"):
        room = room_services.room_create(host=alice, title=title)
        host_arrives(room, alice)
    announce.announce_sweep()
    bobs = list(Notification.objects.filter(recipient=bob).order_by("pk"))
    charlies = Notification.objects.filter(recipient=charlie).first()
    assert charlies is not None
    assert services.notifications_mark_read(user=bob, ids=[bobs[0].pk]) == 1
    with pytest.raises(Exception, match="No such notification"):
        services.notifications_mark_read(user=bob, ids=[charlies.pk])
    assert services.notifications_mark_read(user=bob, ids=None) == 0
    charlies.refresh_from_db()
    assert charlies.read_at is None


def test_two_announcers_at_once_deliver_once(
    alice: User, bob: User, friends: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second announcer arrives while the first one's fan-out is being written: it finds
    # the claim and sends nothing (on PostgreSQL it waits on the unique index, same outcome).
    room = room_services.room_create(host=alice, title="Coffee")
    host_arrives(room, alice)
    original: Callable[..., list[User]] = announce.live_audience
    calls: list[int] = []

    def audience_then_race(*, room: Room) -> list[User]:
        calls.append(1)
        if len(calls) == 1:
            announce.room_announce(room_id=room.pk)  # a concurrent duplicate (same DB here)
        return original(room=room)

    monkeypatch.setattr(announce, "live_audience", audience_then_race)
    announce.room_announce(room_id=room.pk)
    assert sent(K.ROOM_LIVE) == ["bob"]

"""rooms.signals, the notifications hook: sent about committed news only, once per (room,
person, kind, occurrence), whatever runs again; a receiver that fails is sent it again later."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Block, User
from feed.models import Notification
from rooms import announce, signals
from rooms import services as room_services
from rooms.models import Audience, Room
from tests.celery_helpers import eager_tasks
from tests.factories import UserFactory, befriend, host_arrives

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Heard:
    signal: str
    room: str
    recipients: tuple[str, ...]
    kind: str
    occurrence: str


@pytest.fixture(autouse=True)
def _eager() -> Iterator[None]:
    with eager_tasks():
        yield


@pytest.fixture
def heard() -> Iterator[list[Heard]]:
    got: list[Heard] = []
    receivers = []
    for name in ("room_invitation", "room_live", "room_reminder"):

        def receiver(sender: type[Room], *, name: str = name, **kwargs: Any) -> None:
            assert sender is Room
            assert kwargs["room"].host.name  # the host comes loaded
            got.append(
                Heard(
                    name,
                    kwargs["room"].title,
                    tuple(user.username for user in kwargs["recipients"]),
                    kwargs["kind"],
                    kwargs["occurrence"],
                )
            )

        getattr(signals, name).connect(receiver, sender=Room)
        receivers.append((name, receiver))
    yield got
    for name, receiver in receivers:
        getattr(signals, name).disconnect(receiver, sender=Room)


def test_an_invitation_is_sent_after_commit_once_per_invitee(
    alice: User,
    bob: User,
    charlie: User,
    heard: list[Heard],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    befriend(alice, bob)
    befriend(alice, charlie)
    with django_capture_on_commit_callbacks() as callbacks:
        room = room_services.room_create(
            host=alice, title="Club", audience=Audience.INVITE_ONLY, invitee_ids=[bob.pk]
        )
        assert heard == []  # not inside the transaction that made the news
    for callback in callbacks:
        callback()
    assert heard == [Heard("room_invitation", "Club", ("bob",), "room_invitation", "")]
    with django_capture_on_commit_callbacks(execute=True):
        room_services.invitation_add(room=room, actor=alice, user_ids=[charlie.pk])
    announce.announce_sweep()
    announce.room_announce(room_id=room.pk)
    assert [h.recipients for h in heard] == [("bob",), ("charlie",)]


def test_going_live_is_sent_once_to_the_hosts_friends(
    alice: User, bob: User, charlie: User, heard: list[Heard]
) -> None:
    befriend(alice, bob)
    dana = UserFactory(username="dana")
    befriend(alice, dana)
    Block.objects.create(blocker=dana, blocked=alice)  # a block either way: never told
    room = room_services.room_create(host=alice, title="Coffee")
    host_arrives(room, alice)
    for _ in range(2):
        announce.announce_sweep()
        announce.room_announce(room_id=room.pk)
    assert heard == [Heard("room_live", "Coffee", ("bob",), "room_live", "")]


def test_reminders_are_sent_once_per_start_time(
    alice: User, bob: User, heard: list[Heard], settings: Any
) -> None:
    settings.ROOMS_REMINDER_MINUTES = 10
    befriend(alice, bob)
    now = timezone.now()
    room = room_services.room_create(
        host=alice, title="Later", scheduled_start=now + timedelta(minutes=30), invitee_ids=[bob.pk]
    )
    announce.announce_sweep(now=now)
    assert heard == [Heard("room_invitation", "Later", ("bob",), "room_invitation", "")]
    heard.clear()  # the reminders are not due yet
    announce.announce_sweep(now=now + timedelta(minutes=20))
    announce.announce_sweep(now=now + timedelta(minutes=21))
    key = announce.reminder_key(now + timedelta(minutes=30))
    assert heard == [
        Heard("room_reminder", "Later", ("bob",), "room_reminder", key),
        Heard("room_reminder", "Later", ("alice",), "host_reminder", key),
    ]
    moved = now + timedelta(minutes=25)
    room_services.room_update(room=room, actor=alice, scheduled_start=moved, now=now)
    announce.announce_sweep(now=now + timedelta(minutes=21))
    assert {h.occurrence for h in heard[2:]} == {announce.reminder_key(moved)}
    assert len(heard) == 4


def test_news_rolled_back_is_never_sent(alice: User, bob: User, heard: list[Heard]) -> None:
    befriend(alice, bob)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        room_services.room_create(host=alice, title="Never", invitee_ids=[bob.pk])
        raise Undo
    assert announce.announce_sweep() == 0
    assert heard == []


def test_a_failing_receiver_is_sent_it_again_and_writes_stay_single(alice: User, bob: User) -> None:
    befriend(alice, bob)
    calls: list[int] = []

    def flaky(sender: type[Room], **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the receiver's own outage")

    signals.room_live.connect(flaky, sender=Room)
    try:
        room = room_services.room_create(host=alice, title="Coffee")
        host_arrives(room, alice)
        assert announce.announce_sweep() == 0
        # Nothing of it was kept: the feed's receiver ran first, and its notification went back
        # with the record of the announcement.
        assert Notification.objects.filter(kind="room_live").count() == 0
        assert announce.announce_sweep() == 1
        assert announce.announce_sweep() == 0
    finally:
        signals.room_live.disconnect(flaky, sender=Room)
    assert len(calls) == 2
    assert list(Notification.objects.filter(kind="room_live").values_list("recipient_id")) == [
        (bob.pk,)
    ]

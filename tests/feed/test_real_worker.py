"""A real Celery worker on Redis delivers a scheduled reminder and a going-live notification
exactly once, across a worker killed mid-way and a new one started.

The web side (this test) enqueues to the broker as a web process would; the worker runs the
tasks against the same PostgreSQL test database. Worker 1 is killed with SIGKILL (no graceful
shutdown) right after the room went live, while duplicates pile up in the queue; worker 2 then
works through them and a final sweep. Counting rows at the end shows one of each.

Needs PostgreSQL (DATABASE_URL) and Redis (database 7 of REDIS_URL's server, flushed). Skipped
without them, except in CI (ROOMS_REQUIRE_SERVICES=1), where it must run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from celery import Celery
from django.utils import timezone

from accounts.models import Block
from feed.models import Notification, NotificationKind
from rooms import announce
from rooms import services as room_services
from tests.celery_helpers import CeleryWorker as Worker
from tests.celery_helpers import private_broker, wait_until
from tests.factories import UserFactory, befriend, host_arrives

REDIS_DB = 7
K = NotificationKind


@pytest.fixture
def broker(transactional_db: None) -> Iterator[tuple[str, dict[str, str]]]:
    with private_broker(REDIS_DB) as found:
        yield found


def count(kind: str, username: str) -> int:
    return Notification.objects.filter(kind=kind, recipient__username=username).count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reminder_and_going_live_are_delivered_exactly_once_across_a_worker_restart(
    broker: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, env = broker
    client = Celery("web", broker=url)
    client.conf.task_serializer = "json"

    def send(task: str, *args: object) -> str:
        task_id = str(uuid.uuid4())
        client.send_task(task, args=list(args), task_id=task_id)
        return task_id

    # The web side enqueues after commit to the broker this worker listens on.
    monkeypatch.setattr(
        announce, "_enqueue", lambda room_id: send("rooms.tasks.announce_room", room_id)
    )

    host = UserFactory(username="w_host")
    friend = UserFactory(username="w_friend")
    invitee = UserFactory(username="w_invitee")
    blocked = UserFactory(username="w_blocked")
    befriend(host, friend)
    befriend(host, invitee)
    befriend(host, blocked)
    Block.objects.create(blocker=blocked, blocked=host)
    # Starts in 2 minutes: the reminder (10 minutes ahead by default) is already due.
    room = room_services.room_create(
        host=host,
        title="Across restarts",
        scheduled_start=timezone.now() + timedelta(minutes=2),
        invitee_ids=[invitee.pk],
    )

    workers: list[Worker] = []
    try:
        first = Worker("w1", env)
        workers.append(first)
        first.wait_for("ready.")
        send("rooms.tasks.sweep_announcements")
        wait_until(lambda: count(K.ROOM_REMINDER, "w_invitee") == 1, "the reminder")
        wait_until(lambda: count(K.HOST_REMINDER, "w_host") == 1, "the host's reminder")

        host_arrives(room, host)  # the room goes live: announce_room is enqueued on commit
        first.kill()  # mid-way: the live announcement may or may not have been delivered
        for _ in range(2):  # while no worker runs, duplicates pile up
            send("rooms.tasks.announce_room", room.pk)
            send("rooms.tasks.sweep_announcements")

        second = Worker("w2", env)
        workers.append(second)
        second.wait_for("ready.")
        last = send("rooms.tasks.sweep_announcements")
        second.wait_for(f"{last}] succeeded")
    finally:
        for worker in workers:
            worker.stop()
        client.close()

    assert count(K.ROOM_REMINDER, "w_invitee") == 1
    assert count(K.HOST_REMINDER, "w_host") == 1
    assert count(K.ROOM_LIVE, "w_friend") == 1
    assert count(K.ROOM_LIVE, "w_invitee") == 1  # invitees are friends of the host
    assert count(K.ROOM_INVITATION, "w_invitee") == 1
    # Never the host, never a blocked relation, never twice: these are all there are.
    assert Notification.objects.count() == 5

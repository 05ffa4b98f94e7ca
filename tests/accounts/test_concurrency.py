"""Friend requests crossing each other at the same moment: needs PostgreSQL row locks."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts import services
from accounts.models import FriendRequest, Friendship
from tests.conftest import require_postgres
from tests.factories import UserFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_crossing_requests_make_friends_not_two_pending_requests() -> None:
    require_postgres()
    for round_ in range(5):
        a = UserFactory(username=f"a{round_}")
        b = UserFactory(username=f"b{round_}")
        barrier = threading.Barrier(2)

        def send(sender, recipient, barrier=barrier) -> None:  # type: ignore[no-untyped-def]
            try:
                barrier.wait(timeout=10)
                services.friend_request_send(sender=sender, recipient=recipient)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=send, args=(a, b)),
            threading.Thread(target=send, args=(b, a)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert Friendship.objects.filter(user=a, friend=b).exists()
        assert not FriendRequest.objects.filter(from_user__in=[a, b]).exists()

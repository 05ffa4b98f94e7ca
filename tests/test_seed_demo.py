"""`manage.py seed_demo`: the demo world, created once however often it runs."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import FriendRequest, Friendship, User
from accounts.selectors import are_friends
from feed.models import Post
from rooms.models import Audience, AuditEvent, Invitation, Room, RoomState

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True  # the command refuses to run in production


def snapshot() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "friendships": Friendship.objects.count(),
        "requests": FriendRequest.objects.count(),
        "posts": Post.objects.count(),
        "rooms": Room.objects.count(),
        "invitations": Invitation.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_it_creates_the_demo_world() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    users = {u.username: u for u in User.objects.all()}
    assert set(users) == {"alice", "bob", "charlie", "dana", "admin"}
    for user in users.values():
        assert user.check_password("rooms-demo-2026")
        assert user.display_name
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert not users["alice"].is_staff

    def friends(a: str, b: str) -> bool:
        return are_friends(a=users[a], b=users[b])

    assert friends("alice", "bob") and friends("alice", "charlie") and friends("bob", "dana")
    assert not friends("charlie", "dana") and not friends("alice", "dana")
    assert not FriendRequest.objects.exists()
    assert Post.objects.count() >= 3

    alice_room = Room.objects.get(host=users["alice"])
    assert alice_room.audience == Audience.FRIENDS
    assert alice_room.state == RoomState.SCHEDULED
    assert alice_room.scheduled_start is not None
    bob_room = Room.objects.get(host=users["bob"])
    assert bob_room.audience == Audience.INVITE_ONLY
    assert list(bob_room.invitations.values_list("user__username", flat=True)) == ["alice"]

    printed = out.getvalue()
    assert "alice / rooms-demo-2026" in printed
    assert "admin / rooms-demo-2026" in printed


def test_running_it_twice_changes_nothing() -> None:
    call_command("seed_demo", stdout=StringIO())
    before = snapshot()
    call_command("seed_demo", stdout=StringIO())
    assert snapshot() == before


def test_it_refuses_to_run_in_production(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published password"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()

"""Demo data for a first look: four friends, a few posts, two upcoming rooms and an admin.

Idempotent: whatever already exists is left as it is, so running it again changes nothing.
Everything that has a rule is created through the services, as a user would.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import FriendRequest, User
from accounts.selectors import are_friends
from feed import services as feed_services
from feed.models import Post
from rooms import services as rooms_services
from rooms.models import Audience, Room, RoomState

PASSWORD = "rooms-demo-2026"  # noqa: S105 - published on purpose: demo accounts only
PEOPLE = [
    ("alice", "Alice Liddell"),
    ("bob", "Bob Marley"),
    ("charlie", "Charlie Parker"),
    ("dana", "Dana Scully"),
]
FRIENDS = [("alice", "bob"), ("alice", "charlie"), ("bob", "dana")]
POSTS = [
    ("alice", "Book club on Friday? I'll open a room."),
    ("bob", "Anyone up for a jam session this week?"),
    ("charlie", "Just finished a great record. Recommendations welcome!"),
    ("dana", "The truth is out there."),
]
ALICE_ROOM = "Book club: The Hobbit"
BOB_ROOM = "Jam session (invite only)"


class Command(BaseCommand):
    help = "Create demo users, friendships, posts and rooms (safe to run more than once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run even with DEBUG off (the demo accounts have a published password).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "seed_demo creates accounts with a published password, including a superuser; "
                "refusing with DEBUG off (use --allow-production to insist)."
            )
        with transaction.atomic():
            users = {name: self._user(name, display) for name, display in PEOPLE}
            self._admin()
            for a, b in FRIENDS:
                self._befriend(users[a], users[b])
            for author, body in POSTS:
                if not Post.objects.filter(author=users[author], body=body).exists():
                    feed_services.post_create(author=users[author], body=body)
            tomorrow = timezone.localdate() + timedelta(days=1)
            self._room(
                host=users["alice"],
                title=ALICE_ROOM,
                description="Chapter 1 to 5. Bring tea.",
                scheduled_start=_at(tomorrow, time(18, 0)),
                audience=Audience.FRIENDS,
            )
            self._room(
                host=users["bob"],
                title=BOB_ROOM,
                description="Bring an instrument.",
                scheduled_start=_at(tomorrow, time(20, 0)),
                audience=Audience.INVITE_ONLY,
                invitee_ids=[users["alice"].pk],
            )
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Log in with:"))
        for name, display in PEOPLE:
            self.stdout.write(f"  {name} / {PASSWORD}  ({display})")
        self.stdout.write(f"  admin / {PASSWORD}  (superuser, /admin/)")

    def _user(self, username: str, display_name: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username,
                password=PASSWORD,
                email=f"{username}@example.com",
                display_name=display_name,
            )
            self.stdout.write(f"Created user {username}")
        return user

    def _admin(self) -> None:
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser(
                username="admin",
                password=PASSWORD,
                email="admin@example.com",
                display_name="Moderator",
            )
            self.stdout.write("Created superuser admin")

    def _befriend(self, sender: User, recipient: User) -> None:
        if are_friends(a=sender, b=recipient):
            return
        request = FriendRequest.objects.filter(from_user=sender, to_user=recipient).first()
        if request is None:
            request = accounts_services.friend_request_send(sender=sender, recipient=recipient)
        if request is not None:  # None: the other side had asked already, so they are friends
            accounts_services.friend_request_accept(user=recipient, request_id=request.pk)
        self.stdout.write(f"{sender.username} and {recipient.username} are now friends")

    def _room(self, *, host: User, title: str, **fields: Any) -> None:
        if Room.objects.filter(host=host, title=title).exclude(state=RoomState.ENDED).exists():
            return
        rooms_services.room_create(host=host, title=title, **fields)
        self.stdout.write(f"Created room {title!r} hosted by {host.username}")


def _at(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))

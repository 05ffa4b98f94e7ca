from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Friendship, User
from rooms.models import Participant, ParticipantState, Role, Room

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda u: u.username.capitalize())
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.LazyFunction(lambda: make_password(PASSWORD))


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    host = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Room {n}")


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    room = factory.SubFactory(RoomFactory)
    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda p: p.user.name if p.user else "Guest")
    role = Role.PARTICIPANT
    state = ParticipantState.ADMITTED


def befriend(a: User, b: User) -> None:
    Friendship.objects.get_or_create(user=a, friend=b)
    Friendship.objects.get_or_create(user=b, friend=a)


def host_arrives(room: Room, host: User) -> Participant:
    """The host joins and their socket connects, which is when a room opens."""
    from rooms import services

    seat = services.room_join(token=room.token, identity=services.Identity(user=host)).participant
    services.participant_connected(participant_id=seat.pk)
    room.refresh_from_db()
    return seat


def open_room(host: User, **settings: Any) -> Room:
    """A room created through the service (settings as room_create takes them) that its host
    has arrived in: open, with the host's seat connected."""
    from rooms import services

    room = services.room_create(host=host, title="Standup", **settings)
    host_arrives(room, host)
    return room

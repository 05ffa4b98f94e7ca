"""The social-graph adapter: DefaultAdapter's answers, loading ROOMS_ADAPTER, and Rooms asking
the adapter (not the reference site's accounts) about friends, blocks, names and suspension."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone

from accounts.adapter import AccountsAdapter
from accounts.models import Block, User
from rooms import conf, selectors, services
from rooms.adapter import DefaultAdapter, RoomsAdapter, get_adapter
from rooms.errors import Forbidden
from rooms.models import Audience, Room
from rooms.policy import Outcome, Reason
from tests.conftest import as_user
from tests.factories import RoomFactory, UserFactory, befriend, host_arrives
from tests.rooms.test_page_room import page_config

DEFAULT = "rooms.adapter.DefaultAdapter"


# --- DefaultAdapter -------------------------------------------------------------------------


@dataclass
class EmailLogin:
    """A user model with email login and no username (like the host-site test's)."""

    pk: int
    email: str
    full_name: str = ""
    is_active: bool = True
    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    def get_username(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name


@dataclass
class HandleOnly:
    """A user model with a `handle` login and no full name at all."""

    pk: int
    handle: str
    is_active: bool = True
    USERNAME_FIELD = "handle"

    def get_username(self) -> str:
        return self.handle


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (User(pk=1, username="alice", first_name="Alice", last_name="Liddell"), "Alice Liddell"),
        (User(pk=2, username="bob", first_name="Bob"), "Bob"),
        (User(pk=3, username="charlie"), "charlie"),
        (EmailLogin(pk=4, email="dana@example.com", full_name="Dana Scully"), "Dana Scully"),
        # Never the email address: the name is shown to guests holding the room's link.
        (EmailLogin(pk=5, email="erin@example.com"), "Member 5"),
        (HandleOnly(pk=6, handle="frank"), "frank"),
        (HandleOnly(pk=7, handle=""), "Member 7"),
    ],
)
def test_default_display_name(user: Any, expected: str) -> None:
    assert DefaultAdapter().display_name(user) == expected


@pytest.mark.parametrize(
    ("method", "active", "expected"),
    [
        ("can_create_rooms", True, True),
        ("can_create_rooms", False, False),
        ("can_join_rooms", True, True),
        ("can_join_rooms", False, False),
        ("avatar_url", True, ""),
    ],
)
def test_default_account_answers(method: str, active: bool, expected: object) -> None:
    user = EmailLogin(pk=1, email="a@example.com", is_active=active)
    assert getattr(DefaultAdapter(), method)(user) == expected


@pytest.mark.django_db
def test_default_adapter_knows_no_friends_and_no_blocks(alice: User, bob: User) -> None:
    # Whatever the reference site stores, plain auth has no social graph.
    befriend(alice, bob)
    Block.objects.create(blocker=alice, blocked=bob)
    adapter = DefaultAdapter()
    assert adapter.are_friends(alice, bob) is False
    assert adapter.is_blocked(alice, bob) is False
    # Empty, and still usable inside a query (in an OR and in an exclude alike).
    RoomFactory(host=bob, audience=Audience.FRIENDS)
    assert not Room.objects.filter(host__in=adapter.friend_ids(alice)).exists()
    assert Room.objects.exclude(host__in=adapter.blocked_ids(alice)).count() == 1


# --- the base class -------------------------------------------------------------------------


class GraphOnly(RoomsAdapter):
    """An adapter that writes only the two required methods: bob is everybody's friend and
    charlie is blocked by everybody."""

    def friend_ids(self, user: Any) -> Any:
        return User.objects.filter(username="bob").exclude(pk=user.pk).values("pk")

    def blocked_ids(self, user: Any) -> Any:
        return User.objects.filter(username="charlie").exclude(pk=user.pk).values("pk")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "a", "b", "expected"),
    [
        ("are_friends", "alice", "bob", True),
        ("are_friends", "alice", "charlie", False),
        ("is_blocked", "alice", "charlie", True),
        ("is_blocked", "alice", "bob", False),
    ],
)
def test_base_answers_pairs_from_its_subqueries(
    method: str, a: str, b: str, expected: bool
) -> None:
    people = {name: UserFactory(username=name) for name in ("alice", "bob", "charlie")}
    assert getattr(GraphOnly(), method)(people[a], people[b]) is expected


@pytest.mark.parametrize("method", ["friend_ids", "blocked_ids"])
def test_base_requires_the_graph(method: str) -> None:
    with pytest.raises(NotImplementedError, match=method):
        getattr(RoomsAdapter(), method)(User(pk=1))


# --- get_adapter ----------------------------------------------------------------------------


def test_get_adapter_loads_the_setting_once(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_ADAPTER = DEFAULT
    assert type(get_adapter()) is DefaultAdapter
    assert get_adapter() is get_adapter()
    settings.ROOMS_ADAPTER = "accounts.adapter.AccountsAdapter"
    assert type(get_adapter()) is AccountsAdapter


def test_get_adapter_defaults_to_plain_auth(settings) -> None:  # type: ignore[no-untyped-def]
    # A site that sets no ROOMS_ADAPTER gets this default (rooms/conf.py; tests/rooms/test_conf.py).
    settings.ROOMS_ADAPTER = conf.DEFAULTS_BY_NAME["ROOMS_ADAPTER"].default
    assert type(get_adapter()) is DefaultAdapter


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("mysite.nowhere.Adapter", "can't be imported"),
        ("rooms.adapter.NoSuchAdapter", "can't be imported"),
        ("rooms.models.Room", "is not a subclass of rooms.adapter.RoomsAdapter"),
        ("", "dotted path"),
        (None, "dotted path"),
    ],
)
def test_a_bad_adapter_setting_names_the_setting(settings, value: object, says: str) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_ADAPTER = value
    with pytest.raises(ImproperlyConfigured, match="ROOMS_ADAPTER") as error:
        get_adapter()
    assert says in str(error.value)


# --- Rooms asks the adapter -----------------------------------------------------------------


@pytest.fixture
def plain_auth(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_ADAPTER = DEFAULT


@pytest.mark.django_db
def test_with_plain_auth_a_friends_room_is_reached_through_the_waiting_room(
    plain_auth: None, alice: User, bob: User
) -> None:
    befriend(alice, bob)  # the reference site's friendship means nothing to DefaultAdapter
    room = RoomFactory(host=alice, audience=Audience.FRIENDS)
    host_arrives(room, alice)
    joined = services.room_join(token=room.token, identity=services.Identity(user=bob))
    assert (joined.decision.outcome, joined.decision.reason) == (
        Outcome.LOBBY,
        Reason.WAITING_ROOM,
    )
    assert joined.participant.display_name == "bob"  # no first or last name: the username
    live, upcoming = selectors.feed_rooms(user=bob, now=timezone.now())
    assert (live, upcoming) == ([], [])


@pytest.mark.django_db
def test_with_plain_auth_a_block_hides_nothing(plain_auth: None, alice: User, bob: User) -> None:
    Block.objects.create(blocker=alice, blocked=bob)
    room = RoomFactory(host=alice)
    assert selectors.room_by_token(token=room.token, user=bob) == room


class NobodyMayCreate(DefaultAdapter):
    def can_create_rooms(self, user: Any) -> bool:
        return False

    def can_join_rooms(self, user: Any) -> bool:
        return user.username != "bob"


@pytest.mark.django_db
def test_the_adapter_decides_who_may_create_and_join(settings, alice: User, bob: User) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_ADAPTER = f"{__name__}.NobodyMayCreate"
    with pytest.raises(Forbidden) as refused:
        services.room_create(host=alice, title="Book club")
    assert refused.value.code == "suspended"
    room = RoomFactory(host=alice, waiting_room=False)
    host_arrives(room, alice)
    with pytest.raises(services.JoinDenied) as denied:
        services.room_join(token=room.token, identity=services.Identity(user=bob))
    assert denied.value.code == "suspended"


class Titled(AccountsAdapter):
    def display_name(self, user: Any) -> str:
        return f"Dr. {user.username}"

    def avatar_url(self, user: Any) -> str:
        return f"/avatars/{user.pk}.png"


@pytest.mark.django_db
def test_names_and_avatars_come_from_the_adapter(  # type: ignore[no-untyped-def]
    settings, client: Client, alice: User, bob: User
) -> None:
    settings.ROOMS_ADAPTER = f"{__name__}.Titled"
    room = RoomFactory(host=alice, waiting_room=False)
    client.force_login(bob)
    html = client.get(f"/r/{room.token}/").content.decode()
    assert 'Hosted by <span translate="no">Dr. alice</span>' in html
    assert 'You\'re joining as <strong translate="no">Dr. bob</strong>' in html
    config = page_config(html)
    assert config["room"]["host_name"] == "Dr. alice"
    assert (config["viewer"]["name"], config["viewer"]["avatar_url"]) == (
        "Dr. bob",
        f"/avatars/{bob.pk}.png",
    )

    host = as_user(alice)
    assert host.get(f"/api/rooms/{room.token}/").json()["host_name"] == "Dr. alice"
    r = host.post(f"/api/rooms/{room.token}/cohosts/", {"user_id": bob.pk}, format="json")
    assert r.status_code == 201 and r.json()["display_name"] == "Dr. bob"
    joined = services.room_join(token=room.token, identity=services.Identity(user=bob))
    assert joined.participant.display_name == "Dr. bob"

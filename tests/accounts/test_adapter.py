"""accounts.adapter.AccountsAdapter: Rooms' adapter answers exactly as accounts' own rules do."""

from __future__ import annotations

from itertools import permutations

import pytest

from accounts import selectors, services
from accounts.adapter import AccountsAdapter
from accounts.models import User
from rooms.adapter import get_adapter
from rooms.models import Audience, Room
from tests.factories import RoomFactory, UserFactory, befriend

NAMES = ("alice", "bob", "charlie", "dana", "erin")


@pytest.fixture
def people(db: None) -> dict[str, User]:
    """alice-bob and bob-dana are friends; alice blocked charlie, dana blocked alice; erin has
    a display name nobody else has and knows nobody."""
    people = {name: UserFactory(username=name, display_name="") for name in NAMES}
    people["erin"].display_name = "Erin E."
    people["erin"].save()
    befriend(people["alice"], people["bob"])
    befriend(people["bob"], people["dana"])
    services.user_block(blocker=people["alice"], blocked=people["charlie"])
    services.user_block(blocker=people["dana"], blocked=people["alice"])
    return people


def _pks(queryset: object) -> set[int]:
    # Through the user table, as Rooms reads it: the adapter's QuerySet is only a subquery.
    return set(User.objects.filter(pk__in=queryset).values_list("pk", flat=True))


def test_the_reference_site_uses_it() -> None:
    assert type(get_adapter()) is AccountsAdapter


def test_pairs_agree_with_accounts_selectors(people: dict[str, User]) -> None:
    adapter = AccountsAdapter()
    for a, b in permutations(people.values(), 2):
        assert adapter.are_friends(a, b) == selectors.are_friends(a=a, b=b), (a, b)
        assert adapter.is_blocked(a, b) == selectors.blocked_either_way(a=a, b=b), (a, b)


def test_friends_and_blocks_agree_with_accounts_selectors(people: dict[str, User]) -> None:
    adapter = AccountsAdapter()
    for user in people.values():
        assert _pks(adapter.friend_ids(user)) == set(selectors.friend_ids(user=user))
        blocked = User.objects.filter(selectors.block_relation_q(user=user, field="id"))
        assert _pks(adapter.blocked_ids(user)) == set(blocked.values_list("pk", flat=True))
    assert _pks(adapter.blocked_ids(people["alice"])) == {
        people["charlie"].pk,
        people["dana"].pk,
    }


def test_subqueries_stay_inside_one_query(
    people: dict[str, User],
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    adapter = AccountsAdapter()
    for host in ("bob", "charlie", "dana"):
        RoomFactory(host=people[host], audience=Audience.FRIENDS)
    alice = people["alice"]
    with django_assert_num_queries(1):
        hosts = set(
            Room.objects.filter(host__in=adapter.friend_ids(alice))
            .exclude(host__in=adapter.blocked_ids(alice))
            .values_list("host__username", flat=True)
        )
    assert hosts == {"bob"}


def test_display_name_is_the_accounts_name(people: dict[str, User]) -> None:
    adapter = AccountsAdapter()
    assert {adapter.display_name(user) for user in people.values()} == {
        "alice",
        "bob",
        "charlie",
        "dana",
        "Erin E.",
    }
    assert all(adapter.display_name(u) == u.name for u in people.values())
    assert adapter.avatar_url(people["alice"]) == ""


def test_a_suspended_or_inactive_account_may_neither_create_nor_join(
    people: dict[str, User],
) -> None:
    adapter = AccountsAdapter()
    alice, bob = people["alice"], people["bob"]
    services.user_suspend(user=alice, reason="spam")
    bob.is_active = False
    for user, allowed in ((alice, False), (bob, False), (people["charlie"], True)):
        assert adapter.can_create_rooms(user) is allowed
        assert adapter.can_join_rooms(user) is allowed
    services.user_unsuspend(user=alice)
    assert adapter.can_create_rooms(alice) and adapter.can_join_rooms(alice)

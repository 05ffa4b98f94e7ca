from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Block, FriendRequest, User
from accounts.selectors import are_friends
from tests.conftest import as_user

URL = "/api/blocks/"


def test_it_blocks(alice: User, bob: User, friends: None) -> None:
    r = as_user(alice).post(URL, {"username": "bob"}, format="json")
    assert r.status_code == 201
    assert r.json() == {"id": bob.id, "username": "bob", "display_name": "Bob"}
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()
    # The friendship ends, both ways.
    assert not are_friends(a=alice, b=bob) and not are_friends(a=bob, b=alice)


def test_it_removes_pending_requests_both_ways(alice: User, bob: User, charlie: User) -> None:
    services.friend_request_send(sender=alice, recipient=bob)
    services.friend_request_send(sender=charlie, recipient=bob)
    as_user(bob).post(URL, {"username": "alice"}, format="json")
    assert list(FriendRequest.objects.values_list("from_user__username", flat=True)) == ["charlie"]


def test_it_stops_requests_from_either_side(alice: User, bob: User) -> None:
    as_user(alice).post(URL, {"username": "bob"}, format="json")
    for sender, username in ((bob, "alice"), (alice, "bob")):
        r = as_user(sender).post("/api/friends/requests/", {"username": username}, format="json")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "user_not_found"


def test_it_lists_only_my_blocks(alice: User, bob: User, charlie: User) -> None:
    services.user_block(blocker=alice, blocked=bob)
    assert [u["username"] for u in as_user(alice).get(URL).json()["results"]] == ["bob"]
    assert as_user(bob).get(URL).json()["results"] == []
    assert as_user(charlie).get(URL).json()["results"] == []


def test_it_unblocks(alice: User, bob: User) -> None:
    services.user_block(blocker=alice, blocked=bob)
    r = as_user(alice).delete(f"{URL}{bob.id}/")
    assert r.status_code == 204
    assert not Block.objects.exists()
    # Bob can find alice again.
    assert len(as_user(bob).get("/api/users/", {"q": "alice"}).json()) == 1


def test_it_validates_ownership(alice: User, bob: User, charlie: User) -> None:
    services.user_block(blocker=alice, blocked=bob)
    # Neither the blocked person nor a stranger can lift alice's block.
    for user in (bob, charlie):
        r = as_user(user).delete(f"{URL}{bob.id}/")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_blocked"
    assert as_user(bob).delete(f"{URL}{alice.id}/").status_code == 404
    assert Block.objects.count() == 1


def test_it_refuses_unknown_users_and_self(alice: User) -> None:
    r = as_user(alice).post(URL, {"username": "nobody"}, format="json")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "user_not_found"
    r = as_user(alice).post(URL, {"username": "alice"}, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "cannot_block_self"


@pytest.mark.parametrize("body", [{}, {"username": ""}, {"username": "b" * 151}, {"username": {}}])
def test_it_validates_input(alice: User, body: Any) -> None:
    r = as_user(alice).post(URL, body, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid"


def test_it_validates_the_id(alice: User) -> None:
    assert as_user(alice).delete(f"{URL}{'1' * 40}/").status_code == 400


def test_it_refuses_anonymous(api: APIClient, alice: User, bob: User) -> None:
    services.user_block(blocker=alice, blocked=bob)
    assert api.get(URL).status_code in (401, 403)
    assert api.post(URL, {"username": "bob"}, format="json").status_code in (401, 403)
    assert api.delete(f"{URL}{bob.id}/").status_code in (401, 403)
    assert Block.objects.count() == 1

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import services
from accounts.models import FriendRequest, User
from accounts.selectors import are_friends
from tests.conftest import as_user
from tests.factories import UserFactory

URL = "/api/friends/requests/"


def send(sender: User, username: str) -> Any:
    return as_user(sender).post(URL, {"username": username}, format="json")


# --- send -------------------------------------------------------------------------------------


def test_it_sends(alice: User, bob: User) -> None:
    r = send(alice, "bob")
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "pending"
    assert body["request"]["to_user"] == {"id": bob.id, "username": "bob", "display_name": "Bob"}
    assert FriendRequest.objects.filter(from_user=alice, to_user=bob).exists()


def test_it_befriends_at_once_when_both_asked(alice: User, bob: User) -> None:
    send(alice, "bob")
    r = send(bob, "alice")
    assert r.status_code == 200
    assert r.json() == {"status": "friends", "request": None}
    assert are_friends(a=alice, b=bob)
    assert not FriendRequest.objects.exists()


def test_it_refuses_twice(alice: User, bob: User) -> None:
    send(alice, "bob")
    r = send(alice, "bob")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "request_pending"


def test_it_refuses_friends_and_self(alice: User, bob: User, friends: None) -> None:
    assert send(alice, "bob").json()["error"]["code"] == "already_friends"
    r = send(alice, "alice")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "cannot_befriend_self"


def test_it_answers_unknown_inactive_and_blocked_users_alike(
    alice: User, bob: User, charlie: User
) -> None:
    UserFactory(username="ghost", is_active=False)
    services.user_block(blocker=alice, blocked=bob)
    for sender, username in ((alice, "nobody"), (alice, "ghost"), (bob, "alice"), (alice, "bob")):
        r = send(sender, username)
        assert r.status_code == 404, username
        assert r.json()["error"] == {"code": "user_not_found", "message": "No such user."}
    assert not FriendRequest.objects.exists()


@pytest.mark.parametrize(
    "body", [{}, {"username": ""}, {"username": "x" * 151}, {"username": ["bob"]}, []]
)
def test_it_validates_input(alice: User, bob: User, body: Any) -> None:
    r = as_user(alice).post(URL, body, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] in ("invalid", "malformed_request")


# --- list -------------------------------------------------------------------------------------


def test_it_lists_incoming_and_outgoing(alice: User, bob: User, charlie: User) -> None:
    to_bob = services.friend_request_send(sender=alice, recipient=bob)
    from_charlie = services.friend_request_send(sender=charlie, recipient=alice)
    assert to_bob is not None and from_charlie is not None
    r = as_user(alice).get(URL)
    assert r.status_code == 200
    body = r.json()
    assert [x["id"] for x in body["outgoing"]] == [to_bob.id]
    assert body["outgoing"][0]["to_user"]["username"] == "bob"
    assert [x["id"] for x in body["incoming"]] == [from_charlie.id]
    assert body["incoming"][0]["from_user"]["username"] == "charlie"
    # Bob sees only his side.
    body = as_user(bob).get(URL).json()
    assert body["outgoing"] == []
    assert [x["id"] for x in body["incoming"]] == [to_bob.id]


# --- accept, decline, cancel ------------------------------------------------------------------


@pytest.fixture
def request_to_bob(alice: User, bob: User) -> FriendRequest:
    sent = services.friend_request_send(sender=alice, recipient=bob)
    assert sent is not None
    return sent


def test_it_accepts(alice: User, bob: User, request_to_bob: FriendRequest) -> None:
    r = as_user(bob).post(f"{URL}{request_to_bob.id}/accept/")
    assert r.status_code == 200
    assert r.json() == {"id": alice.id, "username": "alice", "display_name": "Alice"}
    assert are_friends(a=alice, b=bob) and are_friends(a=bob, b=alice)
    assert not FriendRequest.objects.exists()


def test_it_declines(alice: User, bob: User, request_to_bob: FriendRequest) -> None:
    r = as_user(bob).post(f"{URL}{request_to_bob.id}/decline/")
    assert r.status_code == 204
    assert not are_friends(a=alice, b=bob)
    assert not FriendRequest.objects.exists()


def test_it_cancels(alice: User, bob: User, request_to_bob: FriendRequest) -> None:
    r = as_user(alice).post(f"{URL}{request_to_bob.id}/cancel/")
    assert r.status_code == 204
    assert not FriendRequest.objects.exists()


def test_it_validates_ownership(
    alice: User, bob: User, charlie: User, request_to_bob: FriendRequest
) -> None:
    # Charlie can do nothing with a request between alice and bob ...
    for action in ("accept", "decline", "cancel"):
        r = as_user(charlie).post(f"{URL}{request_to_bob.id}/{action}/")
        assert r.status_code == 404, action
        assert r.json()["error"]["code"] == "request_not_found"
    # ... the sender can't accept or decline her own request, the recipient can't cancel it.
    assert as_user(alice).post(f"{URL}{request_to_bob.id}/accept/").status_code == 404
    assert as_user(alice).post(f"{URL}{request_to_bob.id}/decline/").status_code == 404
    assert as_user(bob).post(f"{URL}{request_to_bob.id}/cancel/").status_code == 404
    assert FriendRequest.objects.filter(id=request_to_bob.id).exists()
    assert not are_friends(a=alice, b=bob)


@pytest.mark.parametrize("action", ["accept", "decline", "cancel"])
def test_it_validates_the_id(alice: User, action: str) -> None:
    r = as_user(alice).post(f"{URL}{'9' * 25}/{action}/")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid"


def test_it_refuses_anonymous(api: APIClient, request_to_bob: FriendRequest) -> None:
    assert api.get(URL).status_code in (401, 403)
    assert api.post(URL, {"username": "bob"}, format="json").status_code in (401, 403)
    for action in ("accept", "decline", "cancel"):
        assert api.post(f"{URL}{request_to_bob.id}/{action}/").status_code in (401, 403)
    assert FriendRequest.objects.count() == 1


def test_sending_is_limited_per_account(alice: User, bob: User, settings: Any) -> None:
    """Issue 15: 30 send/cancel pairs in 2.4 s. The default is 30 requests an hour; here 3."""
    settings.FRIEND_REQUESTS_PER_HOUR = 3
    codes = []
    for _ in range(4):
        r = send(alice, "bob")
        codes.append(r.status_code)
        if r.status_code == 201:
            as_user(alice).post(f"{URL}{r.json()['request']['id']}/cancel/")

    assert codes == [201, 201, 201, 429]
    r = send(alice, "bob")
    assert r.json()["error"]["code"] == "rate_limited"
    assert int(r["Retry-After"]) > 0
    assert not FriendRequest.objects.exists()
    assert send(bob, "alice").status_code == 201  # bob's budget is his own


def test_the_friends_page_says_so(alice: User, bob: User, settings: Any) -> None:
    settings.FRIEND_REQUESTS_PER_HOUR = 1
    client = Client()
    client.force_login(alice)
    sent = send(alice, "bob").json()["request"]
    as_user(alice).post(f"{URL}{sent['id']}/cancel/")

    r = client.post("/accounts/friends/requests/", {"username": "bob"}, follow=True)

    assert "You have sent too many friend requests." in r.content.decode()
    assert not FriendRequest.objects.exists()

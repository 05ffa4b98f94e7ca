from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from accounts import services
from accounts.models import Block, FriendRequest, User
from accounts.selectors import are_friends

URL = "/friends/"


@pytest.fixture
def alice_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def texts(response: object) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def test_it_renders(alice_client: Client, bob: User, charlie: User, friends: None) -> None:
    services.friend_request_send(sender=charlie, recipient=User.objects.get(username="alice"))
    r = alice_client.get(URL)
    assert r.status_code == 200
    assert [u.username for u in r.context["friends"]] == ["bob"]
    assert [fr.from_user.username for fr in r.context["incoming"]] == ["charlie"]
    assert b"Accept" in r.content and b"Decline" in r.content


def test_it_redirects_anonymous(client: Client, db: None) -> None:
    r = client.get(URL)
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")
    r = client.post("/accounts/friends/requests/", {"username": "bob"})
    assert r.status_code == 302
    assert not FriendRequest.objects.exists()


def test_it_searches(alice_client: Client, bob: User, charlie: User) -> None:
    r = alice_client.get(URL, {"q": "ch"})
    assert [u.username for u in r.context["results"]] == ["charlie"]
    r = alice_client.get(URL, {"q": "x" * 51})
    assert r.status_code == 200
    assert r.context["results"] is None


def test_it_sends_a_request(alice_client: Client, alice: User, bob: User) -> None:
    r = alice_client.post("/accounts/friends/requests/", {"username": "bob", "q": "bo"})
    assert r.status_code == 302
    assert r["Location"] == "/friends/?q=bo"
    assert FriendRequest.objects.filter(from_user=alice, to_user=bob).exists()
    assert texts(r) == ["Friend request sent to bob."]


def test_it_shows_domain_errors(alice_client: Client, alice: User, bob: User) -> None:
    services.user_block(blocker=bob, blocked=alice)
    r = alice_client.post("/accounts/friends/requests/", {"username": "bob"}, follow=True)
    assert r.redirect_chain == [("/friends/", 302)]
    assert b"No such user." in r.content
    r = alice_client.post("/accounts/friends/requests/", {"username": "alice"}, follow=True)
    assert "You can&#x27;t send a friend request to yourself." in r.content.decode()
    assert not FriendRequest.objects.exists()


def test_it_accepts_declines_and_cancels(
    alice_client: Client, alice: User, bob: User, charlie: User
) -> None:
    from_bob = services.friend_request_send(sender=bob, recipient=alice)
    from_charlie = services.friend_request_send(sender=charlie, recipient=alice)
    assert from_bob is not None and from_charlie is not None
    alice_client.post(f"/accounts/friends/requests/{from_bob.id}/accept/")
    assert are_friends(a=alice, b=bob)
    alice_client.post(f"/accounts/friends/requests/{from_charlie.id}/decline/")
    assert not FriendRequest.objects.exists()

    to_charlie = services.friend_request_send(sender=alice, recipient=charlie)
    assert to_charlie is not None
    alice_client.post(f"/accounts/friends/requests/{to_charlie.id}/cancel/")
    assert not FriendRequest.objects.exists()


def test_it_validates_ownership(client: Client, alice: User, bob: User, charlie: User) -> None:
    to_bob = services.friend_request_send(sender=alice, recipient=bob)
    assert to_bob is not None
    client.force_login(charlie)
    for action in ("accept", "decline", "cancel"):
        r = client.post(f"/accounts/friends/requests/{to_bob.id}/{action}/")
        assert r.status_code == 302
        assert texts(r)[-1] == "No such friend request."
    assert FriendRequest.objects.count() == 1


def test_it_unfriends(alice_client: Client, alice: User, bob: User, friends: None) -> None:
    alice_client.post(f"/accounts/friends/{bob.id}/remove/")
    assert not are_friends(a=alice, b=bob)


def test_it_blocks_and_unblocks(
    alice_client: Client, alice: User, bob: User, friends: None
) -> None:
    alice_client.post("/accounts/blocks/", {"username": "bob"})
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()
    assert not are_friends(a=alice, b=bob)
    r = alice_client.get(URL)
    assert [u.username for u in r.context["blocked"]] == ["bob"]
    alice_client.post(f"/accounts/blocks/{bob.id}/remove/")
    assert not Block.objects.exists()


def test_actions_need_post(alice_client: Client, bob: User) -> None:
    assert alice_client.get("/accounts/blocks/").status_code == 405
    assert alice_client.get("/accounts/friends/requests/").status_code == 405


def test_huge_ids_are_not_found(alice_client: Client) -> None:
    r = alice_client.post(f"/accounts/friends/requests/{'9' * 30}/accept/")
    assert r.status_code == 404
    assert alice_client.post(f"/accounts/blocks/{'9' * 30}/remove/").status_code == 404

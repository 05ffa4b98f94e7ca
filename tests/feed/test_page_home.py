from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from feed.models import Post
from rooms.models import RoomState
from tests.factories import UserFactory
from tests.feed.test_api_feed import build_world
from tests.rooms.feed_rooms import live_room, upcoming_room

URL = "/"


def test_it_works(client: Client, alice: User, bob: User, charlie: User, friends: None) -> None:
    live = live_room(bob, alice, title="Coffee chat")
    upcoming_room(bob, title="Book club")
    Post.objects.create(author=bob, body="Hello from Bob")
    Post.objects.create(author=charlie, body="Hello from Charlie")
    client.force_login(alice)
    r = client.get(URL)
    assert r.status_code == 200
    html = r.content.decode()
    assert 'Hello, <span translate="no">Alice</span>.' in html
    assert "Coffee chat" in html and f'href="/r/{live.token}/"' in html
    assert "2 people inside" in html
    assert "Book club" in html
    assert "Hello from Bob" in html
    assert "Hello from Charlie" not in html
    assert 'action="/accounts/logout/"' in html
    assert 'href="/api/docs/"' in html
    assert 'href="/admin/"' not in html


def test_a_suspended_account_is_not_offered_create_room(client: Client, alice: User) -> None:
    client.force_login(alice)
    assert 'id="create-room-open"' in client.get(URL).content.decode()
    alice.suspended_at = timezone.now()
    alice.save(update_fields=["suspended_at"])
    html = client.get(URL).content.decode()
    assert 'id="create-room-open"' not in html and 'id="create-room"' not in html
    assert "Your account is suspended" in html


def test_it_shows_admin_to_staff(client: Client, db: None) -> None:
    client.force_login(UserFactory(username="root", is_staff=True))
    assert 'href="/admin/"' in client.get(URL).content.decode()


def test_it_redirects_anonymous(client: Client, db: None) -> None:
    r = client.get(URL)
    assert r.status_code == 302
    assert r["Location"] == "/accounts/login/?next=/"


def test_it_validates_ownership(client: Client, alice: User, charlie: User) -> None:
    live_room(alice, title="Alice's room")
    Post.objects.create(author=alice, body="Alice's post")
    client.force_login(charlie)
    html = client.get(URL).content.decode()
    assert "Alice's room" not in html and "Alice&#x27;s room" not in html
    assert "Alice&#x27;s post" not in html


def test_it_pages_older_posts(client: Client, alice: User) -> None:
    for i in range(25):
        Post.objects.create(author=alice, body=f"post number {i}")
    client.force_login(alice)
    r = client.get(URL)
    assert len(r.context["posts"]) == 20
    assert r.context["next_link"] and "Older posts" in r.content.decode()
    r = client.get(r.context["next_link"])
    assert [p.body for p in r.context["posts"]] == [f"post number {i}" for i in range(4, -1, -1)]
    assert r.context["next_link"] is None
    assert client.get(URL, {"cursor": "garbage"}).status_code == 404


def test_it_publishes_a_post(client: Client, alice: User) -> None:
    client.force_login(alice)
    r = client.post("/posts/", {"body": "  New here!  "})
    assert r.status_code == 302 and r["Location"] == "/"
    assert Post.objects.get().body == "New here!"
    assert "New here!" in client.get(URL).content.decode()


def test_it_keeps_the_draft_on_error(client: Client, alice: User) -> None:
    client.force_login(alice)
    r = client.post("/posts/", {"body": "x" * 5001})
    assert r.status_code == 400
    assert "A post may be at most 5000 characters." in r.content.decode()
    assert r.context["draft"] == "x" * 5001
    r = client.post("/posts/", {"body": "   "})
    assert "Write something before posting." in r.content.decode()
    assert not Post.objects.exists()


def test_posting_needs_login_and_post(client: Client, alice: User) -> None:
    assert client.post("/posts/", {"body": "hi"}).status_code == 302
    assert not Post.objects.exists()
    client.force_login(alice)
    assert client.get("/posts/").status_code == 405


def test_ended_rooms_are_absent(client: Client, alice: User, bob: User, friends: None) -> None:
    live_room(bob, title="Finished", state=RoomState.ENDED)
    client.force_login(alice)
    assert "Finished" not in client.get(URL).content.decode()


def test_the_query_count_does_not_grow(client: Client, alice: User) -> None:
    client.force_login(alice)

    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            r = client.get(URL)
        assert r.status_code == 200
        return len(queries)

    build_world(alice, 1)
    small = measure()
    build_world(alice, 10)
    large = measure()
    assert large == small


def test_it_offers_to_create_a_room(client: Client, alice: User) -> None:
    client.force_login(alice)
    html = client.get(URL).content.decode()
    assert 'id="create-room-open"' in html
    assert 'id="create-room-form"' in html
    assert "js/feed/main.js" in html
    # Empty sections are present but hidden, so live cards can arrive.
    assert 'id="live-rooms"' in html and 'id="upcoming-rooms"' in html


def test_the_create_dialog_offers_a_strong_password_and_signed_in_only(
    client: Client, alice: User, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_PASSWORD_MIN_LENGTH = 10
    client.force_login(alice)
    html = client.get(URL).content.decode()
    assert 'id="room-password-generate"' in html  # static/js/lib/password.js fills it
    assert 'minlength="10"' in html and "At least 10 characters." in html
    assert 'id="room-signed-in-only" name="signed_in_only"' in html

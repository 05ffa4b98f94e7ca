"""{% load rooms %}{% rooms_strip %}: the rooms a person may enter, at the top of a site's feed."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.adapter import AccountsAdapter
from accounts.models import User
from rooms import services
from rooms.models import Participant, ParticipantState
from tests.conftest import as_user
from tests.factories import befriend
from tests.rooms.feed_rooms import build_world, live_room, upcoming_room

STRIP = Template("{% load rooms %}<main>{% rooms_strip %}</main>")


def render(user: User | AnonymousUser) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return STRIP.render(Context({"request": request}))


def test_it_shows_a_friends_rooms_live_first(alice: User, bob: User, friends: None) -> None:
    live = live_room(bob, alice, title="Board games")
    upcoming_room(bob, title="Book club")
    page = render(alice)
    assert page.index("Live now") < page.index("Board games") < page.index("Coming up")
    assert page.index("Coming up") < page.index("Book club")
    assert f'href="/r/{live.token}/"' in page
    assert 'Hosted by <span translate="no">Bob</span>' in page
    # Friends of the viewer inside, by the name the room shows.
    assert 'With <span translate="no">Bob</span>' in " ".join(page.split())
    # Where a page's scripts keep the cards live: the feed socket, and the API to redraw them;
    # "I'll be there": the RSVP API, the rooms said yes to, and who is looking.
    config = page.split('<script id="rooms-strip-config" type="application/json">')[1]
    assert json.loads(config.split("</script>")[0]) == {
        "socket": "/ws/feed/",
        "feed": "/api/v1/rooms/feed/",
        "rsvp": "/api/v1/rooms/TOKEN/rsvp/",
        "going": [],
        "me": alice.pk,
    }
    # The upcoming card has the button; the start is drawn for the reader's zone by the script.
    assert "I&#x27;ll be there" in page or "I'll be there" in page
    assert "data-rooms-start" in page


def test_the_strip_knows_which_rooms_the_viewer_said_yes_to(
    alice: User, bob: User, friends: None
) -> None:
    room = upcoming_room(bob, title="Book club")
    services.rsvp_set(room=room, user=alice, going=True)
    page = render(alice)
    config = page.split('<script id="rooms-strip-config" type="application/json">')[1]
    assert json.loads(config.split("</script>")[0])["going"] == [room.token]
    assert 'aria-pressed="true"' in page
    # The host's own card has no button.
    assert "be there" not in render(bob)


def test_a_stranger_sees_no_rooms(alice: User, bob: User, charlie: User, friends: None) -> None:
    live_room(bob, title="Board games")
    upcoming_room(bob, title="Book club")
    page = render(charlie)
    assert "Board games" not in page and "Book club" not in page
    # The sections are there, hidden, for the feed socket's live cards to fill.
    assert 'id="live-list"' in page and 'id="live-rooms" hidden' in page


def test_someone_signed_out_gets_nothing(alice: User, bob: User, friends: None) -> None:
    live_room(bob, title="Board games")
    assert render(AnonymousUser()).split() == ["<main>", "</main>"]


def test_live_means_someone_is_there(alice: User, bob: User, charlie: User, friends: None) -> None:
    empty = live_room(bob, title="Everyone went home")
    Participant.objects.filter(room=empty).update(
        state=ParticipantState.LEFT, left_at=timezone.now()
    )
    away = live_room(bob, charlie, title="Host stepped out")
    Participant.objects.filter(room=away, user=bob).update(
        state=ParticipantState.LEFT, left_at=timezone.now()
    )
    page = render(alice)
    assert "Everyone went home" not in page
    assert "Host stepped out" in page and "The host stepped away" in page


def test_the_query_count_does_not_grow(alice: User) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            render(alice)
        return len(queries)

    build_world(alice, 1)
    small = count()
    build_world(alice, 10)
    assert count() == small


def test_the_reference_feed_page_puts_it_on_top(alice: User, bob: User) -> None:
    befriend(alice, bob)
    live_room(bob, title="Board games")
    browser = Client()
    browser.force_login(alice)
    page = browser.get("/").content.decode()
    assert page.index("Board games") < page.index('id="composer-heading"')


class Titled(AccountsAdapter):
    def display_name(self, user: Any) -> str:
        return f"Dr. {user.username}"


def test_names_come_from_the_adapter(settings: Any, alice: User, bob: User) -> None:
    settings.ROOMS_ADAPTER = f"{__name__}.Titled"
    befriend(alice, bob)
    room = live_room(bob, title="Board games")
    assert 'Hosted by <span translate="no">Dr. bob</span>' in render(alice)
    (card,) = as_user(alice).get("/api/rooms/feed/").json()["live"]
    assert card["host"] == {"id": bob.pk, "display_name": "Dr. bob"}
    assert card["token"] == room.token


def test_links_follow_the_prefix_the_site_chose(alice: User, bob: User, settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.rooms.prefix_urls"
    befriend(alice, bob)
    room = live_room(bob, title="Board games")
    page = render(alice)
    assert f'href="/video/r/{room.token}/"' in page
    config = page.split('<script id="rooms-strip-config" type="application/json">')[1]
    assert json.loads(config.split("</script>")[0]) == {
        "socket": "/video/ws/feed/",
        "feed": "/video/api/v1/rooms/feed/",
        "rsvp": "/video/api/v1/rooms/TOKEN/rsvp/",
        "going": [],
        "me": alice.pk,
    }


def test_the_strip_brings_the_script_that_keeps_it_live(alice: User) -> None:
    """A site that renders the tag gets live cards without a script of its own."""
    page = render(alice)
    assert 'type="module"' in page and "rooms/js/strip.js" in page
    assert 'id="rooms-strip-config"' in page

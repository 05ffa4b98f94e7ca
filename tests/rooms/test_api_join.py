"""POST /api/rooms/<token>/join/: users, guests (cookie jar), passwords, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Block, User
from bench.passwords import Clock, measure_passwords_alone
from bench.passwords import simulate as attack
from rooms import services
from rooms.identity import DEVICE_COOKIE, GUEST_COOKIE
from rooms.models import AuditEvent, Participant, ParticipantState, Room, RoomState
from tests.conftest import as_user
from tests.factories import UserFactory, befriend, open_room

pytestmark = pytest.mark.django_db

PASSWORD = "open sesame"


def _url(room: Room) -> str:
    return f"/api/rooms/{room.token}/join/"


def test_it_works_for_the_host(alice: User) -> None:
    room = services.room_create(host=alice, title="Standup")

    r = as_user(alice).post(_url(room), {}, format="json")

    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["decision"] == {"outcome": "admit", "reason": "moderator"}
    assert body["participant"]["role"] == "host"
    assert body["participant"]["state"] == "admitted"
    assert body["participant"]["display_name"] == "Alice"
    assert body["ticket"]
    room.refresh_from_db()
    assert room.state == RoomState.SCHEDULED  # it opens when the host's socket connects
    # Signed-in people get a device cookie so bans follow the device; no guest cookie.
    assert DEVICE_COOKIE in r.cookies
    assert GUEST_COOKIE not in r.cookies


def test_a_friend_is_admitted(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)

    r = as_user(bob).post(_url(room), {"display_name": "ignored for users"}, format="json")

    assert r.status_code == 200
    assert r.json()["decision"] == {"outcome": "admit", "reason": "audience"}
    assert r.json()["participant"]["display_name"] == "Bob"


def test_a_stranger_waits_in_the_lobby(alice: User, charlie: User) -> None:
    room = open_room(alice)

    r = as_user(charlie).post(_url(room), {}, format="json")

    assert r.status_code == 200
    assert r.json()["decision"] == {"outcome": "lobby", "reason": "waiting_room"}
    assert r.json()["participant"]["state"] == "lobby"
    assert r.json()["participant"]["lobby_reason"] == "waiting_room"


def test_a_guest_joins_with_a_cookie_jar(api: APIClient, alice: User) -> None:
    room = open_room(alice)

    r = api.post(_url(room), {"display_name": "Dora"}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["decision"] == {"outcome": "lobby", "reason": "waiting_room"}
    participant = Participant.objects.get(pk=r.json()["participant"]["id"])
    assert participant.user is None
    assert participant.display_name == "Dora"
    cookie = r.cookies[GUEST_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 365 * 86_400
    request = HttpRequest()
    request.COOKIES[GUEST_COOKIE] = cookie.value
    assert participant.guest_id == request.get_signed_cookie(GUEST_COOKIE, salt="rooms.guest")
    assert participant.device_id
    assert DEVICE_COOKIE in r.cookies


def test_guest_cookies_are_secure_outside_debug(api: APIClient, alice: User, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = False
    room = open_room(alice)

    r = api.post(_url(room), {"display_name": "Dora"}, format="json")

    assert r.cookies[GUEST_COOKIE]["secure"]
    assert r.cookies[DEVICE_COOKIE]["secure"]


def test_a_guest_who_comes_back_is_the_same_person(api: APIClient, alice: User) -> None:
    room = open_room(alice, waiting_room=False)
    first = api.post(_url(room), {"display_name": "Dora"}, format="json").json()

    again = api.post(_url(room), {"display_name": "Someone else"}, format="json").json()

    assert again["participant"]["id"] == first["participant"]["id"]
    assert again["participant"]["display_name"] == "Dora"
    assert again["ticket"] != first["ticket"]
    assert Participant.objects.filter(room=room, user__isnull=True).count() == 1

    # After leaving, a new visit belongs to the same guest identity.
    assert api.post(f"/api/rooms/{room.token}/leave/", format="json").status_code == 200
    later = api.post(_url(room), {"display_name": "Dora"}, format="json").json()
    guest_ids = set(
        Participant.objects.filter(room=room, user__isnull=True).values_list("guest_id", flat=True)
    )
    assert later["participant"]["state"] == "admitted"
    assert len(guest_ids) == 1


def test_a_tampered_guest_cookie_is_a_new_guest(api: APIClient, alice: User) -> None:
    room = open_room(alice)
    first = api.post(_url(room), {"display_name": "Dora"}, format="json").json()
    api.cookies[GUEST_COOKIE] = "f" * 32  # not signed by us
    api.cookies[DEVICE_COOKIE] = "garbage:garbage"

    r = api.post(_url(room), {"display_name": "Dora"}, format="json")

    assert r.status_code == 200
    assert r.json()["participant"]["id"] != first["participant"]["id"]
    assert Participant.objects.filter(room=room, user__isnull=True).count() == 2
    assert "f" * 32 not in Participant.objects.values_list("guest_id", flat=True)


def test_a_guest_needs_a_display_name(api: APIClient, alice: User) -> None:
    room = open_room(alice)

    for body in ({}, {"display_name": ""}, {"display_name": "   "}, {"display_name": None}):
        r = api.post(_url(room), body, format="json")
        assert r.status_code == 400
        assert "display_name" in r.json()["error"]["fields"]
    assert not Participant.objects.filter(user__isnull=True).exists()
    assert GUEST_COOKIE not in api.cookies


def test_join_validates_input(api: APIClient, alice: User) -> None:
    room = open_room(alice)

    for body in ({"display_name": "x" * 81}, {"display_name": "D", "password": "p" * 129}):
        r = api.post(_url(room), body, format="json")
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "invalid"
    r = api.post(_url(room), data="{nope", content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed_request"
    assert Participant.objects.filter(room=room).count() == 1  # the host


def _guess(
    room: Room, password: str, *, address: str, client: APIClient | None = None, name: str = "D"
) -> Any:
    """A guest's join with a password from `address`; no cookies unless a client (a cookie
    jar) is given."""
    return (client or APIClient()).post(
        _url(room), {"display_name": name, "password": password}, format="json", REMOTE_ADDR=address
    )


def test_a_guesser_is_slowed_down_not_locked_out(
    alice: User, charlie: User, limiter_clock: Clock
) -> None:
    room = open_room(alice, password=PASSWORD)
    client = as_user(charlie)

    r = client.post(_url(room), {}, format="json")
    assert (r.status_code, r.json()["error"]["code"]) == (403, "password_required")
    for _ in range(5):  # ROOMS_PASSWORD_ATTEMPTS
        r = client.post(_url(room), {"password": "guess-one"}, format="json")
        assert (r.status_code, r.json()["error"]["code"]) == (403, "wrong_password")
    # Then each further check waits for a back-off that doubles: 1 s, 2 s, 4 s...
    for wait in (1, 2, 4):
        r = client.post(_url(room), {"password": "guess-two"}, format="json")
        assert (r.status_code, r.json()["error"]["code"]) == (429, "too_many_attempts")
        assert r["Retry-After"] == str(wait)
        assert f"{wait} second" in r.json()["error"]["message"] or wait == 1
        limiter_clock.now += wait
        r = client.post(_url(room), {"password": "guess-two"}, format="json")
        assert r.json()["error"]["code"] == "wrong_password"
    r = client.post(_url(room), {"password": PASSWORD}, format="json")
    assert (r.status_code, r["Retry-After"]) == (429, "8")
    assert not Participant.objects.filter(room=room, user=charlie).exists()

    limiter_clock.now += 8
    r = client.post(_url(room), {"password": PASSWORD}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["participant"]["state"] == "lobby"


def test_guesses_are_capped_per_room_whatever_the_addresses(
    alice: User, limiter_clock: Clock
) -> None:
    """Five addresses with twenty cookie-less guesses each: the room checks 14, not 100: its
    budget of 10, then one more from each address that had no wrong password on record (the
    reserve newcomers use), and answers the rest "try again later" without checking them."""
    room = open_room(alice, password=PASSWORD)
    answers = [
        _guess(room, f"guess-{a}-{n}", address=f"203.0.113.{a}")
        for a in range(5)
        for n in range(20)
    ]

    checked = [r for r in answers if r.json()["error"]["code"] == "wrong_password"]
    refused = [r for r in answers if r.status_code == 429]
    assert len(checked) == 10 + 4  # ROOMS_PASSWORD_ROOM_GUESSES, then the reserve
    assert len(checked) + len(refused) == 100
    assert {r.json()["error"]["code"] for r in refused} == {"too_many_attempts"}
    assert all(1 <= int(r["Retry-After"]) <= 300 for r in refused)


def test_honest_people_get_in_during_an_attack(
    alice: User, charlie: User, limiter_clock: Clock
) -> None:
    """While five addresses guess, a newcomer with the right password is not kept out: from an
    address of their own at once, and signed in even from the guesser's address."""
    room = open_room(alice, password=PASSWORD, waiting_room=False)
    for n in range(100):
        _guess(room, f"guess-{n}", address=f"203.0.113.{n % 5}")

    newcomer = _guess(room, PASSWORD, address="198.51.100.7", name="Nina")
    signed_in = as_user(charlie).post(
        _url(room), {"password": PASSWORD}, format="json", REMOTE_ADDR="203.0.113.0"
    )

    assert newcomer.status_code == 200, newcomer.json()
    assert newcomer.json()["decision"]["outcome"] == "admit"
    assert signed_in.status_code == 200, signed_in.json()
    # The guesser's address, as a guest, waits for the next window (a shared address is the
    # guesser's own as far as the room can tell): slowed down, not locked out.
    behind = APIClient()
    r = _guess(room, PASSWORD, address="203.0.113.0", client=behind, name="Ben")
    assert r.status_code == 429
    limiter_clock.now += int(r["Retry-After"])
    assert (
        _guess(room, PASSWORD, address="203.0.113.0", client=behind, name="Ben").status_code == 200
    )


def new_user() -> User:
    user: User = UserFactory()
    return user


def test_an_hour_of_attack_from_fifty_addresses(
    alice: User, limiter_clock: Clock, settings
) -> None:  # type: ignore[no-untyped-def]
    """Fifty addresses guessing as fast as the answers allow, for an hour: the room checks at
    most 2 x 10 passwords per 5-minute window. Newcomers with the right password, from their own
    address or signed in, wait at most while the fifty fresh addresses spend the reserve (two
    windows), and not at all after that."""
    room = open_room(alice, password=PASSWORD)
    measure_passwords_alone(settings)

    result = attack(
        token=room.token,
        addresses=50,
        seconds=3600,
        clock=limiter_clock,
        signed_in_client=lambda: as_user(new_user()),
        password=PASSWORD,
    )

    assert 0 < result.checked <= 2 * 10 * 12
    for kind in ("own address", "signed in on the attacker's address"):
        first, *later = result.waits[kind]  # arriving at minutes 1, 15, 30 and 45
        assert first is not None and first <= 2 * 300, (kind, result.waits[kind])
        assert later == [0, 0, 0], (kind, result.waits[kind])


@pytest.mark.parametrize("audience", ["friends", "invite_only"])
def test_people_the_host_asked_in_never_wait_for_a_guesser(
    alice: User, bob: User, charlie: User, friends: None, limiter_clock: Clock, audience: str
) -> None:
    """Both budgets spent by 25 fresh addresses: someone the host did not ask in waits, but the
    host's friend (in an all-friends room) or an invitee gets in at once, and so does a guest
    who gave the password before."""
    dana: User = UserFactory(username="dana")
    befriend(alice, dana)
    room = open_room(alice, password=PASSWORD, waiting_room=False, audience=audience)
    services.invitation_add(room=room, actor=alice, user_ids=[dana.pk])
    asked, other = (bob, charlie) if audience == "friends" else (dana, bob)
    earlier = APIClient()
    assert _guess(room, PASSWORD, address="198.51.100.1", client=earlier).status_code == 200
    assert earlier.post(f"/api/rooms/{room.token}/leave/").status_code == 200
    for n in range(25):
        _guess(room, "guess", address=f"203.0.113.{n}")

    waits = as_user(other).post(_url(room), {"password": PASSWORD}, format="json")
    walks_in = as_user(asked).post(_url(room), {"password": PASSWORD}, format="json")
    back = _guess(room, PASSWORD, address="198.51.100.1", client=earlier)

    assert (waits.status_code, waits.json()["error"]["code"]) == (429, "too_many_attempts")
    assert 1 <= int(waits["Retry-After"]) <= 300
    assert walks_in.status_code == 200, walks_in.json()
    assert back.status_code == 200, back.json()


def test_blocked_relation_gets_the_same_404_as_an_unknown_link(alice: User, charlie: User) -> None:
    room = open_room(alice)
    Block.objects.create(blocker=alice, blocked=charlie)
    client = as_user(charlie)

    unknown = client.post("/api/rooms/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/join/", {}, format="json")
    blocked = client.post(_url(room), {}, format="json")

    assert unknown.status_code == blocked.status_code == 404
    assert unknown.content == blocked.content
    assert not Participant.objects.filter(room=room, user=charlie).exists()


def test_an_ended_room_is_gone(api: APIClient, alice: User) -> None:
    room = open_room(alice)
    services.room_end(room=room, actor=alice)

    r = api.post(_url(room), {"display_name": "Dora"}, format="json")

    assert r.status_code == 410
    assert r.json()["error"]["code"] == "room_ended"


def test_a_locked_room_refuses(api: APIClient, alice: User) -> None:
    room = open_room(alice)
    services.room_set_locked(room=room, actor=alice, locked=True)

    r = api.post(_url(room), {"display_name": "Dora"}, format="json")

    assert r.status_code == 403
    assert r.json()["error"]["code"] == "locked"
    assert not Participant.objects.filter(room=room, user__isnull=True).exists()


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("host", "The host has locked this room."),
        ("cohost", "A co-host has locked this room."),
        ("staff", "A moderator of the site has locked this room."),
    ],
)
def test_a_locked_room_says_who_locked_it(
    api: APIClient, alice: User, bob: User, who: str, message: str
) -> None:
    room = open_room(alice)  # the host is in: a lock is someone's doing, not "host away"
    actor = alice
    if who == "cohost":
        services.cohost_add(room=room, actor=alice, user=bob)
        actor = bob
    elif who == "staff":
        actor = UserFactory(is_staff=True)
    services.room_set_locked(room=room, actor=actor, locked=True, as_staff=who == "staff")

    r = api.post(_url(room), {"display_name": "Dora"}, format="json")

    assert r.status_code == 403
    assert (r.json()["error"]["code"], r.json()["error"]["message"]) == ("locked", message)


def test_a_suspended_user_is_refused(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    bob.suspended_at = timezone.now()
    bob.save(update_fields=["suspended_at"])

    r = as_user(bob).post(_url(room), {}, format="json")

    assert r.status_code == 403
    assert r.json()["error"]["code"] == "suspended"
    assert not Participant.objects.filter(room=room, user=bob, state=ParticipantState.ADMITTED)


# --- only people signed in to the site --------------------------------------------------------


def test_a_removed_guest_with_fresh_cookies_is_kept_out_only_by_signed_in_only(
    alice: User, bob: User
) -> None:
    """What bans can't do against cookie-less guests, and the room option that does it."""
    room = open_room(alice, waiting_room=False)
    crasher = APIClient()
    joined = crasher.post(_url(room), {"display_name": "Crasher"}, format="json")
    host = as_user(alice)
    removed = host.post(
        f"/api/rooms/{room.token}/participants/{joined.json()['participant']['id']}/remove/",
        {},
        format="json",
    )
    assert removed.status_code == 200
    # The ban holds against the cookies it knows...
    again = crasher.post(_url(room), {"display_name": "Crasher"}, format="json")
    assert again.json()["error"]["code"] == "banned"
    # ...but the same person without cookies and with a new name is a new guest.
    back = APIClient().post(_url(room), {"display_name": "Someone new"}, format="json")
    assert back.json()["decision"]["outcome"] == "admit"

    r = host.patch(f"/api/rooms/{room.token}/", {"signed_in_only": True}, format="json")
    assert (r.status_code, r.json()["signed_in_only"]) == (200, True)
    refused = APIClient().post(_url(room), {"display_name": "Third try"}, format="json")
    member = as_user(bob).post(_url(room), {}, format="json")

    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "sign_in_required",
        "message": "The host lets only people signed in to the site into this room. "
        "Sign in, then join again.",
    }
    assert not Participant.objects.filter(room=room, display_name="Third try").exists()
    assert member.status_code == 200  # accounts still come in (the waiting room is off)
    # The guest who got in before stays: the option is about who may come in.
    seated = Participant.objects.get(room=room, display_name="Someone new")
    assert seated.state == ParticipantState.ADMITTED


def test_a_blocked_person_signed_out_reaches_the_lobby_unless_signed_in_only(
    alice: User, charlie: User
) -> None:
    room = open_room(alice)
    Block.objects.create(blocker=alice, blocked=charlie)
    assert as_user(charlie).post(_url(room), {}, format="json").status_code == 404

    signed_out = APIClient().post(_url(room), {"display_name": "Not Charlie"}, format="json")
    assert signed_out.json()["decision"] == {"outcome": "lobby", "reason": "waiting_room"}
    Participant.objects.filter(room=room, display_name="Not Charlie").delete()

    services.room_update(room=room, actor=alice, signed_in_only=True)
    signed_out = APIClient().post(_url(room), {"display_name": "Not Charlie"}, format="json")
    signed_in = as_user(charlie).post(_url(room), {}, format="json")

    assert signed_out.json()["error"]["code"] == "sign_in_required"
    assert signed_in.status_code == 404  # signed in, the block holds
    assert not Participant.objects.filter(room=room).exclude(user=alice).exists()


def test_signed_in_only_asks_no_password_of_guests(alice: User, limiter_clock: Clock) -> None:
    room = open_room(alice, password=PASSWORD, signed_in_only=True)

    for password in (None, "wrong password", PASSWORD):
        r = APIClient().post(_url(room), {"display_name": "G", "password": password}, format="json")
        assert r.json()["error"]["code"] == "sign_in_required"


# --- floods: join attempts and the lobby's cap -------------------------------------------------


def _cookieless_join(room: Room, address: str = "203.0.113.7") -> Any:
    """A join with no cookies, so a new guest every time, from `address`."""
    client = APIClient(REMOTE_ADDR=address)
    return client.post(_url(room), {"display_name": "Crasher"}, format="json")


def _code(r: Any) -> str:
    return "ok" if r.status_code == 200 else str(r.json()["error"]["code"])


def test_a_crowd_of_cookieless_joins_from_one_address_is_held_off(
    alice: User, bob: User, friends: None, settings
) -> None:  # type: ignore[no-untyped-def]
    # The attack, at the documented defaults: 200 cookie-less joins from one address
    # once put 200 people in a 50-seat room's lobby and sent the host 200 lobby events.
    room = open_room(alice)
    per_address, lobby_max = settings.ROOMS_JOINS_PER_ADDRESS, settings.ROOMS_LOBBY_MAX

    answers = [_cookieless_join(room) for _ in range(200)]

    codes = [(r.status_code, _code(r)) for r in answers]
    assert codes == (
        [(200, "ok")] * lobby_max
        + [(403, "lobby_full")] * (per_address - lobby_max)
        + [(429, "too_many_joins")] * (200 - per_address)
    )
    throttled = answers[-1]
    assert 1 <= int(throttled["Retry-After"]) <= settings.ROOMS_JOIN_WINDOW_SECONDS
    assert throttled["Retry-After"] in throttled.json()["error"]["message"]
    assert Participant.objects.filter(room=room, state=ParticipantState.LOBBY).count() == lobby_max
    # The host heard about no more people than the lobby holds.
    assert AuditEvent.objects.filter(room=room, kind="participant.waiting").count() == lobby_max
    # The host is never kept out of their own room, even from that address, and a friend from
    # elsewhere still walks in.
    host = as_user(alice)
    host.defaults["REMOTE_ADDR"] = "203.0.113.7"
    assert host.post(_url(room), {}, format="json").status_code == 200
    friend = as_user(bob)
    friend.defaults["REMOTE_ADDR"] = "198.51.100.2"
    r = friend.post(_url(room), {}, format="json")
    assert r.status_code == 200
    assert r.json()["decision"] == {"outcome": "admit", "reason": "audience"}


def test_joins_per_room_are_limited_across_addresses(alice: User, bob: User, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_JOINS_PER_ROOM = 5
    room = open_room(alice)
    other = open_room(bob)

    codes = [_code(_cookieless_join(room, f"198.51.100.{n}")) for n in range(1, 8)]

    assert codes == ["ok"] * 5 + ["too_many_joins"] * 2
    assert _code(_cookieless_join(other, "198.51.100.9")) == "ok"  # other rooms are not affected
    assert as_user(alice).post(_url(room), {}, format="json").status_code == 200


def test_the_lobby_has_a_cap(alice: User, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_LOBBY_MAX = 2
    room = open_room(alice)
    dora, eve = APIClient(), APIClient()
    dora_id = dora.post(_url(room), {"display_name": "Dora"}, format="json").json()["participant"]
    eve.post(_url(room), {"display_name": "Eve"}, format="json")

    r = _cookieless_join(room)

    assert r.status_code == 403
    assert r.json()["error"] == {
        "code": "lobby_full",
        "message": "Too many people are waiting to join this room. Try again later.",
    }
    assert Participant.objects.filter(room=room, state=ParticipantState.LOBBY).count() == 2
    # Someone already waiting who joins again (a reload) keeps their place.
    again = dora.post(_url(room), {"display_name": "Dora"}, format="json")
    assert again.status_code == 200
    assert again.json()["participant"]["id"] == dora_id["id"]
    # Once the host answers someone, there is room to wait again.
    services.lobby_deny(room=room, actor=alice, participant_ids=[dora_id["id"]])
    assert _code(_cookieless_join(room)) == "ok"

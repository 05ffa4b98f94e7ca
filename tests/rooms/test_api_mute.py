from __future__ import annotations

import pytest

from accounts.models import User
from rooms import services
from rooms.models import Participant, Room
from tests.conftest import as_user
from tests.factories import host_arrives

pytestmark = pytest.mark.django_db


def _room_with(host: User, *people: User) -> tuple[Room, list[Participant]]:
    room = services.room_create(host=host, title="Standup", waiting_room=False)
    host_arrives(room, host)
    seats = [
        services.room_join(token=room.token, identity=services.Identity(user=p)).participant
        for p in people
    ]
    return room, seats


def _url(room: Room, tail: str) -> str:
    return f"/api/rooms/{room.token}/{tail}"


def test_mute_works(alice: User, bob: User) -> None:
    room, [seat] = _room_with(alice, bob)
    r = as_user(alice).post(_url(room, f"participants/{seat.pk}/mute/"))
    assert r.status_code == 200, r.json()
    assert r.json()["audio_muted"] is True
    seat.refresh_from_db()
    assert seat.audio_muted


def test_mute_all_spares_the_hosts(alice: User, bob: User, charlie: User) -> None:
    room, seats = _room_with(alice, bob, charlie)
    r = as_user(alice).post(_url(room, "mute-all/"))
    assert r.status_code == 200
    assert sorted(p["id"] for p in r.json()["participants"]) == sorted(s.pk for s in seats)
    assert not Participant.objects.get(room=room, user=alice).audio_muted


def test_ask_unmute(alice: User, bob: User) -> None:
    room, [seat] = _room_with(alice, bob)
    r = as_user(alice).post(_url(room, f"participants/{seat.pk}/ask-unmute/"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_muted")
    as_user(alice).post(_url(room, f"participants/{seat.pk}/mute/"))
    assert as_user(alice).post(_url(room, f"participants/{seat.pk}/ask-unmute/")).status_code == 200


def test_participants_and_outsiders_cannot_mute(alice: User, bob: User, charlie: User) -> None:
    room, [bob_seat, _] = _room_with(alice, bob, charlie)
    for caller in (bob, charlie):
        for tail in (f"participants/{bob_seat.pk}/mute/", "mute-all/"):
            r = as_user(caller).post(_url(room, tail))
            assert (r.status_code, r.json()["error"]["code"]) == (403, "not_a_host")
    r = as_user(alice).post(_url(room, "participants/999999/mute/"))
    assert r.status_code == 404
    assert not Participant.objects.filter(room=room, audio_muted=True).exists()

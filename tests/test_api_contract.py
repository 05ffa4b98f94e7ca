"""The REST API's contract with third-party clients (issue 19): JSON errors everywhere under the
API's paths, 401 with WWW-Authenticate, one code per condition, JSON types enforced, a token
that wins over a session cookie and can be revoked, the versioned paths and their aliases."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from rooms import announce, services
from rooms.models import Room
from tests.conftest import as_user
from tests.factories import PASSWORD, UserFactory, befriend, host_arrives

pytestmark = pytest.mark.django_db


def error_of(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json", response.content[:200]
    error = response.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return dict(error)


def open_room(host: User, **settings: Any) -> Room:
    room = services.room_create(host=host, title="Standup", **settings)
    services.room_join(token=room.token, identity=services.Identity(user=host))
    return room


def token_client(user: User) -> tuple[APIClient, str]:
    """A client that logs in the way a third party does: POST auth/token/ with a password."""
    client = APIClient()
    got = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert got.status_code == 200, got.content
    key = got.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


# --- JSON errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/api/v1/", "/api/"])
@pytest.mark.parametrize(
    "tail",
    [
        "bans/-1/",
        "bans/abc/",
        "cohosts/-1/",
        "cohosts/x/",
        "invitations/-7/",
        "participants/-1/mute/",
        "no-such-thing/",
    ],
)
def test_an_unroutable_path_under_a_room_is_a_json_404(
    alice: User, prefix: str, tail: str, settings: Any
) -> None:
    settings.DEBUG = True  # Django's HTML 404 page would show here without Rooms' own route
    room = open_room(alice)
    for method in ("get", "post", "delete"):
        response = getattr(as_user(alice), method)(f"{prefix}rooms/{room.token}/{tail}")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_unroutable_paths_are_json_404s_under_any_prefix(alice: User, settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.rooms.prefix_urls"  # Rooms under /video/, no site handler404
    settings.DEBUG = True
    room = open_room(alice)
    for url in (
        f"/video/api/v1/rooms/{room.token}/bans/-1/",
        f"/video/api/rooms/{room.token}/invitations/abc/",
        "/video/api/rooms/x/y/z/",
    ):
        response = as_user(alice).delete(url)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_site_api_paths_are_json_404s_with_debug_on(alice: User, settings: Any) -> None:
    settings.DEBUG = True
    for url in ("/api/friends/-1/", "/api/v1/blocks/abc/", "/api/v2/me/", "/api/nothing/"):
        response = as_user(alice).delete(url)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_a_wrong_method_is_a_json_405(alice: User) -> None:
    room = open_room(alice)
    response = as_user(alice).put(f"/api/v1/rooms/{room.token}/", {}, format="json")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_a_bug_is_a_json_500_not_an_html_page(
    alice: User, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.DEBUG = True  # Django would render its technical 500 page
    room = open_room(alice)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "room_set_locked", broken)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(alice)
    response = client.post(f"/api/v1/rooms/{room.token}/lock/")
    assert response.status_code == 500
    assert error_of(response) == {
        "code": "server_error",
        "message": "Something went wrong on our side.",
    }


# --- credentials ------------------------------------------------------------------------------


def test_missing_or_bad_credentials_are_401_with_www_authenticate(alice: User) -> None:
    anonymous = APIClient()
    response = anonymous.get("/api/v1/rooms/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert error_of(response)["code"] == "not_authenticated"
    for url in ("/api/v1/rooms/", "/api/v1/me/", "/api/v1/feed/", "/api/v1/notifications/"):
        bad = APIClient()
        bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
        response = bad.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"
        assert error_of(response)["code"] == "authentication_failed"


def test_a_token_wins_over_a_session_cookie_without_csrf(alice: User) -> None:
    # A client whose cookie jar holds a session (it once logged in through the site) and
    # which sends its token: the request is the token's, so no CSRF token is asked for.
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=alice.username, password=PASSWORD)
    refused = browser.post("/api/v1/rooms/", {"title": "Quiz"}, content_type="application/json")
    assert refused.status_code == 403  # the session alone still needs its CSRF token
    assert error_of(refused)["code"] == "forbidden"

    _, key = token_client(alice)
    created = browser.post(
        "/api/v1/rooms/",
        {"title": "Quiz"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert created.status_code == 201, created.content
    assert Room.objects.filter(host=alice, title="Quiz").count() == 1


def test_a_token_can_be_revoked(alice: User) -> None:
    client, key = token_client(alice)
    assert client.get("/api/v1/me/").status_code == 200

    revoked = client.delete("/api/v1/auth/token/")
    assert revoked.status_code == 204
    assert not Token.objects.filter(key=key).exists()
    after = client.get("/api/v1/me/")
    assert after.status_code == 401
    assert error_of(after)["code"] == "authentication_failed"

    # Revoking needs credentials; logging in again gives a new token.
    assert APIClient().delete("/api/v1/auth/token/").status_code == 401
    _, new_key = token_client(alice)
    assert new_key != key


# --- one code per condition -------------------------------------------------------------------


def test_an_ended_room_is_room_ended_everywhere(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice)
    services.room_end(room=room, actor=alice)
    base = f"/api/v1/rooms/{room.token}/"
    joined = as_user(bob).post(f"{base}join/", {}, format="json")
    locked = as_user(alice).post(f"{base}lock/")
    patched = as_user(alice).patch(base, {"title": "Again"}, format="json")
    for response in (joined, locked, patched):
        assert response.status_code == 410
        assert error_of(response)["code"] == "room_ended"


def test_a_full_room_is_room_full(alice: User, bob: User, charlie: User, friends: None) -> None:
    room = open_room(alice, capacity=1, waiting_room=False)
    response = as_user(bob).post(f"/api/v1/rooms/{room.token}/join/", {}, format="json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "room_full"


# --- JSON types -------------------------------------------------------------------------------


def test_wrong_json_types_are_refused(alice: User, bob: User, friends: None) -> None:
    room = open_room(alice, password="open sesame!")
    base = f"/api/v1/rooms/{room.token}/"
    cases = [
        (as_user(bob), "post", f"{base}join/", {"password": 12345678}, "password"),
        (as_user(alice), "post", f"{base}lobby/admit/", {"all": "true"}, "all"),
        (as_user(alice), "post", f"{base}lobby/deny/", {"all": 1}, "all"),
        (as_user(alice), "patch", base, {"locked": "yes"}, "locked"),
        (as_user(alice), "patch", base, {"waiting_room": 0}, "waiting_room"),
        (as_user(alice), "patch", base, {"capacity": "5"}, "capacity"),
        (as_user(alice), "patch", base, {"title": 7}, "title"),
        (as_user(alice), "post", f"{base}cohosts/", {"user_id": str(bob.pk)}, "user_id"),
        (as_user(alice), "post", f"{base}invitations/", {"user_ids": [True]}, "user_ids"),
        (as_user(alice), "post", "/api/v1/notifications/read/", {"all": "yes"}, "all"),
        (as_user(alice), "post", "/api/v1/friends/requests/", {"username": 5}, "username"),
        (as_user(alice), "post", "/api/v1/posts/", {"body": ["hi"]}, "body"),
    ]
    before = Room.objects.values_list("locked", "waiting_room", "capacity", "title").get()
    for client, method, url, body, field in cases:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 400, (url, body, response.content)
        error = error_of(response)
        assert error["code"] == "invalid" and field in error["fields"], (url, body, error)
    assert Room.objects.values_list("locked", "waiting_room", "capacity", "title").get() == before


# --- versioned paths --------------------------------------------------------------------------


def test_the_versioned_and_the_old_paths_answer_alike(alice: User) -> None:
    room = open_room(alice)
    client = as_user(alice)
    for tail in (f"rooms/{room.token}/", "rooms/", "me/", "friends/"):
        versioned, old = client.get(f"/api/v1/{tail}"), client.get(f"/api/{tail}")
        assert versioned.status_code == old.status_code == 200
        assert versioned.json() == old.json()


# --- pagination -------------------------------------------------------------------------------


def all_pages(client: APIClient, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) >= {"next", "previous", "results"}
        assert len(body["results"]) <= 2
        rows += body["results"]
        next_url = body["next"]
        pages += 1
        assert pages < 20
    return rows


def test_every_list_comes_a_page_at_a_time(alice: User, bob: User, charlie: User) -> None:
    others = [UserFactory(username=f"friend{i}") for i in range(4)]
    for other in [bob, charlie, *others]:
        befriend(alice, other)
    rooms = [services.room_create(host=alice, title=f"Room {i}") for i in range(5)]
    room = rooms[-1]
    services.invitation_add(room=room, actor=alice, user_ids=[u.pk for u in others])
    for other in others[:3]:
        services.cohost_add(room=room, actor=alice, user=other)
    for i in range(3):
        guest = services.room_join(
            token=room.token,
            identity=services.Identity(guest_id=f"{i}" * 32, display_name=f"Guest {i}"),
        )
        services.participant_remove(room=room, actor=alice, participant_id=guest.participant.pk)

    client = as_user(alice)
    lists = {
        "/api/v1/rooms/": ("token", {r.token for r in rooms}),
        "/api/v1/friends/": ("username", {u.username for u in [bob, charlie, *others]}),
        f"/api/v1/rooms/{room.token}/invitations/": ("user_id", {u.pk for u in others}),
        f"/api/v1/rooms/{room.token}/cohosts/": ("user_id", {u.pk for u in others[:3]}),
        f"/api/v1/rooms/{room.token}/bans/": ("display_name", {f"Guest {i}" for i in range(3)}),
    }
    for url, (key, expected) in lists.items():
        rows = all_pages(client, f"{url}?page_size=2")
        assert [row[key] for row in rows] == list(dict.fromkeys(row[key] for row in rows)), url
        assert {row[key] for row in rows} == expected, url

    tampered = client.get("/api/v1/friends/?cursor=bz14")  # "o=x"
    assert tampered.status_code == 404
    assert error_of(tampered)["code"] == "not_found"


def test_notifications_come_a_page_at_a_time(alice: User, bob: User, friends: None) -> None:
    for i in range(5):
        room = services.room_create(host=alice, title=f"Room {i}")
        host_arrives(room, alice)
        announce.announce_sweep()  # bob hears that each went live
    rows = all_pages(as_user(bob), "/api/v1/notifications/?page_size=2")
    assert len(rows) == len({row["id"] for row in rows}) == 5
    assert as_user(bob).get("/api/v1/notifications/").json()["unread_count"] == 5


# --- the schema -------------------------------------------------------------------------------


def _schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return dict(SchemaGenerator().get_schema(request=None, public=True))


def test_every_operation_is_described_with_examples_and_its_errors() -> None:
    schema = _schema()
    operations = [
        (f"{method.upper()} {path}", op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
    ]
    assert len(operations) >= 45
    for label, op in operations:
        assert label.split()[1].startswith("/api/v1/"), label  # the aliases are not listed
        assert op.get("summary") and op.get("description"), label
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            assert body.get("examples"), f"{label}: no request example"
        errors = {code: r for code, r in op["responses"].items() if code.startswith(("4", "5"))}
        assert "503" in errors and "401" in errors, label
        for code, response in errors.items():
            content = response["content"]["application/json"]
            assert content["examples"], (label, code)
            enum = content["schema"]["properties"]["error"]["properties"]["code"]["enum"]
            assert enum and all(isinstance(c, str) for c in enum), (label, code)


def test_room_view_is_one_shape_with_the_hosts_fields_optional() -> None:
    schema = _schema()
    ok = schema["paths"]["/api/v1/rooms/{token}/"]["get"]["responses"]["200"]
    ref = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    component = schema["components"]["schemas"][ref]
    assert "oneOf" not in component and "anyOf" not in component
    assert {"token", "title", "state", "participant_count"} <= set(component["required"])
    assert not {"host_id", "version", "created_at"} & set(component["required"])
    assert {"host_id", "version", "created_at"} <= set(component["properties"])


def test_exactly_one_of_and_the_reasons_are_stated() -> None:
    schema = _schema()
    paths = schema["paths"]
    for path in ("/api/v1/rooms/{token}/lobby/admit/", "/api/v1/rooms/{token}/lobby/deny/"):
        assert "exactly one of `participant_ids`" in paths[path]["post"]["description"]
    assert "exactly one of `ids`" in paths["/api/v1/notifications/read/"]["post"]["description"]
    components = schema["components"]["schemas"]
    lobby = components["RoomParticipant"]["properties"]["lobby_reason"]
    choices = {
        v
        for option in lobby["oneOf"]
        for v in components[option["$ref"].rsplit("/", 1)[-1]]["enum"]
    }
    assert {"not_started", "waiting_for_host", "waiting_room"} <= choices
    assert set(components["JoinReasonEnum"]["enum"]) == {
        "moderator",
        "audience",
        "no_waiting_room",
        "resuming",
        "not_started",
        "waiting_for_host",
        "waiting_room",
    }

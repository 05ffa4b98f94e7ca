"""Rooms' API keeps its JSON shape whatever the site's REST_FRAMEWORK says (rooms/api.py `_Api`),
and takes its authentication classes from ROOMS_API_AUTHENTICATION_CLASSES."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db

# Deeper than any Python parses (3.13's decoder takes 5,000 levels; 100,000 no version does).
DEEP = "[" * 100_000 + "]" * 100_000
SESSION = "rest_framework.authentication.SessionAuthentication"
TOKEN = "rest_framework.authentication.TokenAuthentication"

# Sites whose REST API is set up unlike the reference site's.
OTHER_SITES: dict[str, dict[str, Any]] = {
    "nothing set": {},
    "other handler, renderer and parser": {
        "EXCEPTION_HANDLER": "rest_framework.views.exception_handler",
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.BrowsableAPIRenderer"],
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.FormParser"],
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    },
}


def client(user: User | None = None) -> APIClient:
    api = APIClient()
    # A view that let the error through would answer Django's 500 page, as on a real site.
    api.raise_request_exception = False
    if user is not None:
        api.force_authenticate(user)
    return api


def with_token(user: User) -> APIClient:
    api = client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


@pytest.fixture(params=list(OTHER_SITES), ids=list(OTHER_SITES))
def other_site(request: pytest.FixtureRequest) -> Any:
    with override_settings(REST_FRAMEWORK=OTHER_SITES[request.param]):
        yield


@pytest.mark.usefixtures("other_site")
def test_an_unknown_room_is_the_json_404(alice: User) -> None:
    for api in (client(alice), client()):
        response = api.get("/api/rooms/no-such-room/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "error": {"code": "room_not_found", "message": "This room doesn't exist."}
        }


@pytest.mark.usefixtures("other_site")
def test_json_bodies_are_parsed_and_refused_in_the_json_shape(alice: User) -> None:
    created = client(alice).post("/api/rooms/", {"title": "Quiz"}, format="json")
    assert created.status_code == 201, created.content
    deep = client(alice).post("/api/rooms/", DEEP, content_type="application/json")
    assert deep.status_code == 400
    assert deep.json()["error"]["code"] == "malformed_request"
    invalid = client(alice).post("/api/rooms/", {"capacity": 0}, format="json")
    assert invalid.status_code == 400
    assert invalid.json()["error"]["code"] == "invalid"
    assert "capacity" in invalid.json()["error"]["fields"]


@pytest.mark.usefixtures("other_site")
def test_an_outsider_is_refused_in_the_json_shape() -> None:
    # The token comes first by default: missing credentials are a 401 that names the scheme.
    response = client().post("/api/rooms/", {"title": "Quiz"}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] == "not_authenticated"


def test_authentication_classes_come_from_the_rooms_setting(alice: User, settings) -> None:  # type: ignore[no-untyped-def]
    api = with_token(alice)
    assert api.get("/api/rooms/").status_code == 200

    settings.ROOMS_API_AUTHENTICATION_CLASSES = [SESSION]
    refused = api.get("/api/rooms/")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_authenticated"

    # The site's own API setting does not decide for Rooms.
    settings.ROOMS_API_AUTHENTICATION_CLASSES = [TOKEN]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_AUTHENTICATION_CLASSES": []}
    assert api.get("/api/rooms/").status_code == 200

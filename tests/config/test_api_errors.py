from __future__ import annotations

import pytest

from accounts.models import User
from tests.conftest import as_user

# Too deep for the JSON decoder of every supported Python (3.13's takes 5,000 levels, 3.11's
# does not).
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "path", ["/api/posts/", "/api/friends/requests/", "/api/blocks/", "/api/rooms/"]
)
def test_json_nested_too_deeply_is_a_400_everywhere(alice: User, path: str) -> None:
    response = as_user(alice).post(path, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_unknown_api_path_is_json_404(alice: User) -> None:
    response = as_user(alice).get("/api/rooms/not-a-token/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "room_not_found"

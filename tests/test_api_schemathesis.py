"""The OpenAPI schema says what the server does: schemathesis sends every operation of the
schema (as /api/schema/ serves it) a bounded number of generated requests, through the site's
WSGI application, and checks each response against the schema:

- no server error (5xx);
- every status is one the operation documents, and so is the content type;
- every body validates against the documented schema: success bodies, and error bodies whose
  `code` must be one of the operation's documented codes for that status.

Requests name the objects of tests/test_api_fuzz.py's small world (real room tokens and ids,
most of the time) and go as the host with her token, as a stranger with his, or with no
credentials, so that refusals are exercised as well as successes. tests/test_api_fuzz.py
covers broken bodies and unroutable paths; this test is about the contract.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import checks as st_checks
from schemathesis.specs.openapi import checks as openapi_checks

from tests.test_api_fuzz import NAMED_REFS, TOKEN_REFS, World, build_world

EXAMPLES_PER_OPERATION = 12
CHECKS = [
    st_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
CALLERS = ("alice", "charlie", None)  # the host, a stranger, nobody signed in

SCHEMA: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)


LOADED = schemathesis.openapi.from_dict(SCHEMA)
APP = get_wsgi_application()
LABELS = sorted(result.ok().label for result in LOADED.get_all_operations())
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,  # no .hypothesis/ directory in a shared tree; derandomize replays anyway
    deadline=None,
    suppress_health_check=list(HealthCheck),
    # No shrinking: a failure is reported as found (with its curl line), at once.
    phases=[Phase.explicit, Phase.generate],
)


@pytest.fixture
def world(db: None, settings: Any) -> Iterator[World]:
    settings.ALLOWED_HOSTS = ["localhost"]  # schemathesis' WSGI client calls itself so
    logger = logging.getLogger("django.request")  # thousands of 4xx warnings are noise
    level = logger.level
    logger.setLevel(logging.ERROR)
    # As Django's test client does: the requests run inside the test's transaction, whose
    # connection a request's start and end must not close.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield build_world()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        logger.setLevel(level)


def _pick(seed: str, options: list[Any]) -> Any:
    digest = hashlib.sha256(seed.encode()).digest()
    return options[digest[0] % len(options)]


def _aim(case: Any, world: World) -> None:
    """Most of the time, point the path at real objects: a random token names no room."""
    for name, value in list((case.path_parameters or {}).items()):
        seed = f"{case.operation.label}:{name}:{value!r}"
        if _pick(seed + ":junk", [True, False, False, False]):
            continue  # a quarter keep the generated value: an unknown room or id
        refs = TOKEN_REFS if name == "token" else NAMED_REFS.get(name, ["alice.id"])
        case.path_parameters[name] = world.refs[_pick(seed, refs)]


def test_the_schema_lists_every_operation() -> None:
    assert len(LABELS) >= 40
    assert all(" /api/v1/" in label for label in LABELS)


@pytest.mark.parametrize("label", LABELS)
def test_every_response_is_what_the_schema_says(label: str, world: World) -> None:
    operation = LOADED.find_operation_by_label(label)
    assert operation is not None

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        _aim(case, world)
        caller = _pick(f"{label}:{case.path_parameters}:{case.body!r}", list(CALLERS))
        headers = {}
        if caller is not None:
            key = Token.objects.get_or_create(user=world.users[caller])[0].key
            headers["Authorization"] = f"Token {key}"
        cache.clear()  # rate limits and password counters start fresh
        case.call_and_validate(headers=headers, checks=CHECKS, app=APP)

    check()

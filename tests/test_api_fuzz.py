"""Schema-driven fuzzing of the whole REST API: nothing a client sends may produce a 500.

The operations come from the OpenAPI schema drf-spectacular generates, so a new endpoint is
fuzzed as soon as it is in the schema. For each operation hypothesis builds requests from the
operation's request schema: valid bodies, bodies with one field broken, and arbitrary JSON;
path parameters are real tokens and ids from a small fixed world, or strings and numbers that
name nothing. Every request is sent as three callers (anonymous, a signed-in stranger, the
host) and must get:

- a status below 500;
- for 4xx, a JSON body {"error": {"code": str, "message": str, ...}};
- for a 4xx to the anonymous caller or the stranger, an unchanged database.

Each request runs in a savepoint that is rolled back, so every request sees the same world.
A 500 fails the test with the exact request; nothing here is marked xfail.
"""

from __future__ import annotations

import json
import logging
import traceback
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlencode

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Block, FriendRequest, Friendship, User
from feed import services as feed_services
from feed.models import Post
from rooms import services
from rooms.models import AuditEvent, Ban, CoHost, Invitation, Participant, Report, Room
from tests.factories import PASSWORD, befriend

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 20
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,  # no .hypothesis/ directory in a shared tree; derandomize replays anyway
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
CALLERS = ("anonymous", "outsider", "host")
ROOM_PASSWORD = "open sesame"

# --- the operations, from the schema ----------------------------------------------------------

SCHEMA: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
COMPONENTS: dict[str, Any] = SCHEMA["components"]["schemas"]


def deref(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref and single-element allOf (how drf-spectacular wraps enums with a default)."""
    if "$ref" in schema:
        target = deref(COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]])
        return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    if len(schema.get("allOf", ())) == 1:
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return {**deref(schema["allOf"][0]), **rest}
    return schema


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    path_params: dict[str, dict[str, Any]]
    query_params: dict[str, dict[str, Any]]
    body: dict[str, Any] | None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _operations() -> list[Operation]:
    found = []
    for path, item in SCHEMA["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            params = op.get("parameters", [])
            content = op.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    path_params={p["name"]: p["schema"] for p in params if p["in"] == "path"},
                    query_params={p["name"]: p["schema"] for p in params if p["in"] == "query"},
                    body=deref(body) if body else None,
                )
            )
    return found


OPERATIONS = _operations()

# --- the world --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A value from the world (a token, an id) chosen when the example is drawn and looked up
    when it is sent, so examples stay the same whatever ids the database hands out."""

    name: str


@dataclass(frozen=True)
class FromNow:
    """A time `seconds` from the moment the request is sent, as an ISO string with an offset."""

    seconds: int


TOKEN_REFS = ["room.open.token", "room.scheduled.token", "room.ended.token"]
ID_REFS = [
    "alice.id",
    "bob.id",
    "charlie.id",
    "dora.id",
    "eve.id",
    "participant.host.id",
    "participant.bob.id",
    "participant.guest.id",
    "participant.removed.id",
    "ban.id",
    "friend_request.id",
    "post.id",
]
USER_REFS = ["bob.id", "charlie.id", "dora.id", "eve.id", "alice.id"]
PARTICIPANT_REFS = [
    "participant.guest.id",
    "participant.bob.id",
    "participant.host.id",
    "participant.removed.id",
]
# What a parameter or field of this name is meant to name, most typical first: the fuzzer
# prefers these (any other ref or number still comes up), the deterministic tests use the first.
NAMED_REFS = {
    "token": ["room.open.token"],
    "user_id": USER_REFS,
    "user_ids": USER_REFS,
    "invitee_ids": USER_REFS,
    "participant_id": PARTICIPANT_REFS,
    "participant_ids": PARTICIPANT_REFS,
    "target_id": ["participant.bob.id", *PARTICIPANT_REFS],
    "ban_id": ["ban.id"],
    "request_id": ["friend_request.id"],
}


@dataclass
class World:
    """alice hosts an open room (she is in it, bob is admitted, a guest waits in the lobby,
    a removed guest is banned, dora is a co-host and eve is invited), a scheduled room with a
    password and an ended room; alice and bob are friends, charlie (a stranger) has asked
    alice to be friends, alice blocks eve, bob has a post."""

    users: dict[str, User]
    refs: dict[str, Any] = field(default_factory=dict, repr=False)
    snapshot: tuple[Any, ...] = field(
        default=(), repr=False
    )  # the database as built; refused requests must leave it so


def build_world() -> World:
    users = {
        name: account_services.user_create(
            username=name, password=PASSWORD, display_name=name.capitalize()
        )
        for name in ("alice", "bob", "charlie", "dora", "eve")
    }
    alice, bob, charlie, dora, eve = users.values()
    befriend(alice, bob)

    room = services.room_create(host=alice, title="Standup", waiting_room=True)
    host = services.room_join(token=room.token, identity=services.Identity(user=alice))
    connected = getattr(services, "participant_connected", None)
    if connected is not None:
        connected(participant_id=host.participant.pk)
    joined = services.room_join(token=room.token, identity=services.Identity(user=bob))
    guest = services.room_join(
        token=room.token,
        identity=services.Identity(guest_id="a" * 32, device_id="b" * 32, display_name="Gina"),
    )
    removed = services.room_join(
        token=room.token,
        identity=services.Identity(guest_id="c" * 32, device_id="d" * 32, display_name="Rex"),
    )
    ban = services.participant_remove(
        room=room, actor=alice, participant_id=removed.participant.pk, reason="spam"
    )
    services.cohost_add(room=room, actor=alice, user=dora)
    befriend(alice, eve)  # invitations go to friends (the block below ends the friendship)
    services.invitation_add(room=room, actor=alice, user_ids=[eve.pk])
    assert joined.participant.state == "admitted" and guest.participant.state == "lobby"

    scheduled = services.room_create(
        host=alice,
        title="Later",
        scheduled_start=timezone.now() + timedelta(days=2),
        password=ROOM_PASSWORD,
    )
    ended = services.room_create(host=alice, title="Over")
    services.room_end(room=ended, actor=alice)

    request = account_services.friend_request_send(sender=charlie, recipient=alice)
    assert request is not None
    account_services.user_block(blocker=alice, blocked=eve)
    post = feed_services.post_create(author=bob, body="Hello")

    refs: dict[str, Any] = {f"{name}.id": user.pk for name, user in users.items()}
    refs.update(
        {
            "room.open.token": room.token,
            "room.scheduled.token": scheduled.token,
            "room.ended.token": ended.token,
            "participant.host.id": host.participant.pk,
            "participant.bob.id": joined.participant.pk,
            "participant.guest.id": guest.participant.pk,
            "participant.removed.id": removed.participant.pk,
            "ban.id": ban.pk,
            "friend_request.id": request.pk,
            "post.id": post.pk,
        }
    )
    return World(users=users, refs=refs)


def resolve(value: Any, world: World) -> Any:
    if isinstance(value, Ref):
        return world.refs[value.name]
    if isinstance(value, FromNow):
        return (timezone.now() + timedelta(seconds=value.seconds)).isoformat()
    if isinstance(value, list):
        return [resolve(v, world) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, world) for k, v in value.items()}
    return value


# --- schema -> strategies ---------------------------------------------------------------------

HUGE_INTS = [0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, 10**400]
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(HUGE_INTS)
    | st.floats()  # NaN and Infinity too: json.dumps writes them, a strict parser refuses them
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "\x00", "null", "true", "0", "é" * 300, "🙂" * 20])
)
ANY_JSON = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
# Known good values by field name, so valid bodies also name things that exist.
NAME_HINTS: dict[str, list[Any]] = {
    "username": ["alice", "bob", "charlie", "dora", "eve", "nobody"],
    "password": [ROOM_PASSWORD, PASSWORD, ""],
}


def _offsets() -> st.SearchStrategy[dt_timezone]:
    return st.integers(-1439, 1439).map(lambda m: dt_timezone(timedelta(minutes=m)))


def _date_times() -> st.SearchStrategy[Any]:
    anywhen = st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=_offsets()
    ).map(datetime.isoformat)
    near = st.integers(-3 * 86_400, 400 * 86_400).map(FromNow)
    return near | anywhen


def _cursors() -> st.SearchStrategy[str]:
    """The feed cursor is opaque, but a client holds it and can tamper with it."""
    fields = st.fixed_dictionaries(
        {"p": st.text(max_size=30) | st.just("2030-01-01 00:00:00+00:00")},  # the position
        optional={
            "o": st.integers(-5, 10**6).map(str) | st.text(max_size=5),  # the offset
            "r": st.sampled_from(["0", "1", "x"]),  # reversed?
        },
    )
    tampered = fields.map(lambda f: b64encode(urlencode(f).encode()).decode())
    return tampered | st.text(max_size=40)


def _with_hint(name: str, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    if name in NAME_HINTS:
        return st.sampled_from(NAME_HINTS[name]) | strategy
    if name == "cursor":
        return _cursors()
    return strategy


def refs_for(name: str, pool: list[str]) -> st.SearchStrategy[Ref]:
    """An object from `pool`, most often one of the kind `name` is meant to name."""
    return st.sampled_from(NAMED_REFS.get(name, pool)).map(Ref) | st.sampled_from(pool).map(Ref)


def valid(schema: dict[str, Any], name: str = "") -> st.SearchStrategy[Any]:
    """Values the schema accepts (lengths capped to keep examples small, boundaries kept)."""
    schema = deref(schema)
    strategy = _valid_base(schema, name)
    return st.none() | strategy if schema.get("nullable") else strategy


def _valid_base(schema: dict[str, Any], name: str) -> st.SearchStrategy[Any]:
    kind = schema.get("type")
    if "enum" in schema:
        return st.sampled_from([v for v in schema["enum"] if v is not None])
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low, high = schema.get("minimum", -(2**63)), schema.get("maximum", 2**63 - 1)
        numbers = st.integers(low, high) | st.sampled_from([low, high])
        return refs_for(name, ID_REFS) | numbers if name in NAMED_REFS else numbers
    if kind == "string":
        if schema.get("format") == "date-time":
            return _date_times()
        low, high = schema.get("minLength", 0), schema.get("maxLength", 200)
        text = st.text(min_size=low, max_size=min(high, 40)) | st.just("x" * high)
        return _with_hint(name, text)
    if kind == "array":
        low, high = schema.get("minItems", 0), schema.get("maxItems", 10)
        items = valid(schema.get("items", {}), name)
        return st.lists(items, min_size=low, max_size=min(high, max(low, 5)))
    if kind == "object" or "properties" in schema:
        return valid_object(schema)
    return ANY_JSON


def _writable(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    props = schema.get("properties", {})
    return {k: v for k, v in props.items() if not v.get("readOnly")}


@st.composite
def valid_object(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    required = set(schema.get("required", ()))
    body = {}
    for key, sub in _writable(schema).items():
        if key in required or draw(st.booleans()):
            body[key] = draw(valid(sub, key))
    return body


def out_of_range(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value of the right type that breaks a limit (or just a wrong one when there is none)."""
    schema = deref(schema)
    kind = schema.get("type")
    choices: list[Any] = []
    if "enum" in schema:
        choices += ["not-a-choice", str(schema["enum"][0]).upper(), ""]
    if kind == "integer":
        choices += [schema.get("minimum", 0) - 1, schema.get("maximum", 2**63) + 1, -(2**64)]
    if kind == "string":
        if schema.get("format") == "date-time":
            choices += ["2030-01-01T18:00:00", "2030-13-45T99:00:00Z", "tomorrow", "0000-00-00"]
        choices += ["x" * (schema.get("maxLength", 5000) + 1), "", "   "]
    if kind == "array":
        choices += [[], list(range(1, schema.get("maxItems", 200) + 2)), [0], [None]]
    return st.sampled_from(choices) if choices else ANY_JSON


@st.composite
def broken_object(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    """A valid body with exactly one thing wrong with it."""
    body = draw(valid_object(schema))
    props = _writable(schema)
    required = sorted(set(schema.get("required", ())) & set(props))
    ways = ["unknown_field"]
    if props:
        ways += ["wrong_type", "out_of_range", "null"]
    if required:
        ways.append("missing_required")
    way = draw(st.sampled_from(ways))
    if way == "unknown_field":
        body[draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in props))] = draw(
            ANY_JSON
        )
    elif way == "missing_required":
        del body[draw(st.sampled_from(required))]
    else:
        key = draw(st.sampled_from(sorted(props)))
        if way == "wrong_type":
            body[key] = draw(ANY_JSON)
        elif way == "out_of_range":
            body[key] = draw(out_of_range(props[key]))
        else:
            body[key] = None
    return body


class _NoBody:
    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY = _NoBody()


def bodies(op: Operation) -> st.SearchStrategy[Any]:
    if op.method == "GET":
        return st.just(NO_BODY)  # a GET body is never read; spend the examples on the query
    if op.body is None:
        return st.just(NO_BODY) | ANY_JSON
    return valid_object(op.body) | broken_object(op.body) | ANY_JSON | st.just(NO_BODY)


def path_value(name: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that still match the route (the int converter takes digits only; the str one
    anything but '/'); unroutable ones are test_unroutable_api_paths_are_json_404s' job."""
    if deref(schema).get("type") == "integer":
        real = refs_for(name, ID_REFS)
        junk = st.integers(0, 10**40).map(str) | st.sampled_from(
            ["0", "000001", str(2**53 + 1), str(2**63 - 1), str(2**63), str(2**64), "9" * 400]
        )
    else:
        real = refs_for(name, TOKEN_REFS)
        junk = st.text(min_size=1, max_size=80).filter(lambda s: "/" not in s) | st.sampled_from(
            ["x" * 65, "..", "%", "A" * 32]
        )
    return st.one_of(real, real, junk)  # real objects twice as often as junk


def query_values(op: Operation) -> st.SearchStrategy[dict[str, Any]]:
    wanted = {name: valid(schema, name) for name, schema in op.query_params.items()}
    junk = st.text(max_size=60) | st.lists(st.text(max_size=10), min_size=2, max_size=3)
    known = st.fixed_dictionaries({}, optional={n: s | junk for n, s in wanted.items()})
    extra = st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=2)
    return st.tuples(known, extra).map(lambda both: {**both[1], **both[0]})


@dataclass(frozen=True)
class Call:
    path_args: dict[str, Any]
    query: dict[str, Any]
    body: Any


def calls(op: Operation) -> st.SearchStrategy[Call]:
    return st.builds(
        Call,
        path_args=st.fixed_dictionaries({n: path_value(n, s) for n, s in op.path_params.items()}),
        query=query_values(op),
        body=bodies(op),
    )


# --- sending and checking ---------------------------------------------------------------------

COUNTED = [
    Room,
    Participant,
    Ban,
    Report,
    Invitation,
    CoHost,
    Friendship,
    FriendRequest,
    Block,
    Post,
    AuditEvent,
    Token,
]


def db_snapshot() -> tuple[Any, ...]:
    counts = {model.__name__: model._default_manager.count() for model in COUNTED}
    rooms = list(
        Room.objects.order_by("pk").values_list(
            "pk", "state", "locked", "version", "title", "capacity", "password_hash", "audience"
        )
    )
    people = list(
        Participant.objects.order_by("pk").values_list("pk", "state", "role", "lobby_reason")
    )
    return counts, rooms, people


# One client per caller for the whole module: building a client's handler loads the middleware
# (WhiteNoise scans the static files), which would otherwise dominate the run time.
CLIENTS = {caller: APIClient() for caller in CALLERS}
CALLER_USERS = {"anonymous": None, "outsider": "charlie", "host": "alice"}


def client_for(caller: str, world: World) -> APIClient:
    client = CLIENTS[caller]
    client.cookies.clear()  # no guest cookie from an earlier request: examples stay independent
    username = CALLER_USERS[caller]
    client.force_authenticate(world.users[username] if username else None)
    return client


def url_for(op: Operation, path_args: dict[str, Any]) -> str:
    url = op.path
    for name, value in path_args.items():
        url = url.replace("{" + name + "}", quote(str(value), safe=""))
    return url


def problems_with(response: Any) -> str | None:
    """Why this response breaks the API contract, or None."""
    if response.status_code >= 500:
        return f"{response.status_code} (a server error response)"
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        kind = response.get("Content-Type")
        return f"{response.status_code} with a non-JSON body ({kind}): {response.content[:80]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if not (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
    ):
        return f"{response.status_code} without the error shape: {body!r:.200}"
    return None


def send(
    world: World,
    caller: str,
    method: str,
    url: str,
    *,
    query: dict[str, Any] | None = None,
    data: bytes | str | None = None,
    content_type: str = "application/json",
) -> str | None:
    """Send one request in a savepoint that is rolled back; return what went wrong, if any."""
    described = f"{method} {url:.160} as {caller}"
    if query:
        described += f" query={query!r}"
    if data is not None:
        described += f" content-type={content_type!r} body={data!r:.120}"
    cache.clear()  # throttles and password counters start fresh for every request
    problem, trace = None, ""
    with transaction.atomic():
        try:
            client = client_for(caller, world)
            if method == "GET":
                response = client.get(url, data=query or {})
            elif data is None:
                response = client.generic(method, url)
            else:
                # Django sends bytes as they are (the stubs only say str).
                body = cast(str, data)
                response = client.generic(method, url, data=body, content_type=content_type)
        except Exception as exc:  # the test client re-raises what would have been a 500
            problem = f"500 ({type(exc).__name__}: {exc!s:.200})"
            trace = where(exc)
        else:
            problem = problems_with(response)
            if (
                problem is None
                and 400 <= response.status_code < 500
                and caller != "host"
                and db_snapshot() != world.snapshot
            ):
                problem = f"refused with {response.status_code} but changed the database"
        finally:
            transaction.set_rollback(True)
    return f"{problem}\n  for {described}{trace}" if problem else None


PROJECT = str(Path(__file__).resolve().parents[1])


def where(exc: BaseException) -> str:
    """The innermost frame of the project's code (or, failing that, of DRF's) and the three
    innermost frames overall."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [
        f
        for f in frames
        if f.filename.startswith(PROJECT)
        and "/.venv" not in f.filename  # .venv/ and .venv-newest/
        and "/tests/" not in f.filename
    ] or [f for f in frames if "/rest_framework/" in f.filename]
    return "".join(f"\n  at {f.filename}:{f.lineno} in {f.name}" for f in ours[-1:] + frames[-3:])


@pytest.fixture
def world(db: None) -> Iterator[World]:
    # 4xx responses are logged as warnings by django.request; thousands of them are noise.
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    built = build_world()
    built.snapshot = db_snapshot()
    yield built
    logger.setLevel(level)


def test_the_schema_lists_every_api_operation() -> None:
    """Guard against fuzzing nothing: the operations are read from the schema."""
    assert len(OPERATIONS) >= 30
    assert {op.method for op in OPERATIONS} == {"GET", "POST", "PATCH", "DELETE"}
    assert all(op.path.startswith("/api/") for op in OPERATIONS)


@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_no_request_is_a_server_error(op: Operation, world: World) -> None:
    @FUZZ_SETTINGS
    @given(call=calls(op))
    def check(call: Call) -> None:
        url = url_for(op, resolve(call.path_args, world))
        query = resolve(call.query, world)
        data = None if call.body is NO_BODY else json.dumps(resolve(call.body, world))
        for caller in CALLERS:
            problem = send(world, caller, op.method, url, query=query, data=data)
            if problem:
                raise AssertionError(problem)

    check()


def report(problems: list[str | None], shown: int = 6) -> None:
    """Fail with the count of each kind of bad response, server errors first."""
    found = sorted((p for p in problems if p), key=lambda p: not p.startswith("5"))
    if found:
        errors = sum(p.startswith("5") for p in found)
        summary = f"{errors} server errors, {len(found) - errors} other bad responses"
        pytest.fail(f"{summary}; the first {shown}:\n\n" + "\n\n".join(found[:shown]), False)


RAW_BODIES = [
    ("application/json", b"not json"),
    ("application/json", b'{"title": "x",'),
    ("application/json", b""),
    ("application/json", b"\xff\xfe\x00garbage"),
    ("application/json", b'{"a": NaN, "b": Infinity}'),
    ("application/json", b"1" * 5000),
    ("application/json", b"[" * 5000 + b"]" * 5000),
    ("application/json", b'{"a":' * 5000 + b"1" + b"}" * 5000),
    ("application/json; charset=no-such-charset", b"{}"),
    ("application/json; charset=utf-16", b'{"title": "x"}'),
    ("text/plain", b"hello"),
    ("application/xml", b"<room><title>x</title></room>"),
    ("application/x-www-form-urlencoded", b"title=x&user_id=1&username=bob&password=x&all=1"),
    ("application/x-www-form-urlencoded", b"%%%&&&==="),
    ("multipart/form-data; boundary=xyz", b'--xyz\r\nContent-Disposition: form-data; name="a"'),
    ("multipart/form-data", b"no boundary at all"),
]


def typical_url(op: Operation, world: World, **override: str) -> str:
    args = {name: world.refs[NAMED_REFS[name][0]] for name in op.path_params}
    return url_for(op, {**args, **override})


@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_raw_bodies_and_wrong_methods_are_not_server_errors(op: Operation, world: World) -> None:
    url = typical_url(op, world)
    problems = []
    # A GET body is never read (and a POST to the same path is an operation of its own).
    raw_bodies = [] if op.method == "GET" else RAW_BODIES
    for caller in CALLERS:
        for content_type, raw in raw_bodies:
            problems.append(
                send(world, caller, op.method, url, data=raw, content_type=content_type)
            )
        problems.append(send(world, caller, "PUT", url, data=b"{}"))
    report(problems)


UNROUTABLE = {"integer": ["-1", "1.5", "abc", "", "\uff11"], "string": [""]}


def test_unroutable_api_paths_are_json_404s(world: World) -> None:
    """A path parameter the route can't take (a negative id, an empty token) is still an API
    request: it must be a 404 in the error shape, not a 500 or an HTML page."""
    problems = []
    for op in OPERATIONS:
        for name, schema in op.path_params.items():
            for bad in UNROUTABLE[deref(schema).get("type", "string")]:
                url = typical_url(op, world, **{name: bad})
                for caller in ("anonymous", "host"):
                    problems.append(send(world, caller, op.method, url))
    problems.append(send(world, "host", "GET", "/api/no-such-endpoint/"))
    report(problems)


def test_too_many_parameters_is_a_json_error(world: World) -> None:
    """More query parameters (or form fields) than DATA_UPLOAD_MAX_NUMBER_FIELDS."""
    many_fields = "&".join(f"f{i}=1" for i in range(1500))
    problems = [
        send(world, "host", op.method, f"{typical_url(op, world)}?{many_fields}")
        for op in OPERATIONS
    ]
    form = "application/x-www-form-urlencoded"
    for caller in CALLERS:
        problems.append(
            send(world, caller, "POST", "/api/auth/token/", data=many_fields, content_type=form)
        )
    report(problems)


def test_too_big_a_body_is_a_json_error(world: World) -> None:
    """A JSON body bigger than DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)."""
    problems = []
    for op in OPERATIONS:
        if op.method != "GET":
            key = next(iter(_writable(op.body or {})), "x")
            big = json.dumps({key: "x" * 3_000_000})
            problems.append(send(world, "host", op.method, typical_url(op, world), data=big))
    report(problems)


def test_fixed_world_is_what_the_fuzzer_expects(world: World) -> None:
    room = Room.objects.get(token=world.refs["room.open.token"])
    assert room.state == "open" and room.participants.filter(state="admitted").count() == 2
    assert services.is_moderator(room=room, user=world.users["alice"])
    assert not services.is_moderator(room=room, user=world.users["charlie"])
    assert Ban.objects.filter(pk=world.refs["ban.id"]).exists()

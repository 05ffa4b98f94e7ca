"""/healthz, /readyz and /metrics of a web process, through real requests."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from channels.layers import channel_layers
from django.db import connections
from django.test import AsyncClient, Client
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import User
from rooms import metrics, services
from rooms.models import Room
from rooms.sfu.worker import Worker
from tests.conftest import as_user, require_postgres
from tests.factories import host_arrives
from tests.rooms.sfu.conftest import make_config
from tests.rooms.socket_client import enter, me

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client: Client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return parse(response.content.decode())


async def ascrape(client: AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.content
    return parse(response.content.decode())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(autouse=True)
def _fresh_live_counts() -> Iterator[None]:
    metrics.live_counts.clear()  # cached for a few seconds: another test's figures
    yield
    metrics.live_counts.clear()


@pytest.fixture
def worker_free(settings, in_memory_channel_layer: None) -> None:  # type: ignore[no-untyped-def]
    """Separate SFU workers (not embedded), and none running yet."""
    settings.ROOMS_SFU_EMBEDDED = False


# --- /healthz -------------------------------------------------------------------------------


def test_healthz_answers_without_touching_the_database(
    alice: User,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    browser = Client()
    browser.force_login(alice)  # a session cookie is not even looked at
    with django_assert_num_queries(0):
        response = browser.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in str(response.headers)


def test_health_endpoints_take_only_reads() -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert Client().post(path).status_code == 405


# --- /readyz --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_readyz_needs_a_live_sfu_worker(worker_free: None) -> None:
    client = AsyncClient()
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["channel_layer"] == {"ok": True}
    assert body["checks"]["sfu"] == {"ok": False, "error": "NoLiveWorker"}

    from channels.layers import get_channel_layer

    from rooms import media_control

    worker = Worker(
        make_config(), get_channel_layer(), media_control.placement(), worker_id="w-ready"
    )
    await worker.start()
    try:
        response = await client.get("/readyz")
        assert response.status_code == 200, response.json()
        assert response.json() == {
            "status": "ok",
            "checks": {
                "database": {"ok": True},
                "channel_layer": {"ok": True},
                "sfu": {"ok": True, "live_workers": 1},
            },
        }
    finally:
        await worker.close()
    # A stopped worker leaves the registry: not ready again.
    assert (await client.get("/readyz")).status_code == 503


@pytest.mark.django_db(transaction=True)
async def test_readyz_in_embedded_mode_counts_the_in_process_worker(
    settings,
    in_memory_channel_layer: None,  # type: ignore[no-untyped-def]
) -> None:
    settings.ROOMS_SFU_EMBEDDED = True
    response = await AsyncClient().get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["sfu"] == {"ok": True, "mode": "embedded", "running": False}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
async def test_readyz_says_when_the_database_is_unreachable(
    worker_free: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_postgres()
    # Where the database was, nothing listens now. The process's connection pool was made
    # for the real one: it is closed, so the next connection makes a pool for the new place.
    database = connections["default"]
    database.close_pool()
    monkeypatch.setitem(database.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(database.settings_dict, "PORT", str(free_port()))
    try:
        response = await AsyncClient().get("/readyz")
    finally:
        database.close_pool()  # the pool for nowhere goes; the next one is for the database
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is False
    assert checks["database"]["error"] in ("OperationalError", "timeout")
    assert checks["channel_layer"] == {"ok": True}


@pytest.mark.django_db(transaction=True)
async def test_readyz_says_when_the_channel_layer_is_unreachable(
    settings,
    in_memory_channel_layer: None,  # type: ignore[no-untyped-def]
) -> None:
    settings.ROOMS_SFU_EMBEDDED = True
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": f"redis://127.0.0.1:{free_port()}/0"}],
            },
        }
    }
    channel_layers.backends.clear()
    response = await AsyncClient().get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["channel_layer"]["ok"] is False
    assert checks["database"] == {"ok": True}


# --- /metrics -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_metrics_count_joins_and_show_rooms_participants_and_lobby(alice: User) -> None:
    room = services.room_create(host=alice, title="Counted")
    web = Client()
    before = scrape(web)

    assert as_user(alice).post(f"/api/rooms/{room.token}/join/", {}, format="json").json()[
        "decision"
    ] == {"outcome": "admit", "reason": "moderator"}
    host_arrives(room, alice)  # the socket connects: the room opens
    guest = Client()
    body = guest.post(
        f"/api/rooms/{room.token}/join/",
        {"display_name": "Gus"},
        content_type="application/json",
    ).json()
    assert body["decision"] == {"outcome": "lobby", "reason": "waiting_room"}
    wrong = Room.objects.get(pk=room.pk)
    wrong.password_hash = "x"  # any hash: no password given is refused before it is checked
    wrong.save(update_fields=["password_hash"])
    refused = Client().post(
        f"/api/rooms/{room.token}/join/", {"display_name": "Eve"}, content_type="application/json"
    )
    assert refused.status_code == 403

    metrics.live_counts.clear()  # the figures are cached for a few seconds
    after = scrape(web)
    joins = "rooms_joins_total"
    assert (
        value(after, joins, decision="admit", reason="moderator")
        - value(before, joins, decision="admit", reason="moderator")
        == 2
    )  # the API's join and host_arrives's
    assert (
        value(after, joins, decision="lobby", reason="waiting_room")
        - value(before, joins, decision="lobby", reason="waiting_room")
        == 1
    )
    assert (
        value(after, joins, decision="deny", reason="password_required")
        - value(before, joins, decision="deny", reason="password_required")
        == 1
    )
    assert value(after, "rooms_live") == 1
    assert value(after, "rooms_participants") == 1
    assert value(after, "rooms_lobby") == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_memory_channel_layer")
async def test_metrics_count_sockets_and_their_messages(alice: User) -> None:
    room = await Room.objects.acreate(host=alice, title="Socket counts")
    web = AsyncClient()
    before = await ascrape(web)
    socket, _ = await enter(room, me(alice))
    await socket.expect("snapshot")
    await socket.send({"type": "ping"})
    await socket.expect("pong")
    await socket.send("{not json")
    await socket.expect("error")

    during = await ascrape(web)
    await socket.close()

    messages = "rooms_socket_messages_total"
    for direction, kind, more in (
        ("in", "ping", 1),
        ("in", "invalid", 1),
        ("out", "hello", 1),
        ("out", "snapshot", 1),
        ("out", "pong", 1),
    ):
        counted = value(during, messages, direction=direction, type=kind)
        assert counted - value(before, messages, direction=direction, type=kind) == more, kind
    connects = "rooms_socket_connects_total"
    assert (
        value(during, connects, outcome="accepted") - value(before, connects, outcome="accepted")
        == 1
    )
    assert value(during, "rooms_sockets_open", kind="room") >= 1
    # The serving loop's lag is measured from the first socket on.
    assert ("rooms_event_loop_lag_seconds_count", (("loop", "web"),)) in during


@pytest.mark.django_db
def test_metrics_can_require_a_bearer_token(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_METRICS_TOKEN = "a-long-random-metrics-token"
    refused = Client().get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert refused.json()["error"]["code"] == "not_authenticated"
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer guessed")
    assert wrong.status_code == 401
    right = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer a-long-random-metrics-token")
    assert right.status_code == 200
    assert b"# TYPE rooms_joins_total counter" in right.content


@pytest.mark.django_db
def test_metrics_can_be_limited_to_addresses(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOMS_METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.7"]
    refused = Client().get("/metrics")  # from 127.0.0.1
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert Client(REMOTE_ADDR="10.20.30.40").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.7").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.8").get("/metrics").status_code == 403

"""Health, readiness and metrics of a web process, for load balancers and Prometheus.

    GET /healthz   200 {"status": "ok"}: the process serves requests. Touches nothing else
                   (no session, no database): a load balancer may ask every second.
    GET /readyz    200 when the database answers, the channel layer carries a message to this
                   process and back, and at least one SFU worker is alive in the registry (in
                   embedded mode: the in-process worker, which starts with the first call); else
                   503 with Retry-After and which check failed. Each check is bounded in time.
    GET /metrics   Prometheus text (rooms.metrics), behind ROOMS_METRICS_TOKEN (a bearer token)
                   and/or ROOMS_METRICS_ALLOWED_IPS when set.

A host site includes ``rooms.health_urls`` (the reference site at its root). The views are
async: they run on the serving loop, whose lag they also start measuring, and blocking checks
run in a pool of their own, so a database that hangs cannot take the threads other requests
need.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from channels.layers import get_channel_layer
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from rooms import media_control, metrics
from rooms.sfu import placement as places

log = logging.getLogger(__name__)

T = TypeVar("T")

READY_TIMEOUT_SECONDS = 2.0
RETRY_AFTER_SECONDS = 5
# Blocking checks (database, the Redis registry) run here, never in the threads requests use.
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rooms-health")


def _closing_connections(function: Callable[[], T]) -> Callable[[], T]:
    """Run in a pool thread, then close that thread's database connections: a check must not
    keep connections open beside the pool the process is sized for."""

    def run() -> T:
        from django.db import connections

        try:
            return function()
        finally:
            connections.close_all()

    return run


async def _in_pool(function: Callable[[], T]) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool, _closing_connections(function))


@require_safe
async def healthz(request: HttpRequest) -> HttpResponse:
    metrics.ensure_loop_lag()
    return _no_store(JsonResponse({"status": "ok"}))


@require_safe
async def readyz(request: HttpRequest) -> HttpResponse:
    metrics.ensure_loop_lag()
    names = ("database", "channel_layer", "sfu")
    results = await asyncio.gather(_check(_database), _check(_channel_layer), _check(_sfu_workers))
    checks = dict(zip(names, results, strict=True))
    ready = all(check["ok"] for check in checks.values())
    response = JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
    if not ready:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return _no_store(response)


async def _check(check: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    try:
        return {"ok": True, **await asyncio.wait_for(check(), READY_TIMEOUT_SECONDS)}
    except TimeoutError:
        return {"ok": False, "error": "timeout"}
    except Exception as error:
        # The class only: a message may hold a host name or a connection string.
        return {"ok": False, "error": type(error).__name__}


async def _database() -> dict[str, Any]:
    def select_one() -> None:
        from django.db import connections

        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")

    await _in_pool(select_one)
    return {}


async def _channel_layer() -> dict[str, Any]:
    """A message to a channel of this process and back: the layer both takes and delivers."""
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel()
    nonce = secrets.token_hex(8)
    await layer.send(channel, {"type": "readyz.probe", "nonce": nonce})
    while (await layer.receive(channel)).get("nonce") != nonce:
        pass
    return {}


class NoLiveWorker(Exception):
    pass


async def _sfu_workers() -> dict[str, Any]:
    if settings.ROOMS_SFU_EMBEDDED:
        from rooms import embedded_sfu

        worker = embedded_sfu.current_worker()
        # Not started yet is fine: the first media offer starts it in this process.
        if worker is not None and not worker.ready:
            raise NoLiveWorker("the embedded SFU worker is not ready")
        return {"mode": "embedded", "running": worker is not None}
    live = await _in_pool(functools.partial(places.live_workers, media_control.placement()))
    if not live:
        raise NoLiveWorker("no SFU worker is alive")
    return {"live_workers": len(live)}


@require_safe
async def metrics_view(request: HttpRequest) -> HttpResponse:
    refused = _metrics_refusal(request)
    if refused is not None:
        return refused
    metrics.ensure_loop_lag()
    try:
        await asyncio.wait_for(_in_pool(metrics.live_counts.refresh), READY_TIMEOUT_SECONDS)
    except Exception as error:
        # Everything else is still worth scraping; the live counts keep their last values.
        log.warning("live counts not refreshed for /metrics: %r", error)
    response = HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
    return _no_store(response)


@functools.cache
def _networks(
    allowed: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in allowed)


def _metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    allowed = tuple(settings.ROOMS_METRICS_ALLOWED_IPS)
    if allowed:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            address = None
        if address is None or not any(address in net for net in _networks(allowed)):
            return _error(403, "forbidden", "Metrics are not served to this address.")
    token = str(settings.ROOMS_METRICS_TOKEN)
    if token:
        given = request.headers.get("Authorization", "")
        if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
            response = _error(401, "not_authenticated", "Send the metrics bearer token.")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return None


def _error(status: int, code: str, message: str) -> HttpResponse:
    return _no_store(JsonResponse({"error": {"code": code, "message": message}}, status=status))


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response

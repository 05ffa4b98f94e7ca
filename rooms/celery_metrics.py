"""Celery task outcomes as Prometheus counters, exported by the worker on a port of its own.

A Celery worker runs its tasks in forked child processes (the prefork pool), which share no
memory with the parent and come and go (``--max-tasks-per-child``); a counter kept in a child
would be invisible, or lost with it. So a task's outcome is counted where it is known, in the
child, in a Redis hash of its worker node (``HINCRBY``, one round trip per task, to the Redis the
broker already is), and the parent's small HTTP server reads that hash when Prometheus scrapes
(``ROOMS_CELERY_METRICS_PORT``). The counts survive a child's death; a Redis restart resets
them, which Prometheus handles as any counter reset.

Outside a worker (embedded mode runs tasks eagerly in the web process) outcomes go to an
ordinary in-process counter of the same name, exported by the web process's ``/metrics``.

A host site's Celery module calls ``connect()`` once (config/celery.py does).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from celery import signals
from prometheus_client import CollectorRegistry, Counter, start_http_server
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

TASKS = Counter(
    "rooms_celery_tasks", "Celery task outcomes (tasks run in this process).", ["task", "outcome"]
)
KEY_PREFIX = "rooms:celery:tasks:"
_SEPARATOR = "\t"

# The worker node this process belongs to ("celery@host"); None outside a worker.
_node: str | None = None
_client: tuple[int, Any] | None = None  # (pid, Redis client): never shared across a fork
_server: Any = None


def key(node: str) -> str:
    return KEY_PREFIX + node


def _redis() -> Any:
    global _client
    if _client is None or _client[0] != os.getpid():
        import redis
        from django.conf import settings

        url = settings.ROOMS_REDIS_URL
        if not url:
            return None
        _client = (
            os.getpid(),
            redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2),
        )
    return _client[1]


def record(task: str, outcome: str) -> None:
    """Count one outcome: in the node's Redis hash inside a worker, in this process else."""
    client = _redis() if _node is not None else None
    if client is None:
        TASKS.labels(task, outcome).inc()
        return
    try:
        client.hincrby(key(_node or ""), f"{task}{_SEPARATOR}{outcome}", 1)
    except Exception as error:
        # The broker is the same Redis: the task itself will have trouble too. A count lost
        # is better than a task failed for its metrics.
        log.warning("could not count a task outcome: %r", error)


class NodeTasksCollector(Collector):
    """``rooms_celery_tasks_total`` of one worker node, read from its Redis hash."""

    def __init__(self, node: str) -> None:
        self.node = node

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "rooms_celery_tasks",
            "Celery task outcomes of this worker node, by task.",
            labels=["task", "outcome"],
        )
        client = _redis()
        raw: dict[bytes, bytes] = client.hgetall(key(self.node)) if client is not None else {}
        for field, value in sorted(raw.items()):
            task, _, outcome = field.decode().partition(_SEPARATOR)
            family.add_metric([task, outcome], int(value))
        yield family


def _task_name(sender: Any) -> str:
    return str(getattr(sender, "name", None) or sender or "unknown")


def _on_worker_init(sender: Any = None, **_: Any) -> None:
    # In the parent before the pool forks: the children inherit the node name.
    global _node
    _node = str(getattr(sender, "hostname", "") or "") or None


def _on_process_init(sender: Any = None, **_: Any) -> None:
    global _node
    _node = str(sender) if sender else _node


def _on_worker_ready(sender: Any = None, **_: Any) -> None:
    global _server
    from django.conf import settings

    port = int(settings.ROOMS_CELERY_METRICS_PORT)
    if not port or _node is None or _server is not None:
        return
    address = str(settings.ROOMS_CELERY_METRICS_ADDRESS)
    registry = CollectorRegistry()
    registry.register(NodeTasksCollector(_node))
    ProcessCollector(registry=registry)
    _server, _thread = start_http_server(port, addr=address, registry=registry)
    log.info("task metrics on http://%s:%s/metrics", address, port)


def _on_worker_shutdown(**_: Any) -> None:
    global _server
    if _server is not None:
        _server.shutdown()
        _server.server_close()
        _server = None


def _on_success(sender: Any = None, **_: Any) -> None:
    record(_task_name(sender), "succeeded")


def _on_failure(sender: Any = None, **_: Any) -> None:
    record(_task_name(sender), "failed")


def _on_retry(sender: Any = None, **_: Any) -> None:
    record(_task_name(sender), "retried")


def _on_revoked(sender: Any = None, **_: Any) -> None:
    record(_task_name(sender), "revoked")


def connect() -> None:
    """Hook the counters into Celery's signals (idempotent)."""
    for signal, receiver in (
        (signals.worker_init, _on_worker_init),
        (signals.worker_process_init, _on_process_init),
        (signals.worker_ready, _on_worker_ready),
        (signals.worker_shutdown, _on_worker_shutdown),
        (signals.task_success, _on_success),
        (signals.task_failure, _on_failure),
        (signals.task_retry, _on_retry),
        (signals.task_revoked, _on_revoked),
    ):
        signal.connect(
            receiver, weak=False, dispatch_uid=f"rooms.celery_metrics.{receiver.__name__}"
        )

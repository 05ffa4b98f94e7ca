"""A real Celery worker (the prefork pool, tasks in a child process) exports its task outcomes
on its metrics port; tasks run eagerly in the web process count there.

Needs PostgreSQL and Redis (database 9 of REDIS_URL's server, flushed); skipped without them,
except in CI (ROOMS_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from celery import Celery
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from rooms import tasks
from tests.celery_helpers import CeleryWorker, eager_tasks, private_broker
from tests.rooms.live_harness import (
    free_port,
)

REDIS_DB = 9


def outcomes(text: str) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "rooms_celery_tasks_total":
                found[(sample.labels["task"], sample.labels["outcome"])] = sample.value
    return found


@pytest.fixture
def broker(transactional_db: None) -> Iterator[tuple[str, dict[str, str]]]:
    with private_broker(REDIS_DB) as found:
        yield found


@pytest.mark.postgres
def test_a_prefork_worker_exports_its_task_outcomes(broker: tuple[str, dict[str, str]]) -> None:
    url, env = broker
    port = free_port()
    worker = CeleryWorker(
        "metrics", {**env, "ROOMS_CELERY_METRICS_PORT": str(port)}, pool="prefork"
    )
    client = Celery("web", broker=url)
    client.conf.task_serializer = "json"

    def send(task: str, *args: object) -> str:
        task_id = str(uuid.uuid4())
        client.send_task(task, args=list(args), task_id=task_id)
        return task_id

    try:
        worker.wait_for("ready.", timeout=60)
        ok = send("rooms.tasks.sweep_rooms")
        failing = send("rooms.tasks.release_vanished_seats", "not-a-room-id")
        worker.wait_for(f"{ok}] succeeded", timeout=60)
        worker.wait_for(f"{failing}] raised", timeout=60)
        expected = {
            ("rooms.tasks.sweep_rooms", "succeeded"): 1.0,
            ("rooms.tasks.release_vanished_seats", "failed"): 1.0,
        }
        deadline = time.monotonic() + 30
        while True:
            page = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
            assert page.status_code == 200
            if outcomes(page.text) == expected or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert outcomes(page.text) == expected, page.text
        assert "process_resident_memory_bytes" in page.text  # the parent's own figures
    finally:
        worker.stop()
        client.close()


@pytest.mark.django_db
def test_tasks_run_in_this_process_count_here() -> None:
    def counted() -> float:
        found = outcomes(generate_latest(REGISTRY).decode())
        return found.get(("rooms.tasks.sweep_rooms", "succeeded"), 0.0)

    before = counted()
    with eager_tasks():
        tasks.sweep_rooms.delay()
    assert counted() == before + 1

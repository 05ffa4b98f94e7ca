"""Publishing from synchronous code (commit hooks in a database thread) on the in-memory layer."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from rooms import publisher

pytestmark = pytest.mark.usefixtures("in_memory_channel_layer")


def test_a_commit_hook_that_outlives_its_loop_still_publishes_and_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Seen in CI: a test ended while its commit hooks were still publishing in the database
    thread. Its loop had stopped but was not closed yet; the send was scheduled there and the
    thread waited for ever, so every later test that needed the database timed out."""
    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    channel = loop.run_until_complete(layer.new_channel())
    loop.run_until_complete(layer.group_add("room-1", channel))
    monkeypatch.setattr(publisher, "_serving_loop", loop)  # as a socket records it
    go, published = threading.Event(), threading.Event()

    def commit_hook() -> None:
        go.wait(5)
        publisher.group_send("room-1", {"type": "room.event", "n": 1})
        published.set()

    async def start() -> asyncio.Future[None]:
        # A database thread started by this loop's async code, as database_sync_to_async does.
        running = asyncio.ensure_future(sync_to_async(commit_hook, thread_sensitive=False)())
        await asyncio.sleep(0.05)
        return running

    hook = loop.run_until_complete(start())
    # The loop has stopped (the test, or the server, is over) and is not closed yet.
    go.set()
    try:
        assert published.wait(publisher.SEND_TIMEOUT_SECONDS + 2), "the thread still waits"
        loop.run_until_complete(hook)
        message = loop.run_until_complete(asyncio.wait_for(layer.receive(channel), 1))
        assert message == {"type": "room.event", "n": 1}
    finally:
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()


async def test_a_commit_hook_publishes_on_the_loop_that_called_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No socket has recorded the serving loop yet (or a test's stale one is left): the send
    goes to the running loop whose async code called into the thread."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("room-2", channel)
    stale = asyncio.new_event_loop()
    monkeypatch.setattr(publisher, "_serving_loop", stale)
    try:
        await sync_to_async(publisher.group_send)("room-2", {"type": "room.event", "n": 2})
        assert await asyncio.wait_for(layer.receive(channel), 1) == {"type": "room.event", "n": 2}
    finally:
        stale.close()


def test_a_send_its_loop_never_ran_leaves_no_coroutine_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Seen in CI as a PytestUnraisableExceptionWarning pinned on whichever test ran when it
    was collected: the serving loop was busy when a commit hook published, the hook gave up
    after its timeout, and the loop stopped and closed before it ran the send. The coroutine
    made for it was then never awaited. The caller still returns in bounded time, and no
    coroutine is left for the garbage collector to complain about."""
    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    busy, release = threading.Event(), threading.Event()

    def hold_then_stop() -> None:
        busy.set()
        release.wait(5)
        loop.stop()  # the send scheduled meanwhile stays queued: the loop never runs it

    loop.call_soon(hold_then_stop)
    server = threading.Thread(target=loop.run_forever)
    server.start()
    assert busy.wait(5)
    monkeypatch.setattr(publisher, "_serving_loop", loop)
    monkeypatch.setattr(publisher, "SEND_TIMEOUT_SECONDS", 0.2)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        publisher.group_send("room-3", {"type": "room.event", "n": 3})
        release.set()
        server.join(5)
        loop.close()
        del layer
        gc.collect()
    assert not [w for w in seen if "never awaited" in str(w.message)]

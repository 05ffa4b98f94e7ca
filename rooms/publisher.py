"""Sending to the channel layer from synchronous code (services' on-commit callbacks).

`async_to_sync` from a worker thread runs the send on the server's event loop and waits for
it; once that loop stops (shutdown), the thread waits forever and the process cannot exit.
With Redis, sends therefore run on a loop of their own in a daemon thread, and a caller waits
a bounded time: a lost event is tolerable (clients resync on a version gap), a hung process
is not. The in-memory layer (embedded mode, one process) must be used from the server's loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import BaseChannelLayer, InMemoryChannelLayer, get_channel_layer

log = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 5.0

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="channel-layer-publisher", daemon=True
            )
            thread.start()
            _loop = loop
        return _loop


def _run(layer: BaseChannelLayer, send: Coroutine[Any, Any, None]) -> None:
    future = asyncio.run_coroutine_threadsafe(send, _publisher_loop())
    try:
        future.result(timeout=SEND_TIMEOUT_SECONDS)
    except FutureTimeout:
        future.cancel()
        log.warning("channel layer send timed out after %ss", SEND_TIMEOUT_SECONDS)


# The loop the in-memory layer's readers run on (the server's; each test's own), recorded by
# sockets and the embedded worker as they start.
_serving_loop: asyncio.AbstractEventLoop | None = None


def serving_loop_is(loop: asyncio.AbstractEventLoop) -> None:
    global _serving_loop
    _serving_loop = loop


def _in_memory(send: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
    """The in-memory layer's queues belong to the serving loop: send there, and wait a bounded
    time. Without a running serving loop (none recorded yet in this process, or a test's that
    has ended), the loop of the async code that called into this thread, if it still runs
    (asgiref records it for ``sync_to_async`` threads); else, when no loop runs at all, a loop
    of its own. asgiref's ``async_to_sync`` is not used from a thread: it schedules the send
    on that caller's loop even when the loop has stopped without being closed, and then waits
    for ever; in tests this blocked the one database thread every later test needs (a test
    ended while its commit hooks were still publishing: every test after it timed out)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    loop = _serving_loop
    if loop is None or not loop.is_running():
        caller = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
        loop = caller if caller is not None and caller.is_running() else None
    if running is not None and loop in (None, running):
        # Called synchronously on a running loop with no other loop to send on: nothing here
        # can wait for a send that needs this very loop to run (asgiref says so clearly).
        async_to_sync(send)(*args)
        return
    if loop is None:
        asyncio.run(send(*args))
        return
    # The coroutine is made on the serving loop, once it runs the send: a loop that stops and
    # closes before that (the caller gave up after its timeout) leaves no coroutine that was
    # never awaited, as `run_coroutine_threadsafe` with a coroutine made here would.
    future: Future[None] = Future()

    def start() -> None:
        if future.set_running_or_notify_cancel():
            task = loop.create_task(send(*args))
            task.add_done_callback(lambda done: _settle(future, done))

    try:
        loop.call_soon_threadsafe(start)
    except RuntimeError:  # closed since it was seen running
        log.warning("in-memory channel layer send dropped: the serving loop has closed")
        return
    try:
        future.result(timeout=SEND_TIMEOUT_SECONDS)
    except FutureTimeout:
        future.cancel()
        log.warning("in-memory channel layer send timed out after %ss", SEND_TIMEOUT_SECONDS)


def _settle(future: Future[None], task: asyncio.Task[None]) -> None:
    if task.cancelled():
        future.cancel()
    elif (error := task.exception()) is not None:
        future.set_exception(error)
    else:
        future.set_result(None)


def group_send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        _in_memory(layer.group_send, group, message)
    else:
        _run(layer, layer.group_send(group, message))


def send(channel: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        _in_memory(layer.send, channel, message)
    else:
        _run(layer, layer.send(channel, message))

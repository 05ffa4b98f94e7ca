"""Embedded mode: the SFU worker runs on the web process's own event loop.

Started on the first media offer (Daphne has no lifespan events), stopped with the process.
The same `Worker` code as `manage.py sfu`, talking through the same channel layer.
"""

from __future__ import annotations

import asyncio

from channels.layers import get_channel_layer
from django.conf import settings

from rooms import media_control, publisher
from rooms.sfu.config import IceServer, SfuConfig
from rooms.sfu.worker import Worker

_worker: Worker | None = None
_lock: asyncio.Lock | None = None


def sfu_config() -> SfuConfig:
    """The worker configuration from settings (shared with `manage.py sfu`)."""
    stun = tuple(IceServer(urls=(url,)) for url in settings.ROOMS_SFU_STUN_URLS)
    return SfuConfig(
        ice_addresses=tuple(settings.ROOMS_SFU_ICE_ADDRESSES),
        ice_servers=stun,
        last_n=settings.ROOMS_SFU_LAST_N,
        audio_slots=settings.ROOMS_SFU_AUDIO_SLOTS,
        udp_gso=settings.ROOMS_SFU_UDP_GSO,
    )


def current_worker() -> Worker | None:
    """The running worker, if the first offer started it already."""
    return _worker


async def ensure_worker() -> Worker:
    global _worker, _lock
    if _worker is not None:
        return _worker
    if _lock is None:
        _lock = asyncio.Lock()
    publisher.serving_loop_is(asyncio.get_running_loop())
    async with _lock:
        if _worker is None:
            worker = Worker(
                sfu_config(), get_channel_layer(), media_control.placement(), worker_id="embedded"
            )
            await worker.start()
            _worker = worker
    return _worker


async def stop_worker() -> None:
    """Close the worker and everything it owns (tests, shutdown)."""
    global _worker, _lock
    worker, _worker, _lock = _worker, None, None
    if worker is not None:
        await worker.close()

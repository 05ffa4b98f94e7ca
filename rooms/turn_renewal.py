"""Fresh TURN credentials over the room socket while a person is admitted.

Credentials are short-lived (`ROOMS_TURN_TTL_SECONDS`, 10 minutes by default) so that someone
removed cannot make new relay allocations for long. People who stay get new ones on their socket,
`{"type": "turn.credentials", "ice_servers": [...]}`, halfway through the lifetime of the last
ones they were given (a snapshot carries them too). The database says each time whether the
person is still admitted: a removal whose notice the channel layer lost stops them as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from channels.db import database_sync_to_async

from rooms import frames, selectors, turn

log = logging.getLogger(__name__)

# After a failed read (the database is briefly down), try again this soon, not a period later.
RETRY_SECONDS = 5.0

Send = Callable[[frames.TurnCredentials], Awaitable[None]]


class CredentialRenewal:
    """The renewal timer of one room socket, which owns it: `restart` whenever the socket
    hands out credentials (its snapshots), `stop` when the person is not admitted any more
    and when the socket closes. Without TURN configured it does nothing."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._task: asyncio.Task[None] | None = None

    async def restart(self, *, participant_id: int) -> None:
        await self.stop()
        period = turn.renew_after_seconds()
        if period is not None:
            self._task = asyncio.create_task(self._run(participant_id, period))

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, participant_id: int, period: float) -> None:
        wait = period
        while True:
            await asyncio.sleep(wait)
            try:
                servers = await database_sync_to_async(selectors.turn_credentials)(
                    participant_id=participant_id
                )
            except Exception as error:
                wait = min(RETRY_SECONDS, period)
                log.warning("TURN credentials not renewed, trying again: %r", error)
                continue
            if servers is None:
                return  # not admitted any more: none for this visit until it is again
            await self._send({"type": "turn.credentials", "ice_servers": servers})
            wait = period

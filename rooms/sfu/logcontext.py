"""Which room and participant the code running now is about, for log lines.

A context variable: set it where the ids become known (a socket once its visit is known, an SFU
command while it is handled) and every line logged from there on says so, including the lines
of tasks started meanwhile (aiortc's and aioice's for that peer: a task copies the context it
was created in) and of sync code run through ``sync_to_async``. ``rooms.logs`` prints it.
Plain stdlib: the SFU worker uses it without Django.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

Ids = tuple[int | str | None, int | str | None]

_ids: ContextVar[Ids] = ContextVar("rooms_log_ids", default=(None, None))


def current() -> Ids:
    """(room id, participant id), None where unknown."""
    return _ids.get()


def bind(room_id: int | str | None, participant_id: int | str | None = None) -> None:
    """For the rest of the current task (or thread's context)."""
    _ids.set((room_id, participant_id))


@contextlib.contextmanager
def about(room_id: int | str | None, participant_id: int | str | None = None) -> Iterator[None]:
    """For the lines logged inside the block."""
    token = _ids.set((room_id, participant_id))
    try:
        yield
    finally:
        _ids.reset(token)

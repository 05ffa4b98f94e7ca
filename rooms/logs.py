"""Log lines an operator can use: time, level, process, logger, room and participant ids.

Two formats over the standard library's logging (every library here, Django, Channels, Celery,
aiortc, aioice, logs through it already, so one handler shapes them all; a structured-logging
library would still need this bridge for them and buys nothing more):

- ``JsonFormatter``: one JSON object per line (``LOG_FORMAT=json``), for a log collector.
- ``TextFormatter``: ``2026-11-29T10:00:00.123Z INFO  rooms.consumers [pid 12] room=5
  participant=9: message``, for people.

``ContextFilter`` puts the ids of ``rooms.sfu.logcontext`` on every record. Both formatters
redact what must never reach a log, whoever logged it: room link tokens in paths (Django logs
``Forbidden: /api/rooms/<token>/join/``), join tickets, resume tokens, passwords and API tokens
in query strings, JSON-ish text or headers. The config (``LOGGING`` in settings) puts the filter
on the handler, so records from every logger pass it (config/settings.py shows the dict).
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime
from typing import Any

from rooms.sfu import logcontext

REDACTED = "[redacted]"

# /r/<token>/ (the room page), /rooms/<token>/ (API and socket paths).
_PATH_TOKEN = re.compile(r"(/(?:r|rooms)/)[A-Za-z0-9_\-]{8,}")
# ticket=..., auth=..., "resume_token": "...", password: ..., Authorization: Token ..., Bearer ...
_SECRET_FIELD = re.compile(
    r"""(?ix)
    ( \b(?:ticket|auth|resume|resume_token|token|password|secret|sessionid|csrftoken)
      ["']?\s*[:=]\s*["']? )
    [^"'&\s,;}]+
    """
)
_AUTH_VALUE = re.compile(r"(?i)(\b(?:token|bearer|basic)\s+)[A-Za-z0-9._~+/=\-]{20,}")


def redact(text: str) -> str:
    text = _PATH_TOKEN.sub(rf"\1{REDACTED}", text)
    text = _SECRET_FIELD.sub(rf"\1{REDACTED}", text)
    return _AUTH_VALUE.sub(rf"\1{REDACTED}", text)


class ContextFilter(logging.Filter):
    """Adds ``room_id`` and ``participant_id`` (None where unknown) to every record, unless the
    call gave them itself (``extra=``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        room_id, participant_id = logcontext.current()
        if getattr(record, "room_id", None) is None:
            record.room_id = room_id
        if getattr(record, "participant_id", None) is None:
            record.participant_id = participant_id
        return True


def _time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "process": record.process or os.getpid(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key in ("room_id", "participant_id"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ids = ""
        room_id = getattr(record, "room_id", None)
        participant_id = getattr(record, "participant_id", None)
        if room_id is not None:
            ids += f" room={room_id}"
        if participant_id is not None:
            ids += f" participant={participant_id}"
        line = (
            f"{_time(record)} {record.levelname:<7} {record.name} "
            f"[pid {record.process or os.getpid()}]{ids}: {record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return redact(line)

"""The service's log: one line per record, whatever a client sent, as text or as JSON.

A value a client chose (a path, a cursor, a key's name) may hold line breaks or terminal
escapes; written as is, it could forge a line of the log or hide one. Every record is
therefore written on one line, its control characters escaped (``\\n``, ``\\x1b``), and an
error is logged once, as one line naming the exception and where it was raised, not as a
traceback of dozens of lines. ``DIPREC_LOG_FORMAT=json`` writes each record as one JSON
object instead, for log collectors.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]

# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with every control character escaped, so it cannot break or forge a line."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    character = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(character)
    if named:
        return named
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def describe(error: BaseException) -> str:
    """An exception in one line: its type, its message, and the line that raised it."""
    frames = traceback.extract_tb(error.__traceback__)
    where = (
        f" (at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    )
    return f"{type(error).__name__}: {error}{where}"


class OneLineFormatter(logging.Formatter):
    """Text records on one line: control characters escaped, exceptions described."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{message}: {describe(record.exc_info[1])}"
        stamp = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        return one_line(f"{stamp} {record.levelname} {record.name}: {message}")


class JsonFormatter(logging.Formatter):
    """Each record one JSON object on one line (JSON escapes every control character)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = describe(record.exc_info[1])
        return json.dumps(entry, ensure_ascii=True, default=str)


def log_config(level: str, log_format: LogFormat) -> dict[str, Any]:
    """The logging configuration of the service and of uvicorn, as ``dictConfig`` takes it:
    every logger writes through one formatter, requests to standard output and everything
    else to standard error."""
    formatter = JsonFormatter if log_format == "json" else OneLineFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"diprec": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            stream: {
                "class": "logging.StreamHandler",
                "formatter": "diprec",
                "stream": f"ext://sys.{stream}",
            }
            for stream in ("stderr", "stdout")
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level.upper(), "propagate": True},
            # Requests, one line each, on standard output (as uvicorn has them); the rest on
            # standard error.
            "uvicorn.access": {"handlers": ["stdout"], "level": level.upper(), "propagate": False},
        },
    }

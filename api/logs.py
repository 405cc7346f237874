"""Request ids in log lines, and JSON logs (WUCHUANG_LOG_FORMAT=json).

``RequestContextMiddleware`` (api/middleware.py) puts each request's id in ``REQUEST_ID``; the
``RequestIdFilter`` on the handlers copies it into every record logged while that request runs (the
app's own lines, uvicorn's access line, a service's warning), and "-" outside any request (the
notification worker, start-up).
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

REQUEST_ID: ContextVar[str | None] = ContextVar("wuchuang_request_id", default=None)

# Attributes every LogRecord has; anything else on a record was passed by ``extra=`` and is kept.
# (uvicorn adds a colour-coded copy of its message.)
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",
}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, the
    exception's traceback when there is one, and whatever ``extra=`` carried."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            # A log line's own time is the wall clock's (events.clock is the domain's "now").
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) if getattr(record, "request_id", "-") != "-" else None,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        return json.dumps(line, ensure_ascii=False)


def log_config(fmt: Literal["text", "json"], level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server (uvicorn takes it as ``log_config``): the root,
    uvicorn's and the access logger all through one stderr handler with the request-id filter."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "main",
        "filters": ["request_id"],
    }
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "root": {"handlers": ["main"], "level": upper},
        "loggers": {
            "uvicorn": {"handlers": ["main"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": ["main"], "level": upper, "propagate": False},
        },
    }

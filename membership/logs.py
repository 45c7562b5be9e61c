"""Log lines as text (the default) or, with LOG_FORMAT=json, one JSON object per line.

The JSON carries time, level, logger and message, the exception when there is one, and within
a request its id (X-Request-Id from the proxy, or one made here), method and path. Gunicorn's
access lines (gunicorn.conf.py routes them here in JSON mode) add the status and duration.
Only the standard library at import: gunicorn's master loads this before any worker exists.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
REQUEST_ID_HEADER = "X-Request-Id"


def request_id() -> str:
    """This request's id: the proxy's X-Request-Id when it sent a sane one, else a new one."""
    from flask import g, request

    found = g.get("request_id")
    if found is None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        found = given if 0 < len(given) <= 200 and given.isprintable() else uuid.uuid4().hex
        g.request_id = found
    return found


def _request_fields() -> dict[str, Any]:
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - Flask is a dependency
        return {}
    if not has_request_context():
        return {}
    return {"request_id": request_id(), "method": request.method, "path": request.path}


def _access_fields(atoms: dict[str, Any]) -> dict[str, Any]:
    """Gunicorn's access atoms (glogging.Logger.atoms) as named fields."""
    fields = {
        "request_id": atoms.get("{x-request-id}i"),
        "method": atoms.get("m"),
        "path": atoms.get("U"),
        "query": atoms.get("q") or None,
        "status": int(atoms["s"]) if str(atoms.get("s", "")).isdigit() else atoms.get("s"),
        "bytes": atoms.get("B"),
        "duration_ms": round(atoms["D"] / 1000, 3) if isinstance(atoms.get("D"), int) else None,
        "remote": atoms.get("h"),
        "user_agent": atoms.get("a"),
    }
    return {key: value for key, value in fields.items() if value not in (None, "-", "")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; see the module docstring for the fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            line["message"] = "request"
            line.update(_access_fields(record.args))
        else:
            line["message"] = record.getMessage()
            line.update(_request_fields())
        status = getattr(record, "status", None)
        if status is not None:
            line["status"] = status
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(log_format: str) -> None:
    """Send the app's log records to stderr in ``log_format``, unless someone (gunicorn's
    logconfig_dict, a test) already gave the root logger a handler."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def gunicorn_logconfig(loglevel: str, access_log: bool) -> dict[str, Any]:
    """gunicorn's logconfig_dict for JSON lines: its error log and the app's records on
    stderr, the access log (when wanted) on stdout."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "membership.logs.JsonFormatter"}},
        "handlers": {
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            },
        },
        "root": {"level": "INFO", "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {
                "level": loglevel.upper(),
                "handlers": ["error_console"],
                "propagate": False,
                "qualname": "gunicorn.error",
            },
            "gunicorn.access": {
                # No access log: above any level gunicorn logs it at.
                "level": "INFO" if access_log else "CRITICAL",
                "handlers": ["console"] if access_log else [],
                "propagate": False,
                "qualname": "gunicorn.access",
            },
        },
    }

"""LOG_FORMAT=json: one JSON object per line, from the app's loggers and from gunicorn's."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from membership import create_app, logs
from tests.conftest import SECRET
from tests.servers import Gunicorn, get, post


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What the app's loggers write, as JSON lines."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


def parsed(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_request_logs_one_json_line_with_its_id_method_and_path(app, lines):
    response = app.test_client().post(
        "/webhooks/stripe?x=1",
        data=b"{}",
        headers={"Content-Type": "application/json", "X-Request-Id": "req-abc-123"},
    )
    assert response.status_code == 400
    (line,) = [
        entry for entry in parsed(lines.getvalue()) if entry["logger"].startswith("membership")
    ]
    assert line["level"] == "WARNING"
    assert line["logger"] == "membership.web.webhooks"
    assert line["message"].startswith("webhook refused status=400")
    assert (line["request_id"], line["method"], line["path"]) == (
        "req-abc-123",
        "POST",
        "/webhooks/stripe",
    )
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert "exception" not in line


def test_without_a_request_id_from_the_proxy_each_request_gets_its_own(app, lines):
    client = app.test_client()
    for _ in range(2):
        client.post("/webhooks/stripe", data=b"{}", headers={"Content-Type": "application/json"})
    ids = [entry["request_id"] for entry in parsed(lines.getvalue()) if "request_id" in entry]
    assert len(ids) == 2 and len(set(ids)) == 2 and all(len(i) == 32 for i in ids)


def test_an_exception_is_kept_in_its_line_and_lines_outside_requests_have_no_request_fields(
    lines,
):
    log = logging.getLogger("membership.test")
    try:
        raise ValueError("a broken figure\nover two lines")
    except ValueError:
        log.exception("counting failed for campaign=%s", "drive")
    (line,) = parsed(lines.getvalue())
    assert line["message"] == "counting failed for campaign=drive"
    assert line["level"] == "ERROR"
    assert "ValueError: a broken figure" in line["exception"]
    assert "Traceback" in line["exception"]
    assert not {"request_id", "method", "path"} & set(line)


def test_the_default_stays_text(db_url):
    app = create_app({"DATABASE_URL": db_url, "TESTING": True})
    assert app.extensions["metrics_settings"].log_format == "text"
    assert not isinstance(logs.formatter("text"), logs.JsonFormatter)
    app.extensions["database.engine"].dispose()


@pytest.mark.slow
def test_under_gunicorn_every_line_is_json_and_the_access_line_carries_the_status(db_url, tmp_path):
    log_path = tmp_path / "gunicorn.log"
    env = {
        "DATABASE_URL": db_url,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "LOG_FORMAT": "json",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESSLOG": "-",
        "GUNICORN_LOGLEVEL": "info",
    }
    with Gunicorn(env, log_path=log_path) as server:
        status, _ = post(
            server.url + "/webhooks/stripe",
            b"{}",
            {"Content-Type": "application/json", "X-Request-Id": "req-gunicorn-1"},
        )
        assert status == 400
        assert get(server.url + "/api/campaigns/nope", {"X-Request-Id": "req-gunicorn-2"})[0] == 404
    entries = parsed(log_path.read_text())  # every line: json.loads raises on any other
    assert any(
        e["logger"] == "gunicorn.error" and "Booting worker" in e["message"] for e in entries
    )
    (refused,) = [e for e in entries if e["logger"] == "membership.web.webhooks"]
    assert refused["request_id"] == "req-gunicorn-1"
    access = {e.get("request_id"): e for e in entries if e["logger"] == "gunicorn.access"}
    assert access["req-gunicorn-1"]["status"] == 400
    assert (access["req-gunicorn-1"]["method"], access["req-gunicorn-1"]["path"]) == (
        "POST",
        "/webhooks/stripe",
    )
    assert access["req-gunicorn-2"]["status"] == 404
    assert access["req-gunicorn-2"]["duration_ms"] >= 0

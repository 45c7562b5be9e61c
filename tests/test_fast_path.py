"""The WSGI fast path for GET/HEAD /api/campaigns/<slug> answers exactly as Flask does.

Every case sends the same request to the app with the fast path switched off (Flask alone) and
on, and compares status, every header (Date by presence: it is the clock's) and body.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.http import parse_date
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import EnvironBuilder, run_wsgi_app

from membership import create_app
from membership.web import progress_cache
from membership.web.fast_path import FastProgress
from tests import stripe_factory as sf
from tests.conftest import SECRET
from tests.test_public_outage import break_database

Answer = tuple[str, list[tuple[str, str]], bytes]


class Clock:
    """progress_cache's monotonic clock, moved by the test instead of by time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(progress_cache, "clock", clock)
    return clock


def make_app(db_url: str, **config: Any) -> Any:
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "STRIPE_WEBHOOK_SECRETS": (SECRET,),
            "PROGRESS_CACHE_SECONDS": 30,
            "TESTING": True,
            **config,
        }
    )
    from membership.campaigns.settings import create_campaign
    from membership.database import db

    with app.app_context():
        create_campaign(db.session, "drive", 100, title="Drive")
    body, headers = sf.signed(
        sf.checkout_event("cs_1", int(time.time()) - 60, customer="cus_1", subscription="sub_1"),
        SECRET,
    )
    host = (config.get("TRUSTED_HOSTS") or ["localhost"])[0]
    response = app.test_client().post(
        "/webhooks/stripe", data=body, headers=headers, base_url=f"http://{host}"
    )
    assert response.status_code == 200
    return app


@pytest.fixture
def app(db_url: str, clock: Clock) -> Iterator[Any]:
    app = make_app(db_url)
    yield app
    app.extensions["database.engine"].dispose()


def fast_path_of(app: Any) -> FastProgress:
    wsgi = app.wsgi_app
    if isinstance(wsgi, ProxyFix):
        wsgi = wsgi.app
    assert isinstance(wsgi, FastProgress)
    return wsgi


def call(app: Any, request: dict[str, Any]) -> Answer:
    environ = EnvironBuilder(**request).get_environ()
    app_iter, status, headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    return status, headers.to_wsgi_list(), b"".join(app_iter)


def flask_alone(app: Any, request: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Answer:
    with monkeypatch.context() as patch:
        patch.setattr(fast_path_of(app), "slug", lambda environ: None)
        return call(app, request)


def through_fast_path(app: Any, request: dict[str, Any]) -> tuple[Answer, int]:
    """The answer with the fast path on, and how many times it asked Flask for it."""
    fast = fast_path_of(app)
    flask = fast.wsgi_app
    asked = []

    def counted(environ: dict[str, Any], start_response: Any) -> Any:
        asked.append(environ["PATH_INFO"])
        return flask(environ, start_response)

    fast.wsgi_app = counted
    try:
        call(app, request)  # the first of its kind may go to Flask, which is then copied
        asked.clear()
        return call(app, request), len(asked)
    finally:
        fast.wsgi_app = flask


def assert_same(flask: Answer, fast: Answer) -> None:
    def without_date(answer: Answer) -> tuple[str, list[tuple[str, str]], bytes]:
        status, headers, body = answer
        for name, value in headers:
            if name == "Date":
                assert parse_date(value) is not None
        return status, [(n, "<date>" if n == "Date" else v) for n, v in headers], body

    assert without_date(fast) == without_date(flask)


def etag_of(app: Any) -> str:
    return app.test_client().get("/api/campaigns/drive").headers["ETag"]


ORIGIN = {"Origin": "https://news.example"}


def cacheable_requests(etag: str) -> list[dict[str, Any]]:
    requests = []
    for method in ("GET", "HEAD"):
        for base_url in ("http://localhost", "https://localhost", "http://127.0.0.1:8000"):
            for headers in (
                {},
                ORIGIN,
                {"Origin": ""},
                {"Origin": "null"},
                {"If-None-Match": etag},
                {"If-None-Match": etag, **ORIGIN},
                {"If-None-Match": '"not-the-etag"'},
                {"If-None-Match": f"W/{etag}"},
                {"If-None-Match": f'"other", {etag}'},
                {"If-None-Match": "*"},
            ):
                requests.append({"method": method, "base_url": base_url, "headers": headers})
    requests.append({"path": "/api/campaigns/drive", "query_string": "a=1&callback=x"})
    return [{"path": "/api/campaigns/drive", **request} for request in requests]


FLASK_ONLY = [
    {"path": "/api/campaigns/nope"},
    {"path": "/api/campaigns/Drive"},
    {"path": "/api/campaigns/drive/"},
    {"path": "/api/campaigns/drive%2F.."},
    {"path": "/api/campaigns/drive", "base_url": "http://evil.example"},
    {"path": "/api/campaigns/drive", "headers": {"Host": "evil.example"}},
    {"path": "/api/campaigns/drive", "headers": {"Range": "bytes=0-10"}},
    {"path": "/api/campaigns/drive", "headers": {"If-Match": '"nope"'}},
    {
        "path": "/api/campaigns/drive",
        "headers": {"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"},
    },
    {"path": "/api/campaigns/drive", "headers": {**ORIGIN, "Access-Control-Request-Method": "GET"}},
    {
        "path": "/api/campaigns/drive",
        "headers": {**ORIGIN, "Access-Control-Request-Private-Network": "true"},
    },
    {"path": "/api/campaigns/drive", "method": "POST"},
    {
        "path": "/api/campaigns/drive",
        "method": "OPTIONS",
        "headers": {**ORIGIN, "Access-Control-Request-Method": "GET"},
    },
    {"path": "/api/openapi.json"},
    {"path": "/healthz"},
]


def test_every_cacheable_read_is_answered_by_the_fast_path_exactly_as_flask_answers_it(
    app, monkeypatch
):
    for request in cacheable_requests(etag_of(app)):
        flask = flask_alone(app, request, monkeypatch)
        fast, asked_flask = through_fast_path(app, request)
        assert asked_flask == 0, request
        assert_same(flask, fast)
    statuses = {flask_alone(app, r, monkeypatch)[0] for r in cacheable_requests(etag_of(app))}
    assert statuses == {"200 OK", "304 NOT MODIFIED"}


def test_the_answers_carry_the_headers_the_public_read_promises(app):
    fast = fast_path_of(app)
    etag = etag_of(app)
    request = {"path": "/api/campaigns/drive", "base_url": "https://localhost", "headers": ORIGIN}
    call(app, request)
    assert fast.answers, "the fast path kept Flask's answer"
    status, headers, body = call(app, request)
    named = dict(headers)
    assert status == "200 OK" and body.startswith(b'{"slug":"drive"')
    assert named["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in named
    assert named["ETag"] == etag
    assert named["Cache-Control"].startswith("public, max-age=")
    assert named["X-Content-Type-Options"] == "nosniff"
    assert named["Strict-Transport-Security"].startswith("max-age=")
    assert named["Content-Length"] == str(len(body))
    status, headers, body = call(app, {**request, "headers": {"If-None-Match": etag}})
    assert (status, body) == ("304 NOT MODIFIED", b"")


def test_requests_it_must_not_answer_go_to_flask_unchanged(app, monkeypatch):
    etag_of(app)
    for request in FLASK_ONLY:
        flask = flask_alone(app, request, monkeypatch)
        fast, asked_flask = through_fast_path(app, request)
        assert asked_flask == 1, request
        assert_same(flask, fast)
    assert flask_alone(app, FLASK_ONLY[0], monkeypatch)[0] == "404 NOT FOUND"
    assert flask_alone(app, FLASK_ONLY[4], monkeypatch)[0] == "400 BAD REQUEST"


def test_new_figures_are_asked_of_flask_once_then_copied(app, monkeypatch, clock):
    request = {"path": "/api/campaigns/drive"}
    before, _ = through_fast_path(app, request)
    body, headers = sf.signed(
        sf.checkout_event("cs_2", int(time.time()) - 30, customer="cus_2", subscription="sub_2"),
        SECRET,
    )
    assert app.test_client().post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    # Within the cache period the worker keeps its figures, fast path or not.
    assert call(app, request)[2] == before[2]
    clock.now += 31
    after = call(app, request)  # past the period: Flask recounts
    assert b'"count":2' in after[2] and after[1] != before[1]
    copied, asked_flask = through_fast_path(app, request)
    assert asked_flask == 0
    assert_same(flask_alone(app, request, monkeypatch), copied)


def test_during_an_outage_the_stale_figures_are_copied_as_flask_serves_them(
    app, monkeypatch, clock
):
    etag = etag_of(app)
    break_database(app)
    clock.now += 31
    stale = call(app, {"path": "/api/campaigns/drive"})  # Flask finds the database down
    assert b'"stale":true' in stale[2]
    assert ("Cache-Control", "public, max-age=5") in stale[1]
    for request in (
        {"path": "/api/campaigns/drive"},
        {"path": "/api/campaigns/drive", "method": "HEAD", "headers": ORIGIN},
        {"path": "/api/campaigns/drive", "headers": {"If-None-Match": etag}},
    ):
        fast, asked_flask = through_fast_path(app, request)
        assert asked_flask == 0, request
        assert_same(flask_alone(app, request, monkeypatch), fast)


def test_behind_a_proxy_it_sees_the_scheme_the_proxy_reports(db_url, clock, monkeypatch):
    app = make_app(db_url, PROXY_HOPS=1)
    try:
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
        for headers in (forwarded, {}):
            request = {"path": "/api/campaigns/drive", "headers": headers}
            fast, asked_flask = through_fast_path(app, request)
            assert asked_flask == 0
            flask = flask_alone(app, request, monkeypatch)
            assert_same(flask, fast)
            assert ("Strict-Transport-Security" in dict(fast[1])) == bool(headers)
    finally:
        app.extensions["database.engine"].dispose()


def test_trusted_hosts_are_checked_as_flask_checks_them(db_url, clock, monkeypatch):
    app = make_app(db_url, TRUSTED_HOSTS=["members.example.org"])
    try:
        good = {"path": "/api/campaigns/drive", "base_url": "https://members.example.org"}
        bad = {"path": "/api/campaigns/drive", "base_url": "https://localhost"}
        fast, asked_flask = through_fast_path(app, good)
        assert (fast[0], asked_flask) == ("200 OK", 0)
        fast, asked_flask = through_fast_path(app, bad)
        assert (fast[0], asked_flask) == ("400 BAD REQUEST", 1)
        assert_same(flask_alone(app, bad, monkeypatch), fast)
    finally:
        app.extensions["database.engine"].dispose()


def test_with_no_cache_period_every_read_goes_to_flask(db_url, clock):
    app = make_app(db_url, PROGRESS_CACHE_SECONDS=0)
    try:
        _, asked_flask = through_fast_path(app, {"path": "/api/campaigns/drive"})
        assert asked_flask == 1
    finally:
        app.extensions["database.engine"].dispose()

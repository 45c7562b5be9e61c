"""GET and HEAD /api/campaigns/<slug> answered in plain WSGI from the progress cache, before Flask.

The public read is the service's hottest request, and its body and ETag are already kept per
worker (progress_cache.py); what it cost beyond that was Flask's per-request machinery: the
request context, routing, the hooks, a response object. This middleware skips all of it when
it can, and Flask stays the only author of every answer:

- the first request of each kind (campaign, method, scheme, with or without Origin, 200 or
  304) goes through Flask, and its status and headers are kept with the ETag of the figures it
  carried; later requests of that kind for the same figures get a copy, with a fresh Date
  (make_conditional's). New figures mean a new ETag, so the next request asks Flask again.
- anything else goes to Flask untouched: other paths and methods (OPTIONS preflights too), a
  slug that cannot exist, an untrusted Host (Flask's 400), ranges and conditional headers other
  than If-None-Match, figures the cache would have to check against the database, unknown
  campaigns (404) and an outage without figures (503).

A header that varied per request would be copied as it was the first time; tests/
test_fast_path.py compares both paths header by header so such a change cannot pass unseen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.exceptions import SecurityError
from werkzeug.http import http_date, parse_etags
from werkzeug.wsgi import get_host

from .. import metrics
from ..campaigns.settings import SLUG
from . import progress_cache

PREFIX = "/api/campaigns/"
# Headers that make Werkzeug answer something other than a plain 200 or 304 (206, 412, 416),
# that compare against a date the figures do not carry, or that flask-cors answers with more
# headers (preflight and private-network requests): those requests go to Flask.
UNUSUAL = frozenset(
    (
        "HTTP_RANGE",
        "HTTP_IF_RANGE",
        "HTTP_IF_MATCH",
        "HTTP_IF_MODIFIED_SINCE",
        "HTTP_IF_UNMODIFIED_SINCE",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS",
        "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK",
    )
)
# Werkzeug's host check (IDNA and all) is the costliest step; its answers are kept per Host.
HOSTS_KEPT = 256

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Kind = tuple[str, str, str, bool, bool]  # slug, method, scheme, has Origin, not modified


@dataclass(frozen=True)
class Answer:
    """Flask's answer to one kind of request for one version of the figures."""

    etag: str
    status: str
    headers: list[tuple[str, str]]
    date_at: int | None  # where Date goes in headers, if Flask sent one
    body: bytes


def kind_of(environ: dict[str, Any], slug: str, etag: str) -> Kind:
    """Everything of a read that Flask's answer to it depends on, given the figures' ETag."""
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    not_modified = bool(if_none_match) and parse_etags(if_none_match).contains_weak(etag)
    return (
        slug,
        environ["REQUEST_METHOD"],
        environ["wsgi.url_scheme"],
        bool(environ.get("HTTP_ORIGIN")),  # flask-cors treats an empty Origin as none
        not_modified,
    )


class FastProgress:
    """WSGI middleware: ``app.wsgi_app = FastProgress(app, app.wsgi_app)``."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.answers: dict[Kind, Answer] = {}
        self._hosts: dict[tuple[Any, ...], bool] = {}
        self._date: tuple[int, str] = (0, "")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        slug = self.slug(environ)
        if slug is None:
            return self.wsgi_app(environ, start_response)
        entry = progress_cache.cache_of(self.app).peek(slug)
        answer = None if entry is None else self.answers.get(kind_of(environ, slug, entry.etag))
        if answer is None or answer.etag != entry.etag:  # type: ignore[union-attr]
            return self._ask_flask(slug, environ, start_response)
        metrics.progress_cache_hit()
        start_response(answer.status, self._headers(answer))
        return [answer.body]

    def slug(self, environ: dict[str, Any]) -> str | None:
        """The campaign of a read the fast path may answer, or None when only Flask may."""
        method = environ["REQUEST_METHOD"]
        path: str = environ.get("PATH_INFO", "")
        if (method != "GET" and method != "HEAD") or not path.startswith(PREFIX):
            return None
        slug = path[len(PREFIX) :]
        if not SLUG.fullmatch(slug) or not UNUSUAL.isdisjoint(environ):
            return None
        config = self.app.config
        if config["SERVER_NAME"] or self.app.url_map.host_matching:
            return None  # routing by host: leave it all to Flask
        trusted = config["TRUSTED_HOSTS"]
        if trusted is not None and not self._trusted(environ, trusted):
            return None  # Flask answers 400
        return slug

    def _trusted(self, environ: dict[str, Any], trusted: list[str]) -> bool:
        """Whether Flask would accept this request's host (werkzeug's get_host, remembered)."""
        key = (
            environ.get("HTTP_HOST"),
            environ.get("SERVER_NAME"),
            environ.get("SERVER_PORT"),
            environ["wsgi.url_scheme"],
            tuple(trusted),
        )
        found = self._hosts.get(key)
        if found is None:
            try:
                get_host(environ, trusted)
                found = True
            except SecurityError:
                found = False
            if len(self._hosts) >= HOSTS_KEPT:
                self._hosts.clear()  # made-up Host headers must not grow it without end
            self._hosts[key] = found
        return found

    def _ask_flask(
        self, slug: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        seen: dict[str, Any] = {}

        def remember(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.update(status=status, headers=list(headers))
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, remember)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        self._keep(slug, environ, seen.get("status", ""), seen.get("headers", []), body)
        return [body]

    def _keep(
        self,
        slug: str,
        environ: dict[str, Any],
        status: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        """Keep Flask's answer if it is the plain one for the figures the cache holds now."""
        entry = progress_cache.cache_of(self.app).peek(slug)
        if entry is None:
            return
        kind = kind_of(environ, slug, entry.etag)
        expected = "304" if kind[4] else "200"
        etags = [value for name, value in headers if name.lower() == "etag"]
        if not status.startswith(expected + " ") or etags != [f'"{entry.etag}"']:
            return  # another answer (an error, figures changed meanwhile): not for copying
        dates = [i for i, (name, _) in enumerate(headers) if name.lower() == "date"]
        self.answers[kind] = Answer(
            etag=entry.etag,
            status=status,
            headers=headers,
            date_at=dates[0] if len(dates) == 1 else None,
            body=body,
        )

    def _headers(self, answer: Answer) -> list[tuple[str, str]]:
        headers = list(answer.headers)
        if answer.date_at is not None:
            headers[answer.date_at] = (headers[answer.date_at][0], self._now())
        return headers

    def _now(self) -> str:
        # One formatted Date per second, as make_conditional would write it.
        second = int(time.time())
        cached = self._date
        if cached[0] != second:
            cached = (second, http_date(second))
            self._date = cached
        return cached[1]

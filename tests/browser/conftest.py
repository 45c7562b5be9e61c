"""Browser fixtures: the real app on a real socket, a publisher's page on another origin, Chromium.

- `api`: the app (tests/conftest.py's `app`, fresh database) served by werkzeug on
  http://127.0.0.1:<port>. A thin WSGI wrapper can delay or fail the progress API and counts its
  requests, so tests can ask for "the API answers 503" or "the API takes 500 ms" without mocks
  in the browser.
- `host`: a publisher's site on http://localhost:<other port>, a different origin (and site) from
  the API, sending the strict CSP `script-src <api origin>; style-src 'self'` unless told otherwise.
- `page`: a fresh Chromium context per test, instrumented before any page script runs (an init
  script is not subject to the page's CSP) to record CSP violations, layout shifts and the
  widget's DOM events.

Debian's `chromium` package provides the browser (`playwright install` cannot download here). Where
CI is set, a missing browser fails these tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Runs in every page before its own scripts: what the assertions read back.
INSTRUMENT = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
window.__shifts = [];
new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__shifts.push(e.value)))
  .observe({ type: 'layout-shift', buffered: true });
window.__events = [];
for (const name of ['shown', 'cta-click']) {
  document.addEventListener('membership-progress:' + name, (e) => {
    window.__events.push({ type: e.type, detail: e.detail });
    if (window.__preventCta && name === 'cta-click') e.preventDefault();
  });
}
"""


def chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if os.path.exists(configured) else None
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
    executable = chromium_path()
    if executable is None:
        _unavailable("no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class ApiControls:
    """Faults and counts for /api/campaigns/<slug> (the JSON only, not the badge)."""

    delay: float = 0.0
    status: int | None = None  # answer this status instead of the app's
    hits: Counter[str] = field(default_factory=Counter)


class _Faulty:
    def __init__(self, app: Flask, controls: ApiControls) -> None:
        self.app = app
        self.controls = controls

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/api/campaigns/") and not path.endswith(".svg"):
            self.controls.hits[path] += 1
            if self.controls.delay:
                time.sleep(self.controls.delay)
            if self.controls.status:
                start_response(
                    f"{self.controls.status} Unavailable",
                    [("Content-Type", "text/plain"), ("Access-Control-Allow-Origin", "*")],
                )
                return [b"unavailable\n"]
        return self.app(environ, start_response)


def _serve(wsgi: Callable[..., Any]) -> tuple[BaseWSGIServer, threading.Thread]:
    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    # A short poll interval keeps shutdown (each test's teardown) quick.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread


@dataclass
class Api:
    origin: str
    controls: ApiControls
    app: Flask


@pytest.fixture
def api(app: Flask) -> Iterator[Api]:
    # Until create_app registers the embed blueprint itself.
    if "embed" not in app.blueprints:
        from membership.web import embed

        app.register_blueprint(embed.bp)
    controls = ApiControls()
    server, thread = _serve(_Faulty(app, controls))
    yield Api(f"http://127.0.0.1:{server.server_port}", controls, app)
    server.shutdown()
    thread.join(timeout=5)


ARTICLE_CSS = """
body { font: 18px/1.6 Georgia, serif; max-width: 40rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 2rem; line-height: 1.2; }
footer { border-top: 1px solid #ccc; padding: 1rem 0 4rem; }
"""


@dataclass
class Host:
    origin: str
    pages: dict[str, tuple[str, dict[str, str]]]
    csp: str

    def page(self, path: str, body: str, *, lang: str = "en", csp: str | None = None) -> str:
        """Publish an HTML page at `path`; returns its URL."""
        html = (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>Article</title><link rel="stylesheet" href="/article.css"></head>'
            f"<body>{body}</body></html>"
        )
        self.pages[path] = (html, {"Content-Security-Policy": csp if csp is not None else self.csp})
        return self.origin + path


@pytest.fixture
def host(api: Api) -> Iterator[Host]:
    pages: dict[str, tuple[str, dict[str, str]]] = {
        "/article.css": (ARTICLE_CSS, {"Content-Type": "text/css"}),
    }

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        found = pages.get(environ.get("PATH_INFO", ""))
        if found is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        body, headers = found
        headers = {"Content-Type": "text/html; charset=utf-8", **headers}
        start_response("200 OK", list(headers.items()))
        return [body.encode()]

    server, thread = _serve(wsgi)
    # "localhost" vs the API's "127.0.0.1": another origin and another site, like a publisher.
    yield Host(
        origin=f"http://localhost:{server.server_port}",
        pages=pages,
        csp=f"script-src {api.origin}; style-src 'self'",
    )
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def context_options() -> dict[str, Any]:
    return {"viewport": {"width": 800, "height": 700}}


@pytest.fixture
def page(browser: Any, context_options: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(**context_options)
    context.set_default_timeout(10_000)
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda m: m.type == "error" and page.console_errors.append(m.text),  # type: ignore[attr-defined]
    )
    # An exception thrown by the widget (in a callback, a promise) fails the test that caused it.
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    yield page
    context.close()
    assert page_errors == [], f"uncaught errors in the page: {page_errors}"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

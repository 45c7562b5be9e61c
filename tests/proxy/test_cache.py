"""The public GETs through nginx's shared cache: CORS, ETags and 304s survive it, a new count shows
within max-age plus the service's cache time, the last copy is served while every host is down,
and what must reach an app host (webhooks, admin, health, metrics) is never kept.
"""

from __future__ import annotations

import gzip
import json
import time

import pytest

from tests import stripe_factory as sf
from tests.conftest import SECRET
from tests.proxy.conftest import MAX_AGE, METRICS_TOKEN, WORKER_CACHE
from tests.proxy.stack import fetch

pytestmark = pytest.mark.slow
# Slack over max-age plus the worker cache for a slow machine; a deadline, not an expectation.
SLACK = 15
PUBLIC_PREFIXES = ("/api/", "/embed/", "/share/", "/widget.")


def deliver(url: str, n: int) -> dict:
    event = sf.checkout_event(
        f"cs_{n}", int(time.time()), customer=f"cus_{n}", subscription=f"sub_{n}"
    )
    body, headers = sf.signed(event, SECRET)
    answer = fetch(url + "/webhooks/stripe", method="POST", body=body, headers=headers)
    assert answer.status == 200, answer.body
    return json.loads(answer.body)


def count(answer) -> int:
    assert answer.status == 200, answer.body
    return json.loads(answer.body)["count"]


def test_cors_and_the_etag_survive_the_proxy_and_a_304_comes_from_the_cache(stack, slug):
    progress = f"/api/campaigns/{slug}"
    origin = {"Origin": "https://news.example"}
    first = fetch(stack.url + progress, headers=origin)
    second = fetch(stack.url + progress, headers=origin)
    assert (first.header("X-Cache-Status"), second.header("X-Cache-Status")) == ("MISS", "HIT")
    for answer in (first, second):
        assert answer.status == 200
        assert answer.header("Access-Control-Allow-Origin") == "*"
        assert "Origin" not in (answer.header("Vary") or "")
        assert answer.header("Cache-Control") == (
            f"public, max-age={MAX_AGE}, stale-while-revalidate=60, stale-if-error=86400"
        )
    assert second.body == first.body
    etag = first.header("ETag")
    assert etag and etag.startswith('"')
    again = fetch(stack.url + progress, headers={**origin, "If-None-Match": etag})
    assert (again.status, again.body, again.header("ETag")) == (304, b"", etag)
    assert again.header("X-Cache-Status") in ("HIT", "STALE", "UPDATING", "REVALIDATED")
    # Compressed, the ETag is weakened as HTTP requires, and still answers a 304.
    packed = fetch(stack.url + progress, headers={"Accept-Encoding": "gzip"})
    if packed.header("Content-Encoding") == "gzip":
        assert gzip.decompress(packed.body) == first.body
        assert packed.header("ETag") == "W/" + etag
        assert "Accept-Encoding" in packed.header("Vary")
    weak = fetch(
        stack.url + progress,
        headers={"Accept-Encoding": "gzip", "If-None-Match": packed.header("ETag")},
    )
    assert weak.status == 304


def test_a_new_sign_up_shows_through_the_proxy_within_max_age_plus_the_worker_cache(stack, slug):
    progress = f"/api/campaigns/{slug}"
    before = count(fetch(stack.url + progress))
    assert fetch(stack.url + progress).header("X-Cache-Status") == "HIT"
    assert deliver(stack.url, slug)["outcome"] == "applied"
    deadline = time.monotonic() + MAX_AGE + WORKER_CACHE + SLACK
    seen = []
    while time.monotonic() < deadline and (not seen or seen[-1] != before + 1):
        seen.append(count(fetch(stack.url + progress)))
        time.sleep(0.1)
    assert seen[-1] == before + 1, seen
    assert set(seen) <= {before, before + 1}


def test_webhooks_admin_health_and_metrics_always_reach_an_app_host(stack, slug):
    progress = f"/api/campaigns/{slug}"
    event = sf.checkout_event(
        f"cs_{slug}", int(time.time()), customer=f"cus_{slug}", subscription=f"sub_{slug}"
    )
    body, headers = sf.signed(event, SECRET)
    outcomes = []
    for _ in range(3):
        answer = fetch(stack.url + "/webhooks/stripe", method="POST", body=body, headers=headers)
        assert answer.header("X-Cache-Status") is None
        outcomes.append(json.loads(answer.body)["outcome"])
    assert outcomes == ["applied", "duplicate", "duplicate"]

    tokens = set()
    for _ in range(3):
        page = fetch(stack.url + "/admin/login")
        assert page.status == 200
        assert page.header("X-Cache-Status") is None
        assert page.header("Cache-Control") == "no-store"
        assert page.header("Set-Cookie")  # a fresh session each time: the app answered
        tokens.add(page.header("Set-Cookie"))
    assert len(tokens) == 3
    for path in ("/healthz", "/readyz", "/metrics", "/admin/", "/admin"):
        for _ in range(2):
            answer = fetch(stack.url + path)
            assert answer.header("X-Cache-Status") is None, path
    scrapes = []
    for _ in range(2):
        scrape = fetch(stack.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert scrape.status == 200 and scrape.header("X-Cache-Status") is None
        scrapes.append(scrape.body)
    assert b"membership_campaign_count" in scrapes[0]
    assert fetch(stack.url + "/metrics").status == 401  # the token is asked for each time
    assert fetch(stack.url + progress).status == 200

    keys = stack.nginx.cached_keys()
    assert any(key.endswith(progress) for key in keys), keys
    for key in keys:
        path = key[key.index("/") :]  # the key is scheme, host and URI run together
        assert path.startswith(PUBLIC_PREFIXES), key


def test_bodies_are_capped_at_the_proxy_as_the_app_caps_them(stack):
    big = b"x" * (1024 * 1024 + 1)
    refused = fetch(
        stack.url + "/webhooks/stripe",
        method="POST",
        body=big,
        headers={"Content-Type": "application/json"},
    )
    assert refused.status == 413
    assert b"nginx" in refused.body  # refused at the proxy, before any app host read it
    # The admin's CSV import takes more (IMPORT_MAX_BYTES): the app decides, not nginx.
    upload = fetch(
        stack.url + "/admin/imports",
        method="POST",
        body=big * 2,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert upload.status != 413
    assert b"nginx" not in upload.body

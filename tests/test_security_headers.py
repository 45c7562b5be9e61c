"""Security headers on every response; surfaces with their own policy keep it."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "path", ["/healthz", "/readyz", "/api/campaigns/drive", "/api/campaigns/nope", "/widget.js"]
)
def test_every_response_says_nosniff_and_a_referrer_policy(client, campaign, path):
    campaign()
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Content-Security-Policy" in response.headers


def test_the_api_may_load_nothing_and_be_framed_nowhere(client, campaign):
    campaign()
    csp = client.get("/api/campaigns/drive").headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp


def test_the_embed_page_keeps_its_own_policy_so_any_site_may_frame_it(client, campaign):
    campaign()
    csp = client.get("/embed/drive").headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp
    assert "frame-ancestors 'none'" not in csp


def test_hsts_only_over_https(client, campaign):
    campaign()
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    secure = client.get("/healthz", base_url="https://localhost")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/api/campaigns/drive",
        "/widget.js",
        "/embed/drive",
        "/api/campaigns/drive/badge.svg",
    ],
)
def test_public_surfaces_set_no_cookie_and_do_not_vary_by_one(client, campaign, path):
    campaign()
    client.set_cookie("session", "something-a-reader-carries")
    response = client.get(path, headers={"Origin": "https://news.example"})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")

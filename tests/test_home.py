"""GET /: the service's own page, with its campaigns' live bars and where to go next."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from membership import create_app
from membership.web import embed, home
from tests import stripe_factory as sf
from tests.conftest import SECRET
from tests.test_badge import stored_before_the_rule
from tests.test_public_outage import UNREACHABLE


def app_in(environment: str, db_url: str) -> Flask:
    return create_app(
        {
            "DATABASE_URL": db_url,
            "TESTING": True,
            "ENVIRON": {"MEMBERSHIP_ENV": environment, "SECRET_KEY": "s" * 32},
        }
    )


def test_the_service_address_answers_with_a_page_about_the_service(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = response.get_data(as_text=True)
    assert "<h1>Membership drive progress</h1>" in html
    assert "counts a newsroom's members from Stripe" in html
    assert '<a href="/api/openapi.json">' in html
    assert '<a href="/admin/">' in html
    # The documentation is not served: the page names where it is, and links nowhere for it.
    assert "<code>README.md</code>" in html and "<code>docs/</code>" in html
    assert 'href="/docs' not in html and "README.md</a>" not in html


def test_every_campaign_is_listed_with_the_real_widget_and_a_badge_without_javascript(
    client: FlaskClient, campaign: Any
) -> None:
    campaign("drive", title="Membership drive 2026")
    campaign("kampaniia", title="Членська кампанія", locale="uk")
    html = client.get("/").get_data(as_text=True)
    assert html.count('<script src="/widget.js" async></script>') == 1
    assert '<h3 lang="en">Membership drive 2026</h3>' in html
    assert '<h3 lang="uk">Членська кампанія</h3>' in html
    assert '<membership-progress campaign="drive" lang="en"><noscript>' in html
    assert '<membership-progress campaign="kampaniia" lang="uk"><noscript>' in html
    assert '<img src="/api/campaigns/drive/badge.svg" alt="Membership drive 2026: ' in html
    assert '<a href="/embed/drive">' in html and '<a href="/api/campaigns/drive">' in html
    assert html.index('campaign="drive"') < html.index('campaign="kampaniia"')


def test_without_campaigns_it_says_how_to_create_one(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "No campaigns yet" in html
    assert "<membership-progress" not in html


def test_it_sets_no_cookie_and_does_not_vary_by_cookie(client: FlaskClient, campaign: Any) -> None:
    campaign("drive")
    response = client.get("/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_an_admins_session_cookie_changes_nothing_on_the_page(
    client: FlaskClient, campaign: Any
) -> None:
    campaign("drive")
    plain = client.get("/")
    with_cookie = client.get("/", headers={"Cookie": "session=an-admins-session"})
    assert with_cookie.status_code == 200
    assert "Set-Cookie" not in with_cookie.headers
    assert with_cookie.headers["ETag"] == plain.headers["ETag"]


def test_it_is_cached_like_the_embed_page_and_answers_304(
    client: FlaskClient, campaign: Any
) -> None:
    campaign("drive")
    first = client.get("/")
    assert first.headers["Cache-Control"] == "public, max-age=60, stale-while-revalidate=60"
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)  # strong: no W/
    again = client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    # A new campaign is a new page.
    campaign("other")
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 200


def test_head_answers_like_get_without_a_body(client: FlaskClient) -> None:
    response = client.head("/")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["ETag"] == client.get("/").headers["ETag"]


def test_only_our_script_figures_badge_and_stylesheet_may_load(client: FlaskClient) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "img-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    css = re.search(r"<style>(.*?)</style>", response.get_data(as_text=True), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp


@pytest.mark.parametrize(
    ("environment", "linked"), [("development", True), ("test", False), ("production", False)]
)
def test_the_demo_article_is_linked_only_in_development(
    db_url: str, environment: str, linked: bool
) -> None:
    app = app_in(environment, db_url)
    response = app.test_client().get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert (f'<a href="{home.DEMO_ARTICLE_URL}">' in html) is linked
    assert ("localhost:8000" in html) is linked
    app.extensions["database.engine"].dispose()


def test_it_shows_no_member_nor_anything_else_that_is_not_a_campaign(
    client: FlaskClient, campaign: Any, deliver: Any
) -> None:
    campaign("drive")
    created = int(time.time()) - 60
    event = sf.checkout_event("cs_1", created, customer="cus_reader_1", subscription="sub_1")
    assert deliver(event).status_code == 200
    html = client.get("/").get_data(as_text=True)
    assert "cus_reader_1" not in html and "sub_1" not in html and "cs_1" not in html
    assert SECRET not in html
    assert 'campaign="no-such-drive"' not in html
    assert html.count("<membership-progress") == 1
    # The page is "/" only.
    assert client.get("/index.html").status_code == 404
    assert client.post("/").status_code == 405


def test_an_old_title_with_control_characters_is_shown_without_them(
    app: Flask, client: FlaskClient, campaign: Any
) -> None:
    campaign("drive")
    stored_before_the_rule(app, title="Membership\x0b drive\x1b")
    html = client.get("/").get_data(as_text=True)
    assert '<h3 lang="en">Membership drive</h3>' in html
    assert "\x0b" not in html and "\x1b" not in html


def test_without_its_database_it_answers_503_and_is_not_cached() -> None:
    app = create_app({"DATABASE_URL": UNREACHABLE, "TESTING": True})
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == (
        "The list of campaigns is unavailable for a moment; please retry.\n"
    )
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_badge_in_noscript_has_the_badges_own_size(client: FlaskClient, campaign: Any) -> None:
    campaign("drive")
    html = client.get("/").get_data(as_text=True)
    assert f'width="{embed.BADGE_WIDTH}" height="{embed.BADGE_HEIGHT}"' in html

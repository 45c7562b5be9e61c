"""Every /admin route: login required, CSRF on every POST, headers, no CORS, rate limit."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from werkzeug.utils import redirect

from membership.database import db
from membership.models import Adjustment, AdminUser, AuditEntry, Campaign, Event
from membership.web.admin import CONTENT_SECURITY_POLICY
from tests import stripe_factory as sf
from tests.conftest import PASSWORD, USERNAME, count_of, csrf_token, login

PUBLIC = {"admin.login", "admin.static"}
SAMPLE_VALUES = {
    "slug": "drive",
    "source": "stripe",
    "event_id": "evt_test_1",
    "filename": "admin.css",
}


def admin_routes(app):
    """(endpoint, url, methods) for every admin route, with sample values filled in."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("admin."):
                continue
            url = rule.rule
            for name in rule.arguments:
                url = url.replace(f"<{name}>", SAMPLE_VALUES[name])
                url = re.sub(rf"<[a-z]+:{name}>", SAMPLE_VALUES[name], url)
            routes.append((rule.endpoint, url, rule.methods - {"HEAD", "OPTIONS"}))
    return routes


def snapshot(app) -> dict[str, int]:
    with app.app_context():
        session = db.session
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Campaign, Adjustment, AdminUser, AuditEntry, Event)
        } | {"updated": str(session.scalar(select(func.max(Campaign.updated_at))))}


@pytest.fixture
def world(admin_app, campaign, user, deliver):
    campaign()
    event = sf.checkout_event(
        "cs_test_1", int(time.time()), customer="cus_1", subscription="sub_1", id="evt_test_1"
    )
    deliver(event)
    return admin_app


def test_there_are_admin_routes_to_walk(admin_app):
    endpoints = {endpoint for endpoint, _, _ in admin_routes(admin_app)}
    assert {"admin.index", "admin.events", "admin.add_adjustment", "admin.replay"} <= endpoints


def test_every_admin_page_redirects_a_logged_out_visitor_to_the_login(world, client):
    for endpoint, url, methods in admin_routes(world):
        if endpoint in PUBLIC or "GET" not in methods:
            continue
        response = client.get(url)
        if url.endswith(".json"):
            assert response.status_code == 401, url
            assert response.get_json() == {"error": "login required"}
            continue
        assert response.status_code == 302, url
        location = response.headers["Location"]
        assert location.startswith("/admin/login?next="), (url, location)
        # Nothing of the page itself: the body is exactly werkzeug's stub for this redirect.
        assert response.get_data() == redirect(location).get_data(), url


def test_a_logged_out_post_to_any_admin_route_changes_nothing(world, client):
    before = snapshot(world)
    token = csrf_token(client)  # even with a valid token for the anonymous session
    for endpoint, url, methods in admin_routes(world):
        if endpoint in PUBLIC or "POST" not in methods:
            continue
        data = {
            "csrf_token": token,
            "direction": "add",
            "members": "5",
            "reason": "sneaky",
            "goal": "1",
            "title": "Hacked",
            "slug": "hacked",
        }
        response = client.post(url, data=data)
        assert response.status_code in (302, 401), url
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/admin/login"), url
    assert snapshot(world) == before
    assert count_of(client) == 1


def test_every_admin_post_without_a_csrf_token_is_refused_with_400(world, admin):
    before = snapshot(world)
    for _endpoint, url, methods in admin_routes(world):
        if "POST" not in methods:
            continue
        response = admin.post(url, data={"direction": "add", "members": "5", "reason": "x"})
        assert response.status_code == 400, url
        assert b"security token" in response.data
    assert snapshot(world) == before
    # Still logged in: the refused logout did not log us out.
    assert admin.get("/admin/").status_code == 200


def test_a_post_with_a_forged_csrf_token_is_refused(world, admin):
    response = admin.post(
        "/admin/campaigns/drive/adjustments",
        data={"csrf_token": "forged", "direction": "add", "members": "5", "reason": "x"},
    )
    assert response.status_code == 400
    assert count_of(admin) == 1


def test_every_admin_page_sends_the_security_headers_and_no_cors(world, admin):
    for endpoint, url, methods in admin_routes(world):
        if "GET" not in methods or endpoint == "admin.event":
            continue
        response = admin.get(url, headers={"Origin": "https://evil.example"})
        response.get_data()
        assert response.status_code in (200, 302), url
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"
        assert not [k for k, _ in headers.items() if k.lower().startswith("access-control-")], url


def test_the_csp_forbids_framing_inline_scripts_and_other_origins():
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert directives["base-uri"] == "'none'"


class _Inline(HTMLParser):
    """Every inline script, style element, style attribute and event handler of a page, as
    parsed (an embed code shown as text, e.g. the email snippet's style, is not one)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        self.found += [
            f"{tag} {name}=" for name in names if name == "style" or name.startswith("on")
        ]


def test_admin_pages_have_no_inline_scripts_or_styles(world, admin):
    for url in ("/admin/", "/admin/campaigns/drive", "/admin/campaigns/drive/edit", "/admin/login"):
        page = _Inline()
        page.feed(admin.get(url).get_data(as_text=True))
        assert page.found == [], url


def test_the_login_page_answers_logged_out_with_the_same_headers(admin_app, client):
    response = client.get("/admin/login", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_admin_assets_are_served_without_a_login(admin_app, client):
    assert client.get("/admin/static/admin.css").status_code == 200
    script = client.get("/admin/static/admin.js")
    assert script.status_code == 200
    assert script.mimetype in ("text/javascript", "application/javascript")


def test_the_public_api_keeps_its_cors_and_the_webhook_needs_no_csrf_token(
    admin_app, client, campaign, deliver
):
    campaign()
    delivered = deliver(
        sf.checkout_event("cs_test_9", int(time.time()), customer="cus_9", subscription="sub_9")
    )
    assert delivered.status_code == 200
    response = client.get("/api/campaigns/drive", headers={"Origin": "https://news.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_json()["count"] == 1


def test_the_login_rate_limit_trips_with_a_clear_message(admin_app, client, user):
    admin_app.config["ADMIN_LOGIN_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert login(client, password="wrong password!").status_code == 401
    response = login(client, password="wrong password!")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many login attempts" in page
    assert "try again" in page
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    # The right password is refused too until the window passes: the limit is per address.
    assert login(client).status_code == 429
    # Reading the login page is not limited.
    assert client.get("/admin/login").status_code == 200


def test_the_rate_limit_counts_per_client_address(admin_app, client, user):
    admin_app.config["ADMIN_LOGIN_RATE_LIMIT"] = "2 per minute"
    for _ in range(2):
        login(client, password="wrong password!")
    assert login(client, password="wrong password!").status_code == 429
    other = admin_app.test_client()
    token = csrf_token(other)
    response = other.post(
        "/admin/login",
        data={"username": USERNAME, "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 302

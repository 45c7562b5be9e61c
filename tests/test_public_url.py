"""PUBLIC_URL and TRUSTED_HOSTS: no address the service writes comes from a Host header."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from membership import create_app
from membership.accounts import users
from membership.database import db
from tests.conftest import PASSWORD, TOKEN, USERNAME

PUBLIC = "https://members.example.org"


@pytest.fixture
def make_app(db_url: str) -> Iterator[Callable[..., Flask]]:
    """An app whose environment adds ``environ`` to the test defaults (MEMBERSHIP_ENV=test)."""
    made: list[Flask] = []

    def make(**environ: str) -> Flask:
        app = create_app({"DATABASE_URL": db_url, "TESTING": True, "ENVIRON": environ})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["database.engine"].dispose()


def logged_in(app: Flask, base_url: str = "http://localhost"):
    """A client logged in to ``app`` at the address ``base_url`` (its Host header)."""
    with app.app_context():
        users.create_user(db.session, USERNAME, PASSWORD)
    client = app.test_client()
    page = client.get("/admin/login", base_url=base_url).get_data(as_text=True)
    response = client.post(
        "/admin/login",
        base_url=base_url,
        data={"username": USERNAME, "password": PASSWORD, "csrf_token": TOKEN.search(page)[1]},
    )
    assert response.status_code == 302
    return client


# --- Hosts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin", "/admin/", "/admin/login", "/api/campaigns/drive"])
def test_a_request_for_another_host_is_refused_with_400(client, campaign, path):
    campaign()
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_the_test_clients_localhost_and_the_dev_servers_address_are_trusted(client, campaign):
    campaign()
    assert client.get("/api/campaigns/drive").status_code == 200
    assert client.get("/api/campaigns/drive", base_url="http://127.0.0.1:5000").status_code == 200


def test_development_trusts_the_local_names_only(make_app):
    app = make_app(MEMBERSHIP_ENV="development")
    client = app.test_client()
    assert client.get("/healthz", base_url="http://127.0.0.1:5000").status_code == 200
    assert client.get("/healthz", base_url="http://localhost:5000").status_code == 200
    assert client.get("/healthz", base_url="http://10.0.0.5:5000").status_code == 400


def test_with_public_url_its_host_is_trusted_and_the_admin_redirect_goes_there(make_app):
    app = make_app(PUBLIC_URL=PUBLIC)
    client = app.test_client()
    response = client.get("/admin", base_url=PUBLIC)
    assert response.status_code == 308
    assert response.headers["Location"] == f"{PUBLIC}/admin/"
    assert client.get("/admin", headers={"Host": "evil.example"}).status_code == 400


def test_trusted_hosts_from_the_environment_replace_the_local_names(make_app):
    app = make_app(PUBLIC_URL=PUBLIC, TRUSTED_HOSTS="10.0.0.5")
    client = app.test_client()
    assert client.get("/healthz", base_url="http://10.0.0.5:8000").status_code == 200
    assert client.get("/healthz", base_url=PUBLIC).status_code == 200
    assert client.get("/healthz").status_code == 400  # localhost is no longer named


def test_a_health_probe_by_ip_is_answered_only_when_that_ip_is_trusted(make_app):
    # Load balancers often probe with the target's IP as Host: see docs/security.md.
    strict = make_app(PUBLIC_URL=PUBLIC, MEMBERSHIP_ENV="production", SECRET_KEY="x" * 40)
    for path in ("/healthz", "/readyz"):
        assert strict.test_client().get(path, base_url="http://10.1.2.3:8000").status_code == 400
    listed = make_app(
        PUBLIC_URL=PUBLIC,
        MEMBERSHIP_ENV="production",
        SECRET_KEY="x" * 40,
        TRUSTED_HOSTS="members.example.org,10.1.2.3",
    )
    for path in ("/healthz", "/readyz"):
        assert listed.test_client().get(path, base_url="http://10.1.2.3:8000").status_code == 200


def test_production_without_public_url_answers_any_host_and_warns_at_start(make_app, caplog):
    caplog.set_level(logging.WARNING)
    app = make_app(MEMBERSHIP_ENV="production", SECRET_KEY="x" * 40)
    assert app.config["TRUSTED_HOSTS"] is None
    assert "PUBLIC_URL is not set" in caplog.text
    assert app.test_client().get("/healthz", base_url="http://10.1.2.3").status_code == 200


def test_production_with_public_url_does_not_warn(make_app, caplog):
    caplog.set_level(logging.WARNING)
    app = make_app(PUBLIC_URL=PUBLIC, MEMBERSHIP_ENV="production", SECRET_KEY="x" * 40)
    assert app.config["TRUSTED_HOSTS"] == ["members.example.org"]
    assert "PUBLIC_URL" not in caplog.text


# --- The embed code ------------------------------------------------------------------------------


def test_the_embed_code_uses_public_url_whatever_host_the_admin_was_opened_at(make_app):
    app = make_app(PUBLIC_URL=PUBLIC, TRUSTED_HOSTS="admin.internal")
    with app.app_context():
        from membership.campaigns import settings as campaigns

        campaigns.create_campaign(db.session, "drive", 100, title="Drive")
    internal = "http://admin.internal:8080"
    admin = logged_in(app, internal)
    html = admin.get("/admin/campaigns/drive/edit", base_url=internal).get_data(as_text=True)
    assert f"{PUBLIC}/embed/drive" in html
    assert f"{PUBLIC}/widget.js" in html
    assert f"{PUBLIC}/api/campaigns/drive/badge.svg" in html
    assert "admin.internal" not in html
    assert "PUBLIC_URL is not set" not in html


def test_without_public_url_production_says_the_embed_code_is_a_guess(make_app):
    app = make_app(MEMBERSHIP_ENV="production", SECRET_KEY="x" * 40)
    with app.app_context():
        from membership.campaigns import settings as campaigns

        campaigns.create_campaign(db.session, "drive", 100, title="Drive")
    admin = logged_in(app)
    html = admin.get("/admin/campaigns/drive/edit").get_data(as_text=True)
    assert "PUBLIC_URL is not set" in html
    assert "http://localhost/embed/drive" in html


def test_development_embed_code_uses_the_local_address_without_a_warning(admin, campaign):
    campaign("drive")
    html = admin.get("/admin/campaigns/drive/edit").get_data(as_text=True)
    assert "http://localhost/embed/drive" in html
    assert "PUBLIC_URL is not set" not in html


# --- No caching of anything under /admin ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/admin", 308),  # routing's redirect to /admin/, before any blueprint runs
        ("GET", "/admin/", 302),  # to the login
        ("GET", "/admin/no-such-page", 404),
        ("GET", "/admin/logout", 405),
        ("PUT", "/admin/login", 405),
    ],
)
def test_admin_redirects_and_error_pages_are_never_stored(admin_app, client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"


def test_logged_in_admin_redirects_and_404s_are_never_stored(admin, campaign):
    campaign("drive")
    for path, status in [
        ("/admin", 308),
        ("/admin/login", 302),
        ("/admin/campaigns/nope/edit", 404),
        ("/admin/no-such-page", 404),
    ]:
        response = admin.get(path)
        assert response.status_code == status, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_public_surfaces_keep_their_own_cache_control(client, campaign):
    campaign()
    assert "no-store" not in client.get("/api/campaigns/drive").headers["Cache-Control"]
    assert "no-store" not in client.get("/widget.js").headers["Cache-Control"]

"""Fixtures: a fresh database per test, on SQLite, or on PostgreSQL when TEST_DATABASE_URL is set.

Layout after flaskr: `app`, `client` and `runner`, plus `deliver` (sign and post an event as
Stripe does), `campaign` (make one), and `admin_app`, `user`, `admin` (a logged-in client).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, text

from membership import create_app
from membership.accounts import users
from membership.campaigns import settings as campaigns
from membership.config_values import database_url
from membership.database import db, make_engine
from membership.models import INSERT_LEDGER_ROW, Base, Campaign
from tests import stripe_factory

SECRET = "whsec_test_secret_for_the_suite"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "").strip()


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {'PostgreSQL ' + POSTGRES_URL if POSTGRES_URL else 'SQLite (per test)'}"


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine | None]:
    """One PostgreSQL schema for the run, emptied before each test."""
    if not POSTGRES_URL:
        yield None
        return
    engine = make_engine(database_url(POSTGRES_URL, "."))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def empty_postgres(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text(INSERT_LEDGER_ROW))


@pytest.fixture
def db_url(tmp_path: Any, postgres_engine: Engine | None) -> str:
    """A URL of an empty, migrated-equivalent database for this test."""
    if postgres_engine is not None:
        empty_postgres(postgres_engine)
        return database_url(POSTGRES_URL, ".")
    url = f"sqlite:///{tmp_path / 'membership.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "STRIPE_WEBHOOK_SECRETS": (SECRET,),
            "PROGRESS_CACHE_SECONDS": 0,
            "TESTING": True,
        }
    )
    yield app
    app.extensions["database.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Any]:
    with app.app_context():
        yield db.session


@pytest.fixture
def campaign(app: Flask) -> Callable[..., Campaign]:
    """Make a campaign: campaign("slug", goal=100, rule="new", starts_on=date(...))."""

    def make(slug: str = "drive", goal: int = 25_000, **values: Any) -> Campaign:
        values.setdefault("title", "Membership drive")
        values.setdefault("headline", "Quality journalism takes work.")
        values.setdefault("message", "Help us reach our goal.")
        values.setdefault("cta_label", "Become a member")
        values.setdefault("cta_url", "https://news.example/join")
        with app.app_context():
            return campaigns.create_campaign(db.session, slug, goal, **values)

    return make


@pytest.fixture
def deliver(client: FlaskClient) -> Callable[..., Any]:
    """Sign an event as Stripe does and POST it to the webhook; returns the response."""

    def post(event: dict[str, Any], *, secret: str = SECRET, timestamp: int | None = None) -> Any:
        body, headers = stripe_factory.signed(event, secret, timestamp)
        return client.post("/webhooks/stripe", data=body, headers=headers)

    return post


USERNAME = "editor"
PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def admin_app(app: Flask) -> Flask:
    """The test app with the admin blueprint (registered by create_app once wired in)."""
    if "admin" not in app.blueprints:
        from membership.web.admin import init_app

        init_app(app)
    return app


@pytest.fixture
def user(admin_app: Flask) -> str:
    with admin_app.app_context():
        users.create_user(db.session, USERNAME, PASSWORD)
    return USERNAME


def csrf_token(client: FlaskClient, path: str = "/admin/login") -> str:
    """A valid CSRF token for the client's session, read from a form as a browser would."""
    page = client.get(path)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, f"no csrf_token on {path} ({page.status_code})"
    return found.group(1)


def login(client: FlaskClient, username: str = USERNAME, password: str = PASSWORD, **extra: Any):
    token = csrf_token(client)
    return client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf_token": token, **extra},
    )


@pytest.fixture
def admin(client: FlaskClient, user: str) -> FlaskClient:
    """A client logged in as the test user."""
    response = login(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def count_of(client: FlaskClient, slug: str = "drive") -> int:
    response = client.get(f"/api/campaigns/{slug}")
    assert response.status_code == 200, response.data
    return response.get_json()["count"]


__all__ = ["SECRET", "count_of", "date"]

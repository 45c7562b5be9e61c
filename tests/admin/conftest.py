"""Fixtures for the admin tests: the blueprint on the test app, a user, a logged-in client;
and helpers to log in and post a form with its CSRF token, as a browser would."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from membership.accounts import users
from membership.database import db
from membership.models import AuditEntry

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


def post_form(client: FlaskClient, path: str, data: dict[str, Any], token_from: str = "/admin/"):
    return client.post(path, data={"csrf_token": csrf_token(client, token_from), **data})


def audit_rows(app: Flask) -> list[Any]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))

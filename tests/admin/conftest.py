"""Helpers for the admin tests: post a form with its CSRF token as a browser would, read the
audit log. (The admin fixtures, admin_app, user and admin, are in tests/conftest.py: other
surfaces' tests log in too.)"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from membership.database import db
from membership.models import AuditEntry
from tests.conftest import csrf_token


def post_form(client: FlaskClient, path: str, data: dict[str, Any], token_from: str = "/admin/"):
    return client.post(path, data={"csrf_token": csrf_token(client, token_from), **data})


def audit_rows(app: Flask) -> list[Any]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))

"""The audit log from a request: the logged-in admin (or "-") and their address."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from ...accounts import audit
from ...database import db


def current_actor(name: str | None = None) -> audit.Actor:
    """Who is acting: ``name``, else the logged-in admin, else "-"; from the client's address."""
    if name is None:
        name = current_user.username if current_user.is_authenticated else "-"
    return audit.Actor(name, request.remote_addr if has_request_context() else None)


def record(action: str, detail: str = "", *, actor: str | None = None) -> None:
    """Add one entry and commit it (the action it records is already committed)."""
    audit.record(db.session, current_actor(actor), action, detail)

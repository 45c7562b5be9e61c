"""Write to the audit log: who did what, when, from where. Never a password."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from ...database import db
from ...models import AuditEntry

# Actions, in the newsroom's words; the audit page can filter on them.
LOGIN = "login"
LOGIN_FAILED = "login.failed"
LOGOUT = "logout"
CAMPAIGN_CREATED = "campaign.created"
CAMPAIGN_UPDATED = "campaign.updated"
ADJUSTMENT = "adjustment.added"
REPLAY = "event.replayed"
USER_CREATED = "user.created"
USER_PASSWORD = "user.password_changed"
USER_DELETED = "user.deleted"
USER_SESSIONS_ENDED = "user.sessions_ended"


def record(action: str, detail: str = "", *, actor: str | None = None) -> None:
    """Add one entry and commit it (the action it records is already committed)."""
    if actor is None:
        actor = current_user.username if current_user.is_authenticated else "-"
    ip = request.remote_addr if has_request_context() else None
    session = db.session
    session.add(AuditEntry(actor=actor[:64], action=action[:64], detail=detail[:2000], ip=ip))
    session.commit()

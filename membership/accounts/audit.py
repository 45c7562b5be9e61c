"""The audit log: who did what in the admin, when, from where; never a password. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEntry

# Actions, in the newsroom's words; the audit page can filter on them.
LOGIN = "login"
LOGIN_FAILED = "login.failed"
LOGOUT = "logout"
CAMPAIGN_CREATED = "campaign.created"
CAMPAIGN_UPDATED = "campaign.updated"
CAMPAIGN_SOURCES = "campaign.sources_chosen"
ADJUSTMENT = "adjustment.added"
REPLAY = "event.replayed"
USER_CREATED = "user.created"
USER_PASSWORD = "user.password_changed"
USER_DELETED = "user.deleted"
USER_SESSIONS_ENDED = "user.sessions_ended"
MEMBERS_IMPORTED = "members.imported"
MEMBERS_IMPORT_UNDONE = "members.import_undone"
IDENTITY_FORGOTTEN = "members.identity_forgotten"
NOTIFY_CHANNEL_ADDED = "notify.channel_added"
NOTIFY_CHANNEL_REMOVED = "notify.channel_removed"
NOTIFY_DIGEST = "notify.digest"
SOURCE_TOKEN_CREATED = "source_token.created"
SOURCE_TOKEN_REVOKED = "source_token.revoked"

PER_PAGE = 100


@dataclass(frozen=True)
class Actor:
    """Who acted: an admin's username, "cli", or "-" for nobody logged in; and from where."""

    name: str
    ip: str | None = None


CLI = Actor("cli")


@dataclass(frozen=True)
class Page:
    entries: list[AuditEntry]
    number: int
    has_next: bool


def add(session: Session, actor: Actor, action: str, detail: str = "") -> None:
    """Add one entry to the caller's transaction, so it is kept exactly when the change it
    records is."""
    session.add(
        AuditEntry(actor=actor.name[:64], action=action[:64], detail=detail[:2000], ip=actor.ip)
    )


def record(session: Session, actor: Actor, action: str, detail: str = "") -> None:
    """Add one entry and commit it, for an action already committed or one that writes
    nothing else (a login attempt)."""
    add(session, actor, action, detail)
    session.commit()


def page(session: Session, number: int, per_page: int = PER_PAGE) -> Page:
    """Entries ``number`` (from 1) of the log, newest first."""
    rows = list(
        session.scalars(
            select(AuditEntry)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .offset((number - 1) * per_page)
            .limit(per_page + 1)  # one more tells whether there is a next page
        )
    )
    return Page(rows[:per_page], number, len(rows) > per_page)

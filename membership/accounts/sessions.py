"""Admin logins kept on the server, so that ending one really ends it. No Flask here.

The login cookie carries a random session id; the table keeps only its SHA-256, so a copy of
the table cannot be replayed as cookies. A cookie counts as a login only while its row exists
and has not expired: logout deletes the row, a password change or deleting the user deletes all
of that user's rows, and `flask admin end-sessions` does the same on demand.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import AdminSession, AdminUser, utcnow

# last_seen_at is only for people reading `flask admin sessions`: a write per page view would
# add a database write to every admin request for nothing anyone reads at that precision.
TOUCH_EVERY = timedelta(minutes=1)


def hash_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(
    session: Session,
    user: AdminUser,
    *,
    hours: int,
    ip: str | None,
    user_agent: str,
    now: datetime | None = None,
) -> str:
    """Record a new login for ``user``; returns the session id for the cookie (kept nowhere)."""
    now = now or utcnow()
    # Logins are rare and expired rows are useless: clearing them here keeps the table small
    # without a scheduled job.
    delete_expired(session, now)
    session_id = secrets.token_urlsafe(32)
    session.add(
        AdminSession(
            id_hash=hash_id(session_id),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
            last_seen_at=now,
            ip=(ip or None) and ip[:64],
            user_agent=(user_agent or "")[:200],
        )
    )
    session.commit()
    return session_id


def find(session: Session, session_id: str, now: datetime | None = None) -> AdminSession | None:
    """The open login this cookie's session id belongs to, or None if it ended or expired."""
    if not session_id:
        return None
    now = now or utcnow()
    row = session.get(AdminSession, hash_id(session_id))
    if row is None or row.expires_at <= now:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()
    return row


def user_of(session: Session, session_id: str) -> AdminUser | None:
    """The user whose open login this cookie's session id is, or None if it ended or expired."""
    row = find(session, session_id)
    return session.get(AdminUser, row.user_id) if row is not None else None


def end(session: Session, session_id: str) -> None:
    """End one login (logout)."""
    session.execute(delete(AdminSession).where(AdminSession.id_hash == hash_id(session_id)))
    session.commit()


def end_all(session: Session, user_id: int) -> int:
    """End every login of one user; returns how many still worked. The caller commits."""
    still_open = len(open_sessions(session, user_id))
    session.execute(delete(AdminSession).where(AdminSession.user_id == user_id))
    return still_open


def open_sessions(
    session: Session, user_id: int, now: datetime | None = None
) -> list[AdminSession]:
    """A user's logins that still work, oldest first."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(AdminSession)
            .where(AdminSession.user_id == user_id, AdminSession.expires_at > now)
            .order_by(AdminSession.created_at, AdminSession.id_hash)
        )
    )


def delete_expired(session: Session, now: datetime | None = None) -> int:
    """Delete every expired login's row; the caller commits."""
    result = session.execute(
        delete(AdminSession).where(AdminSession.expires_at <= (now or utcnow()))
    )
    return result.rowcount or 0

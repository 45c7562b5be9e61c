"""Whether the database answers: the readiness probe's one question. No Flask here."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session


def database_problem(session: Session) -> str | None:
    """None when the database answers a trivial query, else the kind of error (its class name,
    never its message, which may carry the host, user or password)."""
    try:
        session.execute(text("SELECT 1"))
        # Close the probe's transaction: probes come every few seconds and must not pile up.
        session.rollback()
    except SQLAlchemyError as exc:
        session.rollback()
        return type(exc).__name__
    return None

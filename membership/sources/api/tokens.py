"""A membership API source's bearer tokens: made, listed, checked and revoked. No Flask here.

A token is ``mk_`` and 43 random URL-safe characters. Only its SHA-256 is stored; a presented
token is looked up by its digest and the digests compared in constant time, so neither the
table nor the timing of a refusal gives a token away. Making and revoking are written to the
audit log in the same transaction.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...accounts import audit
from ...models import SourceToken, utcnow

PREFIX = "mk_"
HINT_LENGTH = len(PREFIX) + 4


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    REFUSED = "refused"  # no token, or not one of ours (or revoked): 401
    OTHER_SOURCE = "other_source"  # a live token of another source: 403


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(session: Session, source: str, actor: audit.Actor) -> tuple[SourceToken, str]:
    """A new token for ``source`` (a checked ``api-NAME``); the token is returned only here."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = SourceToken(
        source=source,
        token_hash=digest(token),
        hint=token[:HINT_LENGTH],
        created_by=actor.name[:64],
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.add(
        session, actor, audit.SOURCE_TOKEN_CREATED, f"token {row.id} ({row.hint}…) for {source}"
    )
    session.commit()
    return row, token


def listed(session: Session, source: str | None = None) -> list[SourceToken]:
    """Every token, or one source's, oldest first; revoked ones too."""
    query = select(SourceToken).order_by(SourceToken.id)
    if source is not None:
        query = query.where(SourceToken.source == source)
    found = list(session.scalars(query))
    session.rollback()
    return found


def revoke(session: Session, token_id: int, actor: audit.Actor) -> SourceToken | None:
    """Revoke a token (at once, for every worker); None if there is no such token. Revoking
    a revoked token changes nothing and is not logged again."""
    row = session.get(SourceToken, token_id)
    if row is None:
        session.rollback()
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.add(
            session,
            actor,
            audit.SOURCE_TOKEN_REVOKED,
            f"token {row.id} ({row.hint}…) of {row.source}",
        )
    session.commit()
    return row


def known_source(session: Session, source: str) -> bool:
    """Whether a token was ever made for ``source``: the API's sources are exactly those."""
    found = session.scalar(select(SourceToken.id).where(SourceToken.source == source).limit(1))
    session.rollback()
    return found is not None


def check(session: Session, source: str, presented: str | None) -> Verdict:
    """Whether ``presented`` may PUT memberships of ``source``."""
    if not presented or not presented.startswith(PREFIX):
        return Verdict.REFUSED
    wanted = digest(presented)
    row = session.scalar(select(SourceToken).where(SourceToken.token_hash == wanted))
    session.rollback()
    if row is None or row.revoked_at is not None:
        return Verdict.REFUSED
    if not hmac.compare_digest(row.token_hash, wanted):
        return Verdict.REFUSED  # a database that compares without case, say
    return Verdict.ALLOWED if row.source == source else Verdict.OTHER_SOURCE


def label(row: SourceToken) -> str:
    """One line about a token, for the CLI and the admin."""
    state = "live" if row.revoked_at is None else f"revoked {_when(row.revoked_at)}"
    return (
        f"{row.id}  {row.source}  {row.hint}…  made {_when(row.created_at)} by "
        f"{row.created_by}  {state}"
    )


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"

"""The membership API's bearer tokens: one source each, kept only as a SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class SourceToken(Base):
    """A token another system sends to PUT memberships of one API source (``api-NAME``).

    The token itself is shown once when made; only its SHA-256 is stored, so a copy of this
    table cannot be used to send memberships. A revoked token stays listed (and keeps its
    source known) with the moment it was revoked.
    """

    __tablename__ = "source_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(32), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters (``mk_AbCd``), so a newsroom can tell its tokens apart.
    hint: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

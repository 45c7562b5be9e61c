"""The ledger's tables, as typed SQLAlchemy 2.0 models. No Flask here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so Alembic's batch mode can alter SQLite tables.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# "Active with no end in sight" (a live subscription). A real date, not NULL, so that
# "members active at time T" is one indexed range condition: active_until > T.
FOREVER = datetime(9999, 12, 31, tzinfo=UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on PostgreSQL and SQLite alike.

    SQLite has no time zones; storing naive UTC there keeps the text form sortable, so range
    conditions and indexes work the same on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Campaign(Base):
    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("goal > 0", name="goal_positive"),
        CheckConstraint("rule IN ('active', 'new')", name="rule_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    goal: Mapped[int] = mapped_column(Integer)
    # UTC days. The deadline day is included: the window ends at the next midnight.
    starts_on: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(8), default="active")
    # Members from outside Stripe (a print subscription list, say), added to every count.
    baseline: Mapped[int] = mapped_column(Integer, default=0)
    headline: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(String(500), default="")
    cta_label: Mapped[str] = mapped_column(String(80), default="")
    cta_url: Mapped[str] = mapped_column(String(500), default="")
    locale: Mapped[str] = mapped_column(String(16), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moves whenever a setting or an adjustment changes what the campaign shows.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignCopy(Base):
    """The campaign's words in another language than its own locale (e.g. Ukrainian)."""

    __tablename__ = "campaign_copy"
    __table_args__ = (UniqueConstraint("campaign_id", "locale"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    headline: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(String(500), default="")
    cta_label: Mapped[str] = mapped_column(String(80), default="")


class Adjustment(Base):
    """A manual change to a campaign's count, with the reason and who made it."""

    __tablename__ = "adjustment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_adjustment_campaign_id", "campaign_id"),)


class Person(Base):
    """One reader, however many sources they pay through: what campaigns count.

    Keyed by the identity fingerprint its members share (``id1:…``), or, for a member whose
    email no source has told us, by that member's own key. Its figures are derived from its
    members' and rewritten whenever one of them changes, so counting a campaign is a single
    indexed range count over this table.
    """

    __tablename__ = "person"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The latest moment any of its members is active; NULL when none is.
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # When its first membership that was not refunded started, across all its members.
    first_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # When its latest recurring membership lapsed (for the dashboard's history only).
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Member(Base):
    """A distinct paying account in one source: ``stripe:cus_…``, ``stripe:cs_…`` (a guest
    checkout), later ``paypal:<payer id>``. The key carries its source, so two providers' ids
    never collide.

    ``active_until`` and ``first_started_at`` are derived from the member's memberships and
    rewritten whenever one of them changes; the member's person's figures are derived from
    them in turn.
    """

    __tablename__ = "member"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    # The smallest identity fingerprint any event gave this member (a minimum, so the same
    # whatever the order); NULL while none did.
    identity: Mapped[str | None] = mapped_column(String(80))
    # Its person: ``identity`` when known, else its own key.
    person_key: Mapped[str] = mapped_column(String(255), index=True)
    # The latest moment any membership keeps this member active (9999-12-31 while a
    # recurring membership is live, the end of a one-off term); NULL when none does.
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # When the member's first membership that was not refunded started.
    first_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # When the member's latest recurring membership lapsed (for the dashboard's history;
    # counts never use it). A one-off membership's end is its active_until.
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Membership(Base):
    """One thing that makes someone a member: a recurring membership (a subscription), or a
    one-off payment for a term."""

    __tablename__ = "membership"
    __table_args__ = (
        CheckConstraint("kind IN ('recurring', 'one-off')", name="kind_known"),
        CheckConstraint("state IN ('pending', 'active', 'lapsed')", name="state_known"),
    )

    # The source and its id: stripe:sub_… (a subscription) or stripe:cs_… (the checkout
    # session of a one-off payment).
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    member_key: Mapped[str] = mapped_column(ForeignKey("member.key"), index=True)
    # The latest known state, and the (created, rank, event id) of the event that set it:
    # a change applies only if its key sorts after this one, so order of arrival never matters.
    state: Mapped[str] = mapped_column(String(16))
    state_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state_rank: Mapped[int] = mapped_column(Integer)
    state_event_id: Mapped[str] = mapped_column(String(255))
    # When the recurring membership ended for good (Stripe: deleted, or expired before it
    # started): it never comes back, whatever arrives later. The earliest such event counts.
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded: Mapped[bool] = mapped_column(Boolean, default=False)
    # The payment a one-off membership was bought with (stripe:pi_…), which a refund names.
    payment: Mapped[str | None] = mapped_column(String(255), index=True)
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # About when a recurring membership that is no longer live lapsed; for history only.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Refund(Base):
    """A payment known to be fully refunded (stripe:pi_…).

    Kept on its own because the refund may arrive before the payment it undoes.
    """

    __tablename__ = "refund"

    payment: Mapped[str] = mapped_column(String(255), primary_key=True)
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_id: Mapped[str] = mapped_column(String(255))


class Event(Base):
    """Every received event, once per source and id, with what became of it."""

    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("outcome IN ('applied', 'ignored', 'failed')", name="outcome_known"),
        Index("ix_event_received_at", "received_at"),
        Index("ix_event_outcome", "outcome"),
    )

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    # Text, not a bounded string: type names and (beta) API version strings grow, and a
    # genuine event must never fail to be stored because one is longer than we guessed.
    type: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    # Live money or a test/sandbox event, where the provider says; NULL where it does not.
    livemode: Mapped[bool | None] = mapped_column(Boolean)
    api_version: Mapped[str | None] = mapped_column(Text)
    # The fingerprint of the email the event named (never the email); see ledger/identity.py.
    identity: Mapped[str | None] = mapped_column(String(80), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    # Why it was ignored, or the error that made it fail.
    detail: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text)
    # Redeliveries after the first; each is answered "duplicate" and changes nothing.
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdminUser(Base):
    """A newsroom user of the admin dashboard. Passwords are stored only as KDF hashes."""

    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AdminSession(Base):
    """One admin login, kept on the server so that logging out really ends it.

    The login cookie carries a random session id; only its SHA-256 is stored, so a copy of
    this table cannot be replayed as cookies. Logout, a password change and deleting the user
    delete the row, and a cookie whose row is gone is no longer a login.
    """

    __tablename__ = "admin_session"
    __table_args__ = (Index("ix_admin_session_user_id", "user_id"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class AuditEntry(Base):
    """Who did what in the admin, and when: logins, settings, adjustments, replays."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(64))


class LedgerState(Base):
    """One row: a version that moves with every change to members, and when it moved.

    Readers compare the version to know whether a cached count is still exact. A write that
    moves a member's figures bumps it with its last statement before COMMIT, so the row lock
    is held only for the commit; writers serialise on the keys they touch, not on this row.
    """

    __tablename__ = "ledger_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The ledger_state row's id. It exists from the moment the table does (migrations insert it
# too), so writers can always update it and never race to create it.
LEDGER_ROW = 1
INSERT_LEDGER_ROW = (
    "INSERT INTO ledger_state (id, version, changed_at) "
    + f"VALUES ({LEDGER_ROW}, 0, CURRENT_TIMESTAMP)"
)
event.listen(LedgerState.__table__, "after_create", DDL(INSERT_LEDGER_ROW))

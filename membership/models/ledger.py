"""The ledger's tables: persons, members, memberships, refunds, events and the version row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


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


class MembershipOffer(Base):
    """What a membership was bought as, in its source's words: ``price:price_…``,
    ``product:prod_…``, ``payment_link:plink_…``, ``metadata:KEY`` (Stripe), ``plan:P-…``
    (PayPal). Campaigns choose which offers are memberships for them (CampaignSource).

    Only ever added to (a subscription that once carried a price keeps it), so the set is the
    same whatever order its events arrive in.
    """

    __tablename__ = "membership_offer"
    __table_args__ = (Index("ix_membership_offer_offer", "offer"),)

    membership_key: Mapped[str] = mapped_column(
        ForeignKey("membership.key", ondelete="CASCADE"), primary_key=True
    )
    offer: Mapped[str] = mapped_column(String(255), primary_key=True)


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
        # Each source's latest event (the dashboard's summary, /metrics' last-event age).
        Index("ix_event_source_received_at", "source", "received_at"),
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

"""Campaigns: their settings, their words in other languages, and manual adjustments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


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
    # Goals after the first, in order, comma-separated ("30000,35000"); empty for none.
    stretch_goals: Mapped[str] = mapped_column(Text, default="")
    # Milestones besides the goals ("10%,50%,10000": percentages of the first goal and
    # counts); empty for the goals alone. campaigns/goals.py reads both.
    milestones: Mapped[str] = mapped_column(Text, default="")
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


class CampaignSource(Base):
    """A source a campaign counts, and which of its memberships are memberships for it.

    A campaign with no rows counts every source and everything in it (the default). With rows,
    it counts only those sources; a row whose ``offers`` is empty counts all of that source's
    memberships, otherwise only those carrying one of its offers (``price:price_…``,
    ``product:prod_…``, ``payment_link:plink_…``, ``metadata:KEY``, ``plan:P-…``).
    """

    __tablename__ = "campaign_source"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Space-separated offers, sorted; empty for "all of this source".
    offers: Mapped[str] = mapped_column(Text, default="")

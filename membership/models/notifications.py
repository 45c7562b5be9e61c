"""Notifications: a campaign's channels, its digest setting, and the outbox of deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class NotifyChannel(Base):
    """Where a campaign's notices go: a Slack webhook, an email address or a signed webhook.

    Secrets (the Slack URL, which is itself a credential, and a webhook's signing secret) are
    stored only as Fernet tokens in ``secret``; ``hint`` keeps their last characters, the most
    that is ever shown back.
    """

    __tablename__ = "notify_channel"
    __table_args__ = (
        CheckConstraint("kind IN ('slack', 'email', 'webhook')", name="kind_known"),
        Index("ix_notify_channel_campaign_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # In clear: an email address or a webhook's URL; empty for Slack (its URL is the secret).
    address: Mapped[str] = mapped_column(String(500), default="")
    secret: Mapped[str] = mapped_column(Text, default="")
    hint: Mapped[str] = mapped_column(String(16), default="")
    # Comma-separated milestone labels this channel hears ("50%,goal 25000"); empty for all.
    milestones: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotifyDigest(Base):
    """A campaign's weekly digest, on since ``since`` (no row: off)."""

    __tablename__ = "notify_digest"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotifyDelivery(Base):
    """One notice for one channel: the outbox row the worker delivers, at least once.

    Written in the transaction of what caused it. ``due_at`` is when a worker may next take it:
    a claim moves it a lease ahead, so a worker that dies mid-delivery leaves the row due again
    once the lease runs out. ``attempts`` counts claims and fences a late worker's report.
    """

    __tablename__ = "notify_delivery"
    __table_args__ = (
        UniqueConstraint("channel_id", "notice_key"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status_known"),
        Index("ix_notify_delivery_due", "status", "due_at"),
        Index("ix_notify_delivery_campaign_id", "campaign_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stable across attempts, sent as Membership-Delivery-Id so receivers can drop repeats.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("notify_channel.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    notice_key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    milestone: Mapped[str | None] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")

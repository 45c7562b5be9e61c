"""Milestones a campaign's count has crossed: one row per crossing, recorded exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class Milestone(Base):
    """A milestone the campaign's count crossed, and when.

    Only crossings are stored: a milestone not crossed yet has no row. The unique (campaign,
    label) is what makes a crossing fire once across workers and hosts: every detector inserts
    and only the first insert lands, and a count that dips and crosses again finds the row.
    """

    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("campaign_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    # "10%", "10000" or "goal 25000": how the campaign's milestones spell it.
    label: Mapped[str] = mapped_column(String(40))
    # The count that crosses it, as it was when it was crossed (a percentage follows the goal).
    threshold: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)  # the count that crossed it
    crossed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # False for a milestone the count had already passed when it was set: recorded so it never
    # fires, but nobody was told, since nothing happened.
    announced: Mapped[bool] = mapped_column(Boolean, default=True)

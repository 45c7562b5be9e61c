"""A campaign's milestones as the admin and the CLI list them: each with its crossing, if any,
and the notices delivered for it, per channel. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Campaign, Milestone, NotifyChannel, NotifyDelivery
from ..notify import channels
from . import goals


@dataclass(frozen=True)
class Delivery:
    """One channel's delivery of a milestone's notice."""

    channel: str  # the channel, described with its secrets masked
    status: str  # "pending", "delivered" or "failed" (the notify worker's words)
    attempts: int
    delivered_at: datetime | None
    last_error: str


@dataclass(frozen=True)
class Entry:
    label: str
    threshold: int
    crossed_at: datetime | None  # None: not crossed yet
    count: int | None  # the count that crossed it
    announced: bool  # False: already passed when it was set, so nobody was told
    current: bool  # False: a record of a milestone the campaign no longer has (a goal changed)
    deliveries: list[Delivery] = field(default_factory=list)


def entries(session: Session, campaign: Campaign) -> list[Entry]:
    """The campaign's milestones with their crossings and deliveries, and the crossings of
    milestones it no longer has, by threshold."""
    rows = {
        row.label: row
        for row in session.scalars(select(Milestone).where(Milestone.campaign_id == campaign.id))
    }
    sent = _deliveries(session, campaign)
    found = []
    for mark in goals.marks(campaign):
        row = rows.pop(mark.label, None)
        if row is None:
            found.append(Entry(mark.label, mark.threshold, None, None, True, True))
            continue
        found.append(
            Entry(
                mark.label,
                mark.threshold,
                row.crossed_at,
                row.count,
                row.announced,
                True,
                sent.get(mark.label, []),
            )
        )
    for row in rows.values():
        found.append(
            Entry(
                row.label,
                row.threshold,
                row.crossed_at,
                row.count,
                row.announced,
                False,
                sent.get(row.label, []),
            )
        )
    return sorted(found, key=lambda entry: (entry.threshold, not entry.current))


def _deliveries(session: Session, campaign: Campaign) -> dict[str, list[Delivery]]:
    query = (
        select(NotifyDelivery, NotifyChannel)
        .join(NotifyChannel, NotifyChannel.id == NotifyDelivery.channel_id)
        .where(NotifyDelivery.campaign_id == campaign.id, NotifyDelivery.milestone.is_not(None))
        .order_by(NotifyDelivery.id)
    )
    found: dict[str, list[Delivery]] = {}
    for delivery, channel in session.execute(query):
        found.setdefault(delivery.milestone or "", []).append(
            Delivery(
                channels.describe(channel),
                delivery.status,
                delivery.attempts,
                delivery.delivered_at,
                delivery.last_error,
            )
        )
    return found

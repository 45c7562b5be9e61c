"""A campaign's window in time, what it counts, and its status at a moment. No Flask here."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, time, timedelta

from ..ledger.counting import Counting, Rule
from ..models import Campaign
from . import definitions


class Status(enum.StrEnum):
    UPCOMING = "upcoming"  # before the start
    ACTIVE = "active"  # running, goal not reached
    REACHED = "reached"  # the count meets the goal
    ENDED = "ended"  # past the deadline without reaching the goal


def window(campaign: Campaign) -> tuple[datetime | None, datetime | None]:
    """The campaign's [start, end) in UTC; the deadline day is included."""
    start = datetime.combine(campaign.starts_on, time(0), UTC) if campaign.starts_on else None
    end = (
        datetime.combine(campaign.deadline + timedelta(days=1), time(0), UTC)
        if campaign.deadline
        else None
    )
    return start, end


def counting(campaign: Campaign) -> Counting:
    """What the campaign's rule counts: members active now, or new inside its window; of the
    memberships its definitions choose (definitions.py)."""
    chosen = definitions.choices(campaign)
    if campaign.rule == Rule.NEW:
        start, end = window(campaign)
        return Counting(Rule.NEW, start, end, chosen)
    return Counting(Rule.ACTIVE, choices=chosen)


def status(campaign: Campaign, count: int, now: datetime) -> Status:
    start, end = window(campaign)
    if start is not None and now < start:
        return Status.UPCOMING
    if count >= campaign.goal:
        return Status.REACHED
    if end is not None and now >= end:
        return Status.ENDED
    return Status.ACTIVE

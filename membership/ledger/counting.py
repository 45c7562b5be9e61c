"""Counting members for a campaign: the fast path the API uses and a slow cross-check.

No Flask here. Both read only the ledger's tables; neither writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Campaign, Member, Membership


def window(campaign: Campaign) -> tuple[datetime | None, datetime | None]:
    """The campaign's [start, end) in UTC; the deadline day is included."""
    start = datetime.combine(campaign.starts_on, time(0), UTC) if campaign.starts_on else None
    end = (
        datetime.combine(campaign.deadline + timedelta(days=1), time(0), UTC)
        if campaign.deadline
        else None
    )
    return start, end


def count_members(session: Session, campaign: Campaign, now: datetime) -> int:
    """Members matching the campaign's rule: one indexed range count over member."""
    query = select(func.count()).select_from(Member)
    if campaign.rule == "new":
        start, end = window(campaign)
        query = query.where(Member.first_started_at.is_not(None))
        if start is not None:
            query = query.where(Member.first_started_at >= start)
        if end is not None:
            query = query.where(Member.first_started_at < end)
    else:
        query = query.where(Member.active_until > now)
    return session.scalar(query) or 0


def count_members_slowly(session: Session, campaign: Campaign, now: datetime) -> int:
    """The same count straight from memberships, without the derived member columns.

    Used by recount to check the fast path; too slow for requests.
    """
    if campaign.rule == "new":
        firsts = (
            select(Membership.member_key, func.min(Membership.started_at).label("first"))
            .where(Membership.started_at.is_not(None), Membership.refunded.is_(False))
            .group_by(Membership.member_key)
            .subquery()
        )
        start, end = window(campaign)
        query = select(func.count()).select_from(firsts)
        if start is not None:
            query = query.where(firsts.c.first >= start)
        if end is not None:
            query = query.where(firsts.c.first < end)
        return session.scalar(query) or 0
    return (
        session.scalar(
            select(func.count(func.distinct(Membership.member_key))).where(
                Membership.active_until > now
            )
        )
        or 0
    )

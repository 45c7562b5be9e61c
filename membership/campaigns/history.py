"""A campaign's count over time, its pace and a projection, for the dashboard. No Flask here.

Built from the person table's derived figures (one row a reader), with two grouped queries:
people joining per day (``first_started_at``) and leaving per day (the end of their last membership:
``active_until`` once it has passed, or ``lapsed_at``). The count at the end of day D is then
``baseline + adjustments up to D + joined up to D - left up to D``.

One simplification, stated in the dashboard too: a member who left and later rejoined is
charted as a member throughout. Today's figure is always exact, it equals the public count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..ledger import counting
from ..models import FOREVER, Adjustment, Campaign
from . import windows


@dataclass(frozen=True)
class Day:
    day: date
    count: int  # at the end of the day
    joined: int
    left: int


@dataclass(frozen=True)
class Pace:
    per_day_7: float  # net new members per day over the last 7 days
    per_day_30: float
    projected: date | None  # when the goal is reached at the 7-day pace; None if never
    beats_deadline: bool | None  # None without a deadline or a projection
    days_to_deadline: int | None


def _day(column: ColumnElement, dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite stores naive UTC text


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def daily(
    session: Session, campaign: Campaign, first: date, last: date, now: datetime
) -> list[Day]:
    """One Day per date from ``first`` to ``last`` (inclusive)."""
    dialect = session.get_bind().dialect.name
    rule = windows.counting(campaign)
    start, end = rule.start, rule.end
    # The persons the campaign counts: all, or those of the memberships it chose.
    people = counting.persons(rule).c

    joined_at = people.first_started_at
    join_day = _day(joined_at, dialect).label("day")
    joins_query = select(join_day, func.count()).where(joined_at.is_not(None))
    if start is not None:
        joins_query = joins_query.where(joined_at >= start)
    if end is not None:
        joins_query = joins_query.where(joined_at < end)
    joins = {_as_date(d): n for d, n in session.execute(joins_query.group_by(join_day))}

    left_at = case(
        (
            and_(
                people.active_until.is_not(None),
                or_(people.lapsed_at.is_(None), people.active_until >= people.lapsed_at),
            ),
            people.active_until,
        ),
        else_=people.lapsed_at,
    )
    leave_day = _day(left_at, dialect).label("day")
    leaves_query = select(leave_day, func.count()).where(
        joined_at.is_not(None), left_at <= now, left_at < FOREVER
    )
    if campaign.rule == "new":
        leaves = {}  # under "new", leaving does not lower the count
    else:
        leaves = {_as_date(d): n for d, n in session.execute(leaves_query.group_by(leave_day))}

    adjustments: dict[date, int] = {}
    for at, delta in session.execute(
        select(Adjustment.created_at, Adjustment.delta).where(Adjustment.campaign_id == campaign.id)
    ):
        day = at.astimezone(UTC).date()
        adjustments[day] = adjustments.get(day, 0) + delta

    running = campaign.baseline
    running += sum(n for d, n in joins.items() if d < first)
    running -= sum(n for d, n in leaves.items() if d < first)
    running += sum(n for d, n in adjustments.items() if d < first)
    days = []
    day = first
    while day <= last:
        joined, gone = joins.get(day, 0), leaves.get(day, 0)
        running += joined - gone + adjustments.get(day, 0)
        days.append(Day(day=day, count=max(0, running), joined=joined, left=gone))
        day += timedelta(days=1)
    return days


def pace(
    series: list[Day], campaign: Campaign, count: int, today: date, goal: int | None = None
) -> Pace:
    """Pace over the last 7 and 30 days of ``series`` (which must end today), and when the
    count would reach ``goal`` (the current target; the campaign's first goal by default)."""

    def per_day(days: int) -> float:
        if len(series) <= days:
            return 0.0
        return (series[-1].count - series[-1 - days].count) / days

    per_7, per_30 = per_day(7), per_day(30)
    remaining = (goal or campaign.goal) - count
    projected: date | None
    if remaining <= 0:
        projected = today
    elif per_7 > 0:
        projected = today + timedelta(days=math.ceil(remaining / per_7))
    else:
        projected = None
    deadline = campaign.deadline
    return Pace(
        per_day_7=round(per_7, 1),
        per_day_30=round(per_30, 1),
        projected=projected,
        beats_deadline=(projected <= deadline) if projected and deadline else None,
        days_to_deadline=(deadline - today).days if deadline else None,
    )

"""A campaign's progress toward its goal: the figures the public API, widget and badge show.

No Flask here. ``valid_until`` says how long the figures stay exact if the ledger and the
campaign do not change, which lets callers cache them without ever serving a wrong count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import i18n
from ..ledger import counting
from ..models import (
    FOREVER,
    LEDGER_ROW,
    Adjustment,
    Campaign,
    CampaignCopy,
    LedgerState,
    Milestone,
    Person,
)
from . import goals, public_fields, windows
from .validation import printable


@dataclass(frozen=True)
class Goal:
    goal: int
    reached_at: datetime | None  # when its crossing was recorded; None until then


@dataclass(frozen=True)
class Progress:
    slug: str
    title: str
    count: int
    goal: int  # the goal the count is heading for (the last one once all are reached)
    goals: tuple[Goal, ...]  # every goal, the first and each stretch goal, in order
    percent: float
    remaining: int
    status: str
    starts_at: date | None
    deadline: date | None
    updated_at: datetime
    headline: str
    message: str
    cta_label: str
    cta_url: str
    locale: str
    # The copy in other languages: {"uk": {"headline": ..., "message": ..., "cta_label": ...}}
    translations: dict[str, dict[str, str]]
    # Not public: when time alone (a one-off membership running out, the start or the end of
    # the campaign) would change the figures above.
    valid_until: datetime

    def public(self) -> dict[str, Any]:
        """The public JSON: figures, display copy and the widget's UI words, nothing personal.

        Its keys are public_fields.NAMES, in that order; each is this object's attribute of the
        same name, in JSON form, except the two below.
        """
        return {name: self._public_value(name) for name in public_fields.NAMES}

    def _public_value(self, name: str) -> Any:
        if name == "words":
            # The widget's own words (count line, plural forms, reached/ended), so it ships none.
            return i18n.COPY
        if name == "stale":
            return False  # counted just now; only a cache serving old figures says otherwise
        if name == "goals":
            return [
                {"goal": goal.goal, "reached_at": _json(goal.reached_at)} for goal in self.goals
            ]
        return _json(getattr(self, name))


def _json(value: Any) -> Any:
    if isinstance(value, datetime):  # before date: a datetime is a date too
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Versions:
    """What a campaign's figures are counted from, as of now: when neither moved (and time
    alone did not change them, see Progress.valid_until), figures counted before still hold."""

    ledger: int  # LedgerState.version: bumped by every change to members
    campaign: datetime  # Campaign.updated_at: its settings, adjustments and copy


def percent(count: int, goal: int) -> float:
    """One decimal, not capped: 26,000 of 25,000 is 104.0 (the bar caps, the figure does not)."""
    return round(count * 100 / goal, 1)


def versions(session: Session, slug: str) -> tuple[Campaign, Versions] | None:
    """The campaign ``slug`` and the versions of what its figures come from, or None for no
    such campaign. One indexed query, cheap enough to ask before every use of cached figures."""
    row = session.execute(
        select(Campaign, LedgerState.version)
        .join(LedgerState, LedgerState.id == LEDGER_ROW)
        .where(Campaign.slug == slug)
    ).first()
    if row is None:
        return None
    campaign, version = row
    return campaign, Versions(ledger=version, campaign=campaign.updated_at)


def count_now(session: Session, campaign: Campaign, now: datetime) -> int:
    """The campaign's count: baseline, adjustments and the members its rule counts. Two
    indexed queries; milestones.detect compares this, the public figure, with milestones."""
    members = counting.count_members(session, windows.counting(campaign), now)
    adjusted = session.scalar(
        select(func.coalesce(func.sum(Adjustment.delta), 0)).where(
            Adjustment.campaign_id == campaign.id
        )
    )
    # Adjustments can remove members; a count below zero is never a real figure.
    return max(0, campaign.baseline + int(adjusted or 0) + members)


def compute(session: Session, campaign: Campaign, now: datetime) -> Progress:
    """Count the campaign now. Two or three indexed queries; callers cache the result."""
    state = session.get(LedgerState, LEDGER_ROW)
    assert state is not None, "ledger_state row missing: run `flask db upgrade`"
    count = count_now(session, campaign, now)
    all_goals = goals.goals(campaign)
    reached = reached_at(session, campaign, all_goals)
    goal = goals.target(all_goals, count, reached)

    updated_at = max(state.changed_at, campaign.updated_at)
    boundaries = [t for t in windows.window(campaign) if t is not None and t > now]
    if campaign.rule == "active":
        # Under the "active" rule the count also moves when a one-off membership runs out.
        last_expiry = session.scalar(
            select(func.max(Person.active_until)).where(Person.active_until <= now)
        )
        if last_expiry is not None:
            updated_at = max(updated_at, last_expiry)
        next_expiry = session.scalar(
            select(func.min(Person.active_until)).where(Person.active_until > now)
        )
        if next_expiry is not None and next_expiry < FOREVER:
            boundaries.append(next_expiry)
    return Progress(
        slug=campaign.slug,
        # Campaign text goes through printable(): a row stored before the rule may hold
        # characters the badge's XML cannot carry.
        title=printable(campaign.title),
        count=count,
        goal=goal,
        goals=tuple(Goal(g, reached.get(g)) for g in all_goals),
        percent=percent(count, goal),
        remaining=max(0, goal - count),
        status=goals.status(campaign, goal, count, now),
        starts_at=campaign.starts_on,
        deadline=campaign.deadline,
        updated_at=updated_at,
        headline=printable(campaign.headline),
        message=printable(campaign.message),
        cta_label=printable(campaign.cta_label),
        # The widget shows the button only for a link starting http(s): an old row's " https://…"
        # would hide it.
        cta_url=printable(campaign.cta_url).strip(),
        locale=campaign.locale,
        translations={
            copy.locale: {
                "headline": printable(copy.headline),
                "message": printable(copy.message),
                "cta_label": printable(copy.cta_label),
            }
            for copy in session.scalars(
                select(CampaignCopy)
                .where(CampaignCopy.campaign_id == campaign.id)
                .order_by(CampaignCopy.locale)
            )
        },
        valid_until=min(boundaries, default=FOREVER),
    )


def reached_at(session: Session, campaign: Campaign, all_goals: list[int]) -> dict[int, datetime]:
    """When each goal's crossing was recorded (milestones.detect records it, and moves the
    campaign's updated_at so cached figures are counted again), for the goals reached."""
    labels = {goals.goal_label(goal): goal for goal in all_goals}
    rows = session.execute(
        select(Milestone.label, Milestone.crossed_at).where(
            Milestone.campaign_id == campaign.id, Milestone.label.in_(labels)
        )
    )
    return {labels[label]: crossed_at for label, crossed_at in rows}

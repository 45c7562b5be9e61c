"""Milestones: detect each crossing once, record it with its time, and queue its notice.

No Flask here. A crossing is recorded by inserting its (campaign, label) row, which is unique:
of any number of detectors (webhook requests on several hosts, the notify worker) that see the
same crossing, one insert lands and the others find the row, so the notice, written to the
outbox in the same transaction, exists exactly once. A count that dips below a milestone and
crosses it again finds the row and fires nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..ledger import locks
from ..models import Campaign, Milestone
from ..notify import outbox
from . import goals, progress, windows
from .goals import Mark


@dataclass(frozen=True)
class Crossing:
    """A milestone crossed and recorded by this detector."""

    campaign_id: int
    slug: str
    label: str
    threshold: int
    count: int
    crossed_at: datetime


def detect(session: Session, now: datetime) -> list[Crossing]:
    """Record every milestone crossed and not yet recorded, for every running campaign, with
    its notice in the outbox; return the crossings this call recorded.

    Ends any transaction the session holds and commits its own, one per campaign that has
    something to record. Campaigns are watched until their deadline day ends.
    """
    crossings: list[Crossing] = []
    for campaign_id in _to_record(session, now):
        crossings += _record(session, campaign_id, now)
    return crossings


def _to_record(session: Session, now: datetime) -> list[int]:
    """Campaigns with a milestone their count meets and nobody recorded yet. A read, without
    any lock: most calls (every webhook delivery) find nothing and write nothing."""
    session.rollback()  # a new snapshot: every change committed before this call
    recorded = _recorded(session)
    found = []
    for campaign in session.scalars(select(Campaign).order_by(Campaign.id)):
        _, end = windows.window(campaign)
        if end is not None and now >= end:
            continue
        done = recorded.get(campaign.id, set())
        pending = [mark for mark in goals.marks(campaign) if mark.label not in done]
        if pending and progress.count_now(session, campaign, now) >= pending[0].threshold:
            found.append(campaign.id)
    session.rollback()
    return found


def _recorded(session: Session, campaign_id: int | None = None) -> dict[int, set[str]]:
    query = select(Milestone.campaign_id, Milestone.label)
    if campaign_id is not None:
        query = query.where(Milestone.campaign_id == campaign_id)
    recorded: dict[int, set[str]] = {}
    for owner, label in session.execute(query):
        recorded.setdefault(owner, set()).add(label)
    return recorded


def _record(session: Session, campaign_id: int, now: datetime) -> list[Crossing]:
    with locks.write_transaction(session):
        # The campaign's row lock queues this campaign's detectors (on SQLite, BEGIN IMMEDIATE
        # queues every writer), so each counts after the one before committed.
        campaign = session.scalar(
            select(Campaign).where(Campaign.id == campaign_id).with_for_update()
        )
        if campaign is None:
            return []
        count = progress.count_now(session, campaign, now)
        recorded = _recorded(session, campaign_id).get(campaign_id, set())
        crossed = []
        for mark in goals.marks(campaign):
            if mark.label in recorded or count < mark.threshold:
                continue
            if _insert(session, campaign, mark, count, now, announced=True):
                recorded.add(mark.label)
                crossed.append(mark)
        crossings = []
        for mark in crossed:
            crossing = Crossing(campaign.id, campaign.slug, mark.label, mark.threshold, count, now)
            outbox.enqueue(session, campaign.id, notice(campaign, mark, crossing, recorded))
            crossings.append(crossing)
        if any(mark.goal is not None for mark in crossed):
            # A goal's reached_at is in the public figures: caches count them again.
            campaign.updated_at = max(campaign.updated_at, now)
    return crossings


def settle(
    session: Session, campaign: Campaign, before: Collection[str], now: datetime
) -> list[str]:
    """Record, without a notice, the milestones new to ``campaign`` (labels not in ``before``)
    that its count has already passed: setting a milestone behind the count is not crossing
    it. Runs in the caller's transaction (a settings save) and never commits."""
    count = progress.count_now(session, campaign, now)
    settled = []
    for mark in goals.marks(campaign):
        if mark.label in before or count < mark.threshold:
            continue
        if _insert(session, campaign, mark, count, now, announced=False):
            settled.append(mark)
    if any(mark.goal is not None for mark in settled):
        campaign.updated_at = max(campaign.updated_at, now)
    return [mark.label for mark in settled]


def labels(campaign: Campaign) -> set[str]:
    """The labels of the campaign's milestones as set now (for settle's ``before``)."""
    return {mark.label for mark in goals.marks(campaign)}


def _insert(
    session: Session, campaign: Campaign, mark: Mark, count: int, now: datetime, *, announced: bool
) -> bool:
    """Insert the crossing unless it is there; whether this insert landed."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = session.execute(
        insert(Milestone)
        .values(
            campaign_id=campaign.id,
            label=mark.label,
            threshold=mark.threshold,
            count=count,
            crossed_at=now,
            announced=announced,
        )
        .on_conflict_do_nothing(index_elements=["campaign_id", "label"])
        .returning(Milestone.id)
    )
    return result.first() is not None


def describe(mark: Mark, first_goal: int) -> str:
    """The milestone in a few words: "the goal of 25,000", "50% of the goal (12,500)"."""
    if mark.goal is not None:
        kind = "the goal" if mark.goal == first_goal else "the stretch goal"
        return f"{kind} of {mark.goal:,}"
    if mark.label.endswith("%"):
        return f"{mark.label} of the goal ({mark.threshold:,})"
    return f"{mark.threshold:,} members"


def notice(
    campaign: Campaign, mark: Mark, crossing: Crossing, reached: Collection[str]
) -> outbox.Notice:
    """The notice the newsroom's channels receive for one crossing; ``reached`` holds the
    labels recorded so far, this crossing's included."""
    all_goals = goals.goals(campaign)
    reached_goals = {goal for goal in all_goals if goals.goal_label(goal) in reached}
    target = goals.target(all_goals, crossing.count, reached_goals)
    what = describe(mark, campaign.goal)
    text = f"{campaign.title} reached {what}: {crossing.count:,} members now."
    if crossing.count < target:
        text += f" Next: {target:,}."
    return outbox.Notice(
        kind=outbox.MILESTONE,
        key=f"milestone:{mark.label}",
        milestone=mark.label,
        subject=f"{campaign.title}: {what} reached",
        text=text,
        data={
            "slug": campaign.slug,
            "title": campaign.title,
            "label": mark.label,
            "threshold": mark.threshold,
            "count": crossing.count,
            "goal": target,
            "goals": all_goals,
            "crossed_at": crossing.crossed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cta_url": campaign.cta_url,
        },
    )

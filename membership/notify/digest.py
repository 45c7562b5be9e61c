"""The weekly digest: each Monday, last week's count, pace and projection, to every channel.

No Flask here. ``enqueue_due`` is one of the worker's ticks; the notice key names the ISO week
("digest:2026-W48"), so however many workers run it, however often, each channel gets one
digest a week. Digests stop the week after the deadline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..campaigns import figures
from ..models import Campaign, NotifyChannel, NotifyDelivery, NotifyDigest
from .outbox import DIGEST, Notice, enqueue


def week_start(now: datetime) -> datetime:
    """Monday 00:00 UTC of the week ``now`` is in."""
    day = now.astimezone(UTC).date() - timedelta(days=now.astimezone(UTC).weekday())
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def week_label(start: datetime) -> str:
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def notice(session: Session, campaign: Campaign, week: datetime, now: datetime) -> Notice:
    """The digest of the week starting ``week``, with the figures as of ``now``."""
    seen = figures.overview(session, campaign, now)
    summary = seen.summary()
    shown = summary["display"]
    label = week_label(week)
    lines = [
        f"{shown['count']} of {shown['goal']} members ({shown['percent']}).",
        f"Pace: {shown['per_day_7']} a day over 7 days, {shown['per_day_30']} over 30.",
        f"Goal at this pace: {shown['projected']}.",
    ]
    if summary["days_to_deadline"] is not None:
        lines.append(f"Days to the deadline ({campaign.deadline}): {shown['days_to_deadline']}.")
    data = {
        "slug": campaign.slug,
        "title": campaign.title,
        "week": label,
        "cta_url": campaign.cta_url,
        **{
            k: summary[k]
            for k in (
                "count",
                "goal",
                "percent",
                "status",
                "per_day_7",
                "per_day_30",
                "projected",
                "beats_deadline",
                "days_to_deadline",
            )
        },
    }
    return Notice(
        kind=DIGEST,
        key=f"digest:{label}",
        milestone=None,
        subject=f"{campaign.title}: week {label}, {shown['count']} of {shown['goal']} members",
        text="\n".join(lines),
        data=data,
    )


def _awaiting(session: Session, campaign_id: int, key: str, before: datetime) -> bool:
    """Whether a channel added before ``before`` has no row for this digest yet."""
    sent = select(NotifyDelivery.id).where(
        NotifyDelivery.channel_id == NotifyChannel.id, NotifyDelivery.notice_key == key
    )
    waiting = select(NotifyChannel.id).where(
        NotifyChannel.campaign_id == campaign_id,
        NotifyChannel.created_at < before,
        ~sent.exists(),
    )
    return session.scalars(waiting.limit(1)).first() is not None


def enqueue_due(session: Session, now: datetime) -> int:
    """Queue last week's digest for every campaign that has it on; returns rows added."""
    this_week = week_start(now)
    last_week = this_week - timedelta(days=7)
    added = 0
    rows = session.execute(
        select(Campaign, NotifyDigest.since)
        .join(NotifyDigest, NotifyDigest.campaign_id == Campaign.id)
        .order_by(Campaign.id)
    )
    for campaign, since in rows:
        if since >= this_week:
            continue  # turned on this week: its first digest is next Monday's
        if campaign.deadline and last_week.date() > campaign.deadline:
            continue
        key = f"digest:{week_label(last_week)}"
        if not _awaiting(session, campaign.id, key, this_week):
            continue  # the usual case: figures are counted only when a digest is to be sent
        # Only channels there when the week ended: a channel added today waits for next week.
        added += enqueue(
            session,
            campaign.id,
            notice(session, campaign, last_week, now),
            now=now,
            channels_added_before=this_week,
        )
    return added

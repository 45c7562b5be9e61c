"""The outbox: notices written per channel in the caller's transaction, for the worker to send.

No Flask here. ``enqueue`` never commits: whatever caused the notice (a milestone's crossing,
a digest's week) commits it, so the outbox row exists if and only if its cause does.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import NotifyChannel, NotifyDelivery, utcnow

MILESTONE, DIGEST = "milestone", "digest"


@dataclass(frozen=True)
class Notice:
    kind: str  # "milestone" or "digest"
    key: str  # unique per campaign, e.g. "milestone:50%", "digest:2026-W48"
    milestone: str | None  # the milestone's label ("50%", "10000", "goal 25000"); None for a digest
    subject: str
    text: str
    data: dict[str, Any]  # JSON-able: campaign slug, title, label, threshold, count, goal, ...


def milestone_labels(stored: str) -> list[str]:
    """A channel's ``milestones`` column as labels; empty means it hears every milestone."""
    return [label.strip() for label in stored.split(",") if label.strip()]


def hears(channel: NotifyChannel, notice: Notice) -> bool:
    """Whether this channel is told of this notice: digests go to all, milestones as chosen."""
    if notice.kind != MILESTONE:
        return True
    chosen = milestone_labels(channel.milestones)
    return not chosen or notice.milestone in chosen


def enqueue(
    session: Session,
    campaign_id: int,
    notice: Notice,
    *,
    now: datetime | None = None,
    channels_added_before: datetime | None = None,
) -> int:
    """One outbox row per channel of the campaign that hears this notice; returns rows added.

    Idempotent per (channel, notice.key): the unique constraint and an insert-if-absent make a
    second call, even a concurrent one in another transaction, add nothing. Never commits.
    ``channels_added_before`` leaves out channels added since (a digest for a week that ended
    before a channel existed is not that channel's).
    """
    if notice.kind not in (MILESTONE, DIGEST):
        raise ValueError(f"unknown notice kind {notice.kind!r}")
    now = now or utcnow()
    data = json.dumps(notice.data, sort_keys=True, default=str)
    query = select(NotifyChannel).where(NotifyChannel.campaign_id == campaign_id)
    if channels_added_before is not None:
        query = query.where(NotifyChannel.created_at < channels_added_before)
    insert = _insert_if_absent(session)
    added = 0
    for channel in session.scalars(query.order_by(NotifyChannel.id)):
        if not hears(channel, notice):
            continue
        result = session.execute(
            insert.values(
                public_id=f"ntf_{uuid.uuid4().hex}",
                channel_id=channel.id,
                campaign_id=campaign_id,
                notice_key=notice.key,
                kind=notice.kind,
                milestone=notice.milestone,
                subject=notice.subject[:300],
                text=notice.text,
                data=data,
                status="pending",
                attempts=0,
                created_at=now,
                due_at=now,
                last_error="",
            )
            .on_conflict_do_nothing(index_elements=["channel_id", "notice_key"])
            .returning(NotifyDelivery.id)
        )
        added += result.first() is not None
    return added


def _insert_if_absent(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(NotifyDelivery)
    if dialect == "sqlite":
        return sqlite.insert(NotifyDelivery)
    raise RuntimeError(f"the outbox needs PostgreSQL or SQLite, not {dialect}")


def notice_of(row: NotifyDelivery) -> Notice:
    """The notice an outbox row carries, as the channels render it."""
    return Notice(
        kind=row.kind,
        key=row.notice_key,
        milestone=row.milestone,
        subject=row.subject,
        text=row.text,
        data=json.loads(row.data),
    )

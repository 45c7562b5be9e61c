"""The ledger by source, for the dashboard: active members, linked readers, last delivery.

No Flask, no provider: sources are the names their keys and events carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Event, Member


@dataclass(frozen=True)
class SourceFigures:
    source: str
    active_members: int  # accounts in this source with an active membership now
    last_event_at: datetime | None  # when its latest event arrived
    failed_events: int  # its events stored as failed, waiting for a replay


@dataclass(frozen=True)
class Summary:
    sources: list[SourceFigures]
    # Readers counted once although they pay through two or more accounts (in one source or
    # several): the count the linking saves.
    linked_readers: int
    linked_accounts: int


def summary(session: Session, now: datetime) -> Summary:
    """Every source seen in the ledger, and how many readers pay through several accounts."""
    active = dict(
        session.execute(
            select(Member.source, func.count())
            .where(Member.active_until > now)
            .group_by(Member.source)
        ).all()
    )
    events = {
        source: (last, failed)
        for source, last, failed in session.execute(
            select(
                Event.source,
                func.max(Event.received_at),
                func.count().filter(Event.outcome == "failed"),
            ).group_by(Event.source)
        )
    }
    names = sorted(set(active) | set(events))
    # Persons with two or more accounts, each active now.
    shared = (
        select(Member.person_key, func.count().label("accounts"))
        .where(Member.active_until > now)
        .group_by(Member.person_key)
        .having(func.count() > 1)
        .subquery()
    )
    readers, accounts = session.execute(
        select(func.count(), func.coalesce(func.sum(shared.c.accounts), 0)).select_from(shared)
    ).one()
    session.rollback()
    return Summary(
        sources=[
            SourceFigures(
                source=name,
                active_members=active.get(name, 0),
                last_event_at=events.get(name, (None, 0))[0],
                failed_events=events.get(name, (None, 0))[1],
            )
            for name in names
        ],
        linked_readers=readers,
        linked_accounts=int(accounts),
    )

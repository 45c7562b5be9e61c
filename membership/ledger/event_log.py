"""The stored events as the dashboard reads them: a page of the log with its filters, one
event, and the webhook health figures (the last delivery, recent failures). No Flask here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Event

# The outcomes an event is stored with (a duplicate is counted on the event it repeats).
OUTCOMES = ("applied", "ignored", "failed")
PER_PAGE = 50


@dataclass(frozen=True)
class Page:
    events: list[Event]
    number: int
    has_next: bool
    types: list[str]  # every type stored, for the filter
    totals: dict[str, int]  # events stored per outcome


def page(
    session: Session,
    number: int,
    *,
    outcome: str = "",
    event_type: str = "",
    per_page: int = PER_PAGE,
) -> Page:
    """Events ``number`` (from 1) of the log, newest first, of one outcome and type if given."""
    query = select(Event)
    if outcome:
        query = query.where(Event.outcome == outcome)
    if event_type:
        query = query.where(Event.type == event_type)
    rows = list(
        session.scalars(
            query.order_by(Event.received_at.desc(), Event.id.desc())
            .offset((number - 1) * per_page)
            .limit(per_page + 1)  # one more tells whether there is a next page
        )
    )
    types = session.scalars(select(Event.type).distinct().order_by(Event.type))
    totals = session.execute(select(Event.outcome, func.count()).group_by(Event.outcome))
    return Page(
        events=rows[:per_page],
        number=number,
        has_next=len(rows) > per_page,
        types=list(types),
        totals={name: n for name, n in totals},
    )


def get_event(session: Session, source: str, event_id: str) -> Event | None:
    return session.get(Event, (source, event_id))


def last_received_at(session: Session) -> datetime | None:
    """When the latest event arrived; None before the first."""
    return session.scalar(select(func.max(Event.received_at)))


def failed_since(session: Session, since: datetime) -> int:
    """How many events processed since ``since`` are stored as failed."""
    return session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.outcome == "failed", Event.processed_at >= since)
    )

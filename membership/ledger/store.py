"""The event store: every delivered event kept once per source and id, with its outcome.

No Flask and no provider here. A source parses a delivery into an ``Event`` (personal data
already removed) and hands it over with its ``translate`` function; the store keeps the event
and applies its change in one transaction, so a redelivery changes nothing and a failure
leaves nothing half-written.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..models import Event as StoredEvent
from ..models import utcnow
from . import locks
from .rules import Change, Ignored, apply_change


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"
    FAILED = "failed"


@dataclass(frozen=True)
class Event:
    """One delivered event, parsed and scrubbed once: what the store keeps and sources read."""

    source: str
    id: str
    type: str
    created: datetime
    livemode: bool | None
    api_version: str | None
    body: Mapping[str, Any]  # the whole event as delivered, personal data removed
    payload: str  # ``body`` as stored: compact JSON text
    # The keyed fingerprint of the email the event named (``identity.fingerprint``), taken by
    # the source before the email was removed; None where there was none.
    identity: str | None = None


# What the event row keeps of an Event, under the same names (the body is kept as payload).
_KEPT = ("source", "id", "type", "created", "livemode", "api_version", "payload", "identity")

# What a source does with an event: the ledger change it means, or why it means nothing.
Translate = Callable[[Event], Change | Ignored]


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    detail: str = ""


class StorageError(RuntimeError):
    """The event could not be stored at all; the sender should retry later."""


def payload_of(body: Mapping[str, Any]) -> str:
    """The stored text of an event body."""
    return json.dumps(body, separators=(",", ":"))


def record_event(
    session: Session, event: Event, translate: Translate, *, now: datetime | None = None
) -> Result:
    """Store one delivered event exactly once and apply its change in the same transaction.

    Raises StorageError when the database could not be used (down, locked, read-only) or not
    even the failure could be recorded. Any other error, an event the source cannot read
    included, is recorded as the event's failure, to be retried.
    """
    now = now or utcnow()
    try:
        duplicate = _count_duplicate(session, event)
        if duplicate is not None:
            return duplicate
        with locks.write_transaction(session):
            return _record(session, event, translate, now)
    except OperationalError as exc:
        # The database, not the event: nothing was written, and the sender should retry.
        raise StorageError(f"database unavailable for event {event.id}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - any failure is recorded, then retried
        error = f"{type(exc).__name__}: {exc}"
    try:
        with locks.write_transaction(session):
            _store_failure(session, event, error, now)
    except Exception as exc:
        raise StorageError(f"could not record event {event.id}: {exc}") from exc
    return Result(Outcome.FAILED, error)


def _where(event_source: str, event_id: str) -> tuple[Any, Any]:
    return StoredEvent.source == event_source, StoredEvent.id == event_id


def _count_duplicate(session: Session, event: Event) -> Result | None:
    """A redelivery of a settled event, counted without the ledger's locks; None otherwise.

    A settled outcome (applied or ignored) never changes, so one atomic UPDATE can answer it:
    copies, which providers send often, never wait for the locks that writers of new events
    hold. A plain read comes first, so a new event takes no write lock here (on SQLite, the
    file's).
    """
    if session.in_transaction():
        session.rollback()
    settled = (Outcome.APPLIED.value, Outcome.IGNORED.value)
    seen = session.scalar(select(StoredEvent.outcome).where(*_where(event.source, event.id)))
    session.rollback()
    if seen not in settled:
        return None
    session.connection(execution_options={locks.WRITE_OPTION: True})
    try:
        outcome = session.execute(
            update(StoredEvent)
            .where(*_where(event.source, event.id), StoredEvent.outcome.in_(settled))
            .values(duplicates=StoredEvent.duplicates + 1)
            .returning(StoredEvent.outcome)
        ).scalar_one_or_none()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return None if outcome is None else Result(Outcome.DUPLICATE, f"already {outcome}")


def _record(session: Session, event: Event, translate: Translate, now: datetime) -> Result:
    locks.lock(session, (locks.EVENT, {f"{event.source}:{event.id}"}))
    stored = session.get(StoredEvent, (event.source, event.id))
    if stored is not None and stored.outcome != Outcome.FAILED:
        # An SQL increment: the lock-free duplicate path may count a copy at the same time.
        stored.duplicates = StoredEvent.duplicates + 1
        return Result(Outcome.DUPLICATE, f"already {stored.outcome}")

    moved: set[str] = set()
    change = translate(event)
    if isinstance(change, Ignored):
        result = Result(Outcome.IGNORED, change.reason)
    else:
        moved = apply_change(session, change)  # locks the keys it touches first
        result = Result(Outcome.APPLIED, "")

    _set_outcome(session, stored, event, result, now)
    if moved:
        session.flush()
        locks.bump_version(session, now)
    return result


def _store_failure(session: Session, event: Event, error: str, now: datetime) -> None:
    locks.lock(session, (locks.EVENT, {f"{event.source}:{event.id}"}))
    stored = session.get(StoredEvent, (event.source, event.id))
    if stored is not None and stored.outcome != Outcome.FAILED:
        return  # another delivery succeeded meanwhile; its outcome stands
    _set_outcome(session, stored, event, Result(Outcome.FAILED, error[:2000]), now)


def _set_outcome(
    session: Session, stored: StoredEvent | None, event: Event, result: Result, now: datetime
) -> None:
    """Record what became of a delivery, on the event's one row (made on first delivery)."""
    if stored is None:
        kept = {name: getattr(event, name) for name in _KEPT}
        stored = StoredEvent(**kept, received_at=now, attempts=0, duplicates=0)
        session.add(stored)
    stored.outcome = result.outcome.value
    stored.detail = result.detail
    stored.attempts += 1
    stored.processed_at = now


def event_of(stored: StoredEvent) -> Event:
    """The event a stored row holds, as its source first handed it over."""
    kept = {name: getattr(stored, name) for name in _KEPT}
    return Event(**kept, body=json.loads(stored.payload))


def stored_event(session: Session, source: str, event_id: str) -> Event | None:
    stored = session.get(StoredEvent, (source, event_id))
    event = None if stored is None else event_of(stored)
    session.rollback()
    return event


def stored_rows(session: Session) -> Iterator[StoredEvent]:
    """Every stored event row in the order received (recount turns each into an Event)."""
    query = select(StoredEvent).order_by(
        StoredEvent.received_at, StoredEvent.source, StoredEvent.id
    )
    yield from session.scalars(query.execution_options(yield_per=1000))


def replay(session: Session, source: str, event_id: str, translate: Translate) -> Result | None:
    """Process a stored event again from its payload; None if no such event is stored.

    Idempotent like a redelivery: a failed event is retried, any other is a duplicate.
    """
    event = stored_event(session, source, event_id)
    return None if event is None else record_event(session, event, translate)


def failed_events(session: Session, source: str | None = None) -> list[tuple[str, str]]:
    """(source, id) of every event recorded as failed, oldest first."""
    query = select(StoredEvent.source, StoredEvent.id).where(
        StoredEvent.outcome == Outcome.FAILED.value
    )
    if source is not None:
        query = query.where(StoredEvent.source == source)
    failed = [(s, i) for s, i in session.execute(query.order_by(StoredEvent.received_at))]
    session.rollback()
    return failed


def prune_ignored(session: Session, before: datetime) -> int:
    """Delete ignored events received before ``before``; the count deleted."""
    result = session.execute(
        delete(StoredEvent).where(
            StoredEvent.outcome == Outcome.IGNORED.value, StoredEvent.received_at < before
        )
    )
    session.commit()
    return result.rowcount

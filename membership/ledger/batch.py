"""Many events stored and applied at once: an import's rows. No Flask, no provider here.

``store.record_event`` commits once per event, which is right for a webhook and far too slow
for a file of 100,000 rows. ``record`` stores events and applies their changes in slices,
one transaction each: a change never lands without its event, a failure rolls back the
slice it happened in, and an interrupted batch is completed by sending it again (stored
events are skipped). A slice is as large as a webhook can wait for: on PostgreSQL, where
webhooks run beside it and only queue on the keys they share, ``SLICE`` events, whose
advisory locks fit PostgreSQL's lock table; on SQLite, where every writer waits for the
whole file, ``SQLITE_SLICE``, a few tenths of a second of writing.

On PostgreSQL each slice takes every advisory lock it needs first, in the class and key order
``locks`` documents, so a webhook meeting a batch waits for it and the two never deadlock.
The slice's changes are then applied in bulk (``bulk_apply``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, text
from sqlalchemy.orm import Session

from ..models import Event as StoredEvent
from . import bulk_apply, bulk_rows, locks, rules
from .rules import Change, Ignored, RecurringChange
from .store import Event, Outcome, Translate

# Events per transaction on PostgreSQL: about five advisory locks each, well inside the
# lock table (max_locks_per_transaction 64 x max_connections 100, shared by all sessions).
SLICE = 500
# Events per transaction on SQLite, which has no such table: larger slices commit less often
# and so write each page of the indexes fewer times, while a webhook still waits well under
# a second for the write lock.
SQLITE_SLICE = 5000
SQLITE_CACHE_KIB = 64 * 1024
CHUNK = bulk_rows.CHUNK

Key = TypeVar("Key")
EVENTS = StoredEvent.__table__


@dataclass(frozen=True)
class Recorded:
    applied: int = 0
    ignored: int = 0
    already: int = 0  # events the store already held: left as they are

    def __add__(self, other: Recorded) -> Recorded:
        return Recorded(
            self.applied + other.applied, self.ignored + other.ignored, self.already + other.already
        )


def slice_size(session: Session) -> int:
    return SLICE if locks.is_postgresql(session) else SQLITE_SLICE


def record(
    session: Session,
    events: Sequence[Event],
    translate: Translate,
    now: datetime,
    *,
    last: Callable[[Session], None] | None = None,
) -> Recorded:
    """Store new events and apply their changes, a slice per transaction; ``last`` runs in
    the final transaction (an import's audit entry, kept exactly when its last slice is).

    Events the store already holds are skipped: stored events are settled. Only recurring
    changes may be batched: a refund finds its memberships only once its payment is locked,
    so its locks cannot all be taken first.
    """
    size = slice_size(session)
    total = Recorded()
    pieces = [events[i : i + size] for i in range(0, len(events), size)] or [[]]
    for n, piece in enumerate(pieces):
        with locks.write_transaction(session):
            tune_slice(session)
            total += _record_slice(session, piece, translate, now)
            if last is not None and n == len(pieces) - 1:
                last(session)
    return total


def _record_slice(
    session: Session, events: Sequence[Event], translate: Translate, now: datetime
) -> Recorded:
    held = _existing_ids(session, events)
    fresh = [e for e in events if (e.source, e.id) not in held]
    translated = [(event, translate(event)) for event in fresh]
    changes = [c for _, c in translated if not isinstance(c, Ignored)]
    for change in changes:
        if not isinstance(change, RecurringChange):
            raise ValueError(f"a batch cannot apply a {type(change).__name__}")
    lock_all(session, {f"{e.source}:{e.id}" for e in fresh}, set(), changes)
    # Locked now: nobody stores these ids meanwhile, but one may have before we locked.
    if fresh:
        held = _existing_ids(session, fresh)
        translated = [(e, c) for e, c in translated if (e.source, e.id) not in held]
    bulk_rows.insert(session, EVENTS, [_row(e, c, now) for e, c in translated])
    apply(session, [c for _, c in translated if isinstance(c, RecurringChange)], now)
    ignored = sum(isinstance(c, Ignored) for _, c in translated)
    return Recorded(len(translated) - ignored, ignored, len(events) - len(translated))


def apply(session: Session, changes: list[RecurringChange], now: datetime) -> None:
    """Apply these changes in the caller's transaction, which holds their locks."""
    if changes and bulk_apply.apply(session, changes, now):
        locks.bump_version(session, now)
    # Written below the ORM: objects the session loaded before must be read again.
    session.expire_all()


def tune_slice(session: Session) -> None:
    """Set this transaction up for a slice's many rows.

    PostgreSQL: plan each statement for its own parameters. psycopg prepares a statement run
    five times, and PostgreSQL may then reuse one generic plan; planned while an import's
    tables were nearly empty, that plan scans them whole, and each slice of a large first
    import got slower than the last.

    SQLite: a page cache of up to 64 MB (the default is 2 MB) for this connection, so a
    slice's inserts find the index pages the previous slice read still in memory. It stays
    with the connection, which only takes the memory as it reads pages.
    """
    if locks.is_postgresql(session):
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    else:
        session.execute(text(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}"))


def lock_all(
    session: Session, events: set[str], memberships: set[str], changes: Iterable[RecurringChange]
) -> None:
    """Take every lock a slice needs, in locks.py's order: events, memberships, members (of
    those memberships and changes), then the persons those members belong to now or may
    belong to after the slice. Two statements, however many keys."""
    if not locks.is_postgresql(session):
        return  # SQLite: the write transaction already holds the whole file
    changes = list(changes)
    members = {rules.key(c.source, c.member) for c in changes}
    # The members of memberships named apart from the changes (an undo's), read before they
    # are locked: a membership's member never changes (rules.py refuses that), so it stays so.
    named = bulk_rows.rows_where(session, bulk_apply.MEMBERSHIPS, "key", memberships)
    members |= {m["member_key"] for m in named}
    memberships = memberships | {rules.key(c.source, c.membership) for c in changes}
    locks.lock(
        session, (locks.EVENT, events), (locks.MEMBERSHIP, memberships), (locks.MEMBER, members)
    )
    persons = members | {c.identity for c in changes if c.identity}
    for member in bulk_rows.rows_where(session, bulk_apply.MEMBERS, "key", members):
        persons |= {member["person_key"], member["identity"]} - {None}
    locks.lock(session, (locks.PERSON, persons))


def _existing_ids(session: Session, events: Sequence[Event]) -> set[tuple[str, str]]:
    held: set[tuple[str, str]] = set()
    for source in {e.source for e in events}:
        ids = [e.id for e in events if e.source == source]
        found = bulk_rows.rows_where(session, EVENTS, "id", ids, columns=("id",), source=source)
        held |= {(source, row["id"]) for row in found}
    return held


def _row(event: Event, change: Change | Ignored, now: datetime) -> dict[str, Any]:
    ignored = isinstance(change, Ignored)
    row = bulk_rows.blank(EVENTS)
    row.update(
        source=event.source,
        id=event.id,
        type=event.type,
        created=event.created,
        livemode=event.livemode,
        api_version=event.api_version,
        identity=event.identity,
        payload=event.payload,
        outcome=(Outcome.IGNORED if ignored else Outcome.APPLIED).value,
        detail=change.reason if isinstance(change, Ignored) else "",
        duplicates=0,
        attempts=1,
        received_at=now,
        processed_at=now,
    )
    return row


def chunks(keys: list[Key]) -> Iterator[list[Key]]:
    for start in range(0, len(keys), CHUNK):
        yield keys[start : start + CHUNK]


def chunked(
    session: Session, query: Callable[[list[Any]], Select[Any]], keys: list[Any]
) -> list[Any]:
    """The rows of ``query(chunk)`` for every chunk of ``keys``: one IN list per chunk."""
    found: list[Any] = []
    for chunk in chunks(keys):
        found += session.scalars(query(chunk)).all()
    return found

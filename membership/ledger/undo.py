"""Taking events back out of the ledger: delete them and rebuild what they touched. No Flask.

The rules are order-independent, so a membership rebuilt from the events that remain is
exactly what those events alone would have made: ``rebuild`` deletes the memberships the
events named (and the members and persons left with nothing), then applies every remaining
event of the source that names them again. Like ``batch.record`` it works in slices, each
one transaction holding all its locks.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, exists, select
from sqlalchemy.orm import Session

from ..models import Event as StoredEvent
from ..models import Member, Membership
from . import batch, bulk_apply, bulk_rows, locks, rules
from .bulk_apply import MEMBERS
from .rules import Change, Ignored, RecurringChange
from .store import Translate, event_of

EVENTS = StoredEvent.__table__


def rebuild(
    session: Session,
    source: str,
    event_ids: Collection[str],
    translate: Translate,
    now: datetime,
    *,
    last: Callable[[Session], None] | None = None,
) -> set[str]:
    """Delete these events of ``source`` and rebuild the memberships they named from the
    source's other events; the keys of those memberships. ``last`` runs in the final
    transaction (the audit entry).

    The remaining events are read when it starts: run one import or undo of a source at a
    time (an import of another source, or webhooks, may run alongside).
    """
    doomed = set(event_ids)
    named: dict[str | None, list[str]] = {}
    for chunk in batch.chunks(sorted(doomed)):
        for row in session.execute(_events_of(source)(chunk)):
            named.setdefault(_membership_of(translate(event_of(row))), []).append(row.id)
    remaining: dict[str, list[RecurringChange]] = {}
    query = select(EVENTS).where(EVENTS.c.source == source)
    for row in session.execute(query.execution_options(yield_per=1000)):
        if row.id not in doomed:
            change = translate(event_of(row))
            key = _membership_of(change)
            if key in named and isinstance(change, RecurringChange):
                remaining.setdefault(key, []).append(change)
    session.rollback()
    keys = sorted(k for k in named if k is not None)
    size = batch.slice_size(session)
    pieces = [keys[i : i + size] for i in range(0, len(keys), size)] or [[]]
    for n, piece in enumerate(pieces):
        ids = [i for k in piece for i in named[k]] + (named.get(None, []) if n == 0 else [])
        changes = [c for k in piece for c in remaining.get(k, [])]
        with locks.write_transaction(session):
            _rebuild_slice(session, source, ids, set(piece), changes, now)
            if last is not None and n == len(pieces) - 1:
                last(session)
    return set(keys)


def _rebuild_slice(
    session: Session,
    source: str,
    event_ids: list[str],
    memberships: set[str],
    changes: list[RecurringChange],
    now: datetime,
) -> None:
    batch.lock_all(session, {f"{source}:{i}" for i in event_ids}, memberships, changes)
    old = bulk_rows.rows_where(session, bulk_apply.MEMBERSHIPS, "key", memberships)
    members = {m["member_key"] for m in old}
    persons = {m["person_key"] for m in bulk_rows.rows_where(session, MEMBERS, "key", members)}
    for ids in batch.chunks(sorted(event_ids)):
        session.execute(
            delete(StoredEvent).where(StoredEvent.source == source, StoredEvent.id.in_(ids))
        )
    bulk_rows.delete_where(session, bulk_apply.MEMBERSHIPS, "key", memberships)
    for chunk in batch.chunks(sorted(members)):
        has_memberships = exists().where(Membership.member_key == Member.key)
        session.execute(delete(Member).where(Member.key.in_(chunk), ~has_memberships))
    # What is left of those members and persons (another source's member of the same person,
    # say) is derived again, with what the remaining events make.
    bulk_apply.apply(session, changes, now, members=members, persons=persons)
    locks.bump_version(session, now)
    session.expire_all()


def _membership_of(change: Change | Ignored) -> str | None:
    if isinstance(change, RecurringChange):
        return rules.key(change.source, change.membership)
    return None


def _events_of(source: str) -> Callable[[list[str]], Select[Any]]:
    return lambda ids: select(EVENTS).where(EVENTS.c.source == source, EVENTS.c.id.in_(ids))

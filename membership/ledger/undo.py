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
from ..models import Member, Membership, Person
from . import batch, locks, rules
from . import persons as ledger_persons
from .rules import Change, Ignored, RecurringChange
from .store import Translate, event_of


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
    for row in batch.chunked(session, _events_of(source), sorted(doomed)):
        named.setdefault(_membership_of(translate(event_of(row))), []).append(row.id)
    remaining: dict[str, list[RecurringChange]] = {}
    query = select(StoredEvent).where(StoredEvent.source == source)
    for row in session.scalars(query.execution_options(yield_per=1000)):
        if row.id not in doomed:
            change = translate(event_of(row))
            key = _membership_of(change)
            if key in named and isinstance(change, RecurringChange):
                remaining.setdefault(key, []).append(change)
    session.rollback()
    keys = sorted(k for k in named if k is not None)
    pieces = [keys[i : i + batch.SLICE] for i in range(0, len(keys), batch.SLICE)] or [[]]
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
    old = batch.chunked(session, batch.memberships_by_key(), sorted(memberships))
    members = sorted({m.member_key for m in old})
    persons = sorted(
        {m.person_key for m in batch.chunked(session, batch.members_by_key(), members)}
    )
    for ids in batch.chunks(sorted(event_ids)):
        session.execute(
            delete(StoredEvent).where(StoredEvent.source == source, StoredEvent.id.in_(ids))
        )
    for chunk in batch.chunks(sorted(memberships)):
        session.execute(delete(Membership).where(Membership.key.in_(chunk)))
    for chunk in batch.chunks(members):
        has_memberships = exists().where(Membership.member_key == Member.key)
        session.execute(delete(Member).where(Member.key.in_(chunk), ~has_memberships))
    for chunk in batch.chunks(persons):
        has_members = exists().where(Member.person_key == Person.key)
        session.execute(delete(Person).where(Person.key.in_(chunk), ~has_members))
    session.expire_all()
    batch.apply(session, changes, now)
    session.flush()
    # A person that kept other members (another source's) lost one: rederive it from them.
    kept = set()
    for chunk in batch.chunks(persons):
        kept |= set(session.scalars(select(Member.key).where(Member.person_key.in_(chunk))))
    ledger_persons.refresh(session, kept, None)
    session.flush()
    locks.bump_version(session, now)


def _membership_of(change: Change | Ignored) -> str | None:
    if isinstance(change, RecurringChange):
        return rules.key(change.source, change.membership)
    return None


def _events_of(source: str) -> Callable[[list[str]], Select[Any]]:
    return lambda ids: select(StoredEvent).where(
        StoredEvent.source == source, StoredEvent.id.in_(ids)
    )

"""Many events in one transaction: an import's rows stored and applied, or taken back.

No Flask and no provider here. ``store.record_event`` commits once per event, which is right
for a webhook and far too slow for a file of 100,000 rows. ``record`` stores a batch of new
events and applies their changes inside the caller's ``locks.write_transaction``, and
``rebuild`` takes events back out and rebuilds what they touched from the events that remain.
Both use ``rules.apply_change`` per change, so a batch obeys exactly the rules a webhook does.

On PostgreSQL both take every advisory lock they will need first, in the class and key order
``locks`` documents: a webhook meeting a batch waits for it, and the two never deadlock.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, insert, select
from sqlalchemy.orm import Session

from ..models import Event as StoredEvent
from ..models import Member, Membership, Person
from . import locks, rules
from .rules import Change, Ignored, RecurringChange
from .store import Event, Outcome, Translate, event_of

# Keys per IN (...) list: well under SQLite's bound-parameter limit.
CHUNK = 500

Key = TypeVar("Key")


@dataclass(frozen=True)
class Recorded:
    applied: int
    ignored: int
    already: int  # events the store already held: left as they are


def record(
    session: Session, events: Sequence[Event], translate: Translate, now: datetime
) -> Recorded:
    """Store new events and apply their changes, in the caller's write transaction.

    Events the store already holds are skipped (a batch is a delivery too, and stored events
    are settled). Only recurring changes and identity links may be batched: a refund finds
    its memberships only once its payment is locked, so its locks cannot be taken first.
    """
    held = _existing_ids(session, events)
    fresh = [e for e in events if (e.source, e.id) not in held]
    translated = [(event, translate(event)) for event in fresh]
    changes = [c for _, c in translated if not isinstance(c, Ignored)]
    for change in changes:
        if not isinstance(change, RecurringChange):
            raise ValueError(f"a batch cannot apply a {type(change).__name__}")
    memberships = {rules.key(c.source, c.membership) for c in changes}
    members = {rules.key(c.source, c.member) for c in changes}
    _lock_all(session, {f"{e.source}:{e.id}" for e in fresh}, memberships, members, changes)
    # Locked now: nobody stores these ids meanwhile, but one may have before we locked.
    held = _existing_ids(session, fresh)
    translated = [(e, c) for e, c in translated if (e.source, e.id) not in held]
    loaded = _load(session, memberships, members)  # noqa: F841 - keeps them in the session
    if translated:
        session.execute(insert(StoredEvent), [_row(e, c, now) for e, c in translated])
    moved: set[str] = set()
    for _, change in translated:
        if not isinstance(change, Ignored):
            moved |= rules.apply_change(session, change)
    if moved:
        session.flush()
        locks.bump_version(session, now)
    ignored = sum(isinstance(c, Ignored) for _, c in translated)
    return Recorded(len(translated) - ignored, ignored, len(events) - len(translated))


def rebuild(
    session: Session,
    source: str,
    event_ids: Collection[str],
    translate: Translate,
    now: datetime,
) -> set[str]:
    """Delete these events of ``source`` and rebuild the memberships they named from the
    source's remaining events, in the caller's write transaction; the memberships' keys.

    The memberships (and members left without any) are deleted and every remaining event of
    the source that names them is applied again: as the rules are order-independent, that
    gives exactly what the remaining events alone would have given.
    """
    event_ids = set(event_ids)
    doomed = [event_of(row) for row in _chunked(session, _events_of(source), list(event_ids))]
    named = {_membership_of(translate(e)) for e in doomed} - {None}
    remaining = [
        (e, c)
        for e in _all_events(session, source)
        if e.id not in event_ids
        for c in [translate(e)]
        if _membership_of(c) in named
    ]
    old = list(_chunked(session, _memberships_by_key(), list(named)))
    member_keys = {m.member_key for m in old}
    changes = [c for _, c in remaining if isinstance(c, RecurringChange)]
    member_keys |= {rules.key(c.source, c.member) for c in changes}
    _lock_all(session, {f"{source}:{i}" for i in event_ids}, named, member_keys, changes)
    members = list(_chunked(session, _members_by_key(), sorted(member_keys)))
    persons = {m.person_key for m in members}
    for ids in _chunks(sorted(event_ids)):
        session.execute(
            delete(StoredEvent).where(StoredEvent.source == source, StoredEvent.id.in_(ids))
        )
    for keys in _chunks(sorted(named)):
        session.execute(delete(Membership).where(Membership.key.in_(keys)))
    for keys in _chunks(sorted(member_keys)):
        orphans = select(Membership.key).where(Membership.member_key == Member.key)
        session.execute(
            delete(Member).where(Member.key.in_(keys), ~orphans.exists()),
        )
    session.expire_all()
    for _, change in remaining:
        if not isinstance(change, Ignored):
            rules.apply_change(session, change)
    session.flush()
    for person in sorted(persons):
        # Persons whose members were deleted and not made again: rederived, or removed.
        rules._refresh_person(session, person)  # noqa: SLF001 - see the report: wants a public name
    session.flush()
    locks.bump_version(session, now)
    return named


def _membership_of(change: Change | Ignored) -> str | None:
    if isinstance(change, RecurringChange):
        return rules.key(change.source, change.membership)
    return None


def _lock_all(
    session: Session,
    events: set[str],
    memberships: set[str],
    members: set[str],
    changes: Iterable[RecurringChange],
) -> None:
    """Take every lock the batch needs, in locks.py's order: events, memberships, members,
    then the persons those members belong to now or may belong to after the batch."""
    if not locks.is_postgresql(session):
        return  # SQLite: the write transaction already holds the whole file
    locks.lock(
        session, (locks.EVENT, events), (locks.MEMBERSHIP, memberships), (locks.MEMBER, members)
    )
    persons = set(members) | {c.identity for c in changes if c.identity}
    for member in _chunked(session, _members_by_key(), sorted(members)):
        persons |= {member.person_key, member.identity} - {None}
    locks.lock(session, (locks.PERSON, persons))


def _load(session: Session, memberships: set[str], members: set[str]) -> list[Any]:
    """Read the batch's memberships, members and persons in a few queries, so each change's
    reads find them in the session instead of asking the database one by one."""
    loaded: list[Any] = list(_chunked(session, _memberships_by_key(), sorted(memberships)))
    found = list(_chunked(session, _members_by_key(), sorted(members)))
    persons = sorted({m.person_key for m in found} | {m.identity for m in found if m.identity})
    loaded += found
    loaded += _chunked(session, lambda keys: select(Person).where(Person.key.in_(keys)), persons)
    return loaded


def _existing_ids(session: Session, events: Sequence[Event]) -> set[tuple[str, str]]:
    held: set[tuple[str, str]] = set()
    for source in {e.source for e in events}:
        ids = [e.id for e in events if e.source == source]
        held |= {(source, i) for i in _chunked(session, _ids_of(source), ids)}
    return held


def _ids_of(source: str) -> Callable[[list[str]], Select[Any]]:
    return lambda ids: select(StoredEvent.id).where(
        StoredEvent.source == source, StoredEvent.id.in_(ids)
    )


def _row(event: Event, change: Change | Ignored, now: datetime) -> dict[str, Any]:
    ignored = isinstance(change, Ignored)
    return {
        "source": event.source,
        "id": event.id,
        "type": event.type,
        "created": event.created,
        "livemode": event.livemode,
        "api_version": event.api_version,
        "identity": event.identity,
        "payload": event.payload,
        "outcome": (Outcome.IGNORED if ignored else Outcome.APPLIED).value,
        "detail": change.reason if isinstance(change, Ignored) else "",
        "duplicates": 0,
        "attempts": 1,
        "received_at": now,
        "processed_at": now,
    }


def _all_events(session: Session, source: str) -> Iterator[Event]:
    query = select(StoredEvent).where(StoredEvent.source == source)
    for row in session.scalars(query.execution_options(yield_per=1000)):
        yield event_of(row)


def _events_of(source: str) -> Callable[[list[str]], Select[Any]]:
    return lambda ids: select(StoredEvent).where(
        StoredEvent.source == source, StoredEvent.id.in_(ids)
    )


def _memberships_by_key() -> Callable[[list[str]], Select[Any]]:
    return lambda keys: select(Membership).where(Membership.key.in_(keys))


def _members_by_key() -> Callable[[list[str]], Select[Any]]:
    return lambda keys: select(Member).where(Member.key.in_(keys))


def _chunks(keys: list[Key]) -> Iterator[list[Key]]:
    for start in range(0, len(keys), CHUNK):
        yield keys[start : start + CHUNK]


def _chunked(
    session: Session, query: Callable[[list[Any]], Select[Any]], keys: list[Any]
) -> list[Any]:
    """The rows of ``query(chunk)`` for every chunk of ``keys``: one IN list per chunk."""
    found: list[Any] = []
    for chunk in _chunks(keys):
        found += session.scalars(query(chunk)).all()
    return found

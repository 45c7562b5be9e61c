"""Many events stored and applied at once: an import's rows. No Flask, no provider here.

``store.record_event`` commits once per event, which is right for a webhook and far too slow
for a file of 100,000 rows. ``record`` stores events and applies their changes in slices of
``SLICE`` events, one transaction each: a change never lands without its event, a webhook
waits for at most one slice, and a slice's advisory locks fit PostgreSQL's lock table (a few
thousand by default, not the 400,000 a whole file would need). An interrupted batch is
completed by sending it again: stored events are skipped.

On PostgreSQL each slice takes every advisory lock it needs first, in the class and key order
``locks`` documents, so a webhook meeting a batch waits for it and the two never deadlock.
Changes that make a membership, member and person the ledger has never seen are inserted in
bulk; all others go through ``rules.apply_change`` one by one (see ``_first_sights``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, insert, select, text
from sqlalchemy.orm import Session

from ..models import FOREVER, Member, Membership, Person
from ..models import Event as StoredEvent
from . import locks, rules
from .rules import Change, Ignored, RecurringChange, State
from .store import Event, Outcome, Translate

# Keys per IN (...) list or lock statement: well under SQLite's bound-parameter limit.
CHUNK = 500
# Events per transaction: about four advisory locks each, well inside PostgreSQL's default
# lock table (max_locks_per_transaction 64 x max_connections 100, shared by all sessions).
SLICE = 500

Key = TypeVar("Key")


@dataclass(frozen=True)
class Recorded:
    applied: int = 0
    ignored: int = 0
    already: int = 0  # events the store already held: left as they are

    def __add__(self, other: Recorded) -> Recorded:
        return Recorded(
            self.applied + other.applied, self.ignored + other.ignored, self.already + other.already
        )


def record(
    session: Session,
    events: Sequence[Event],
    translate: Translate,
    now: datetime,
    *,
    last: Callable[[Session], None] | None = None,
) -> Recorded:
    """Store new events and apply their changes, ``SLICE`` per transaction; ``last`` runs in
    the final transaction (an import's audit entry, kept exactly when its last slice is).

    Events the store already holds are skipped: stored events are settled. Only recurring
    changes may be batched: a refund finds its memberships only once its payment is locked,
    so its locks cannot all be taken first.
    """
    total = Recorded()
    pieces = [events[i : i + SLICE] for i in range(0, len(events), SLICE)] or [[]]
    for n, piece in enumerate(pieces):
        with locks.write_transaction(session):
            custom_plans(session)
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
    held = _existing_ids(session, fresh)
    translated = [(e, c) for e, c in translated if (e.source, e.id) not in held]
    if translated:
        session.execute(insert(StoredEvent.__table__), [_row(e, c, now) for e, c in translated])
    apply(session, [c for _, c in translated if isinstance(c, RecurringChange)], now)
    ignored = sum(isinstance(c, Ignored) for _, c in translated)
    return Recorded(len(translated) - ignored, ignored, len(events) - len(translated))


def apply(session: Session, changes: list[RecurringChange], now: datetime) -> None:
    """Apply these changes in the caller's transaction, which holds their locks."""
    memberships = {rules.key(c.source, c.membership) for c in changes}
    members = {rules.key(c.source, c.member) for c in changes}
    loaded = _load(session, memberships, members, {c.identity for c in changes} - {None})
    first, others = _first_sights(changes, loaded)
    moved = _insert_first_sights(session, first, now)
    for change in others:
        moved |= rules.apply_change(session, change)
    if moved:
        session.flush()
        locks.bump_version(session, now)


def custom_plans(session: Session) -> None:
    """Plan each of this transaction's statements for its own parameters (PostgreSQL).

    psycopg prepares a statement run five times, and PostgreSQL may then reuse one generic
    plan; planned while an import's tables were nearly empty, that plan scans them whole, and
    each slice of a large first import got slower than the last.
    """
    if locks.is_postgresql(session):
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def lock_all(
    session: Session, events: set[str], memberships: set[str], changes: Iterable[RecurringChange]
) -> None:
    """Take every lock a slice needs, in locks.py's order: events, memberships, members (of
    those memberships and changes), then the persons those members belong to now or may
    belong to after the slice."""
    if not locks.is_postgresql(session):
        return  # SQLite: the write transaction already holds the whole file
    changes = list(changes)
    members = {rules.key(c.source, c.member) for c in changes}
    # The members of memberships named apart from the changes (an undo's), read before they
    # are locked: a membership's member never changes (rules.py refuses that), so it stays so.
    members |= {m.member_key for m in chunked(session, memberships_by_key(), sorted(memberships))}
    memberships = memberships | {rules.key(c.source, c.membership) for c in changes}
    _lock(session, locks.EVENT, events)
    _lock(session, locks.MEMBERSHIP, memberships)
    _lock(session, locks.MEMBER, members)
    persons = members | {c.identity for c in changes if c.identity}
    for member in chunked(session, members_by_key(), sorted(members)):
        persons |= {member.person_key, member.identity} - {None}
    _lock(session, locks.PERSON, persons)


def _lock(session: Session, kind: str, keys: set[str]) -> None:
    """``locks.lock`` in statements of at most CHUNK keys, still in ascending lock id order."""
    for chunk in chunks(sorted(keys, key=lambda k: locks.lock_key(kind, k))):
        locks.lock(session, (kind, chunk))


def _first_sights(
    changes: list[RecurringChange], loaded: list[Any]
) -> tuple[list[RecurringChange], list[RecurringChange]]:
    """The changes that make a new membership of a new member of a new person, which nothing
    else in the batch touches; and the others, which go through ``rules.apply_change``.

    The first are most of a first import, and applying 100,000 of them one by one through the
    session takes minutes: they are inserted in bulk instead (``_insert_first_sights``).
    """
    known = {getattr(row, "key", None) for row in loaded} | {
        row.person_key for row in loaded if isinstance(row, Member)
    }
    named: dict[str, int] = {}
    for change in changes:
        membership = _keys_of(change)[0]
        named[membership] = named.get(membership, 0) + 1
    first: list[RecurringChange] = []
    others: list[RecurringChange] = []
    crowded: set[str] = set()  # persons that some other change touches
    for change in changes:
        membership, member, person = _keys_of(change)
        simple = not change.final and change.state in (State.ACTIVE, State.LAPSED)
        if simple and not {membership, member, person} & known and named[membership] == 1:
            first.append(change)
        else:
            others.append(change)
            crowded.add(person)
    # A person shared with a change that goes the slow way goes the slow way too.
    slow = [c for c in first if _keys_of(c)[2] in crowded]
    return [c for c in first if _keys_of(c)[2] not in crowded], others + slow


def _keys_of(change: RecurringChange) -> tuple[str, str, str]:
    member = rules.key(change.source, change.member)
    return rules.key(change.source, change.membership), member, change.identity or member


def _insert_first_sights(
    session: Session, changes: list[RecurringChange], now: datetime
) -> set[str]:
    """Insert what ``rules.apply_change`` would make of these changes on an empty ledger; the
    persons with counted figures.

    The same fields, set the same way, as rules.py sets them for a membership, member and
    person it sees first (tests/test_imports.py checks the two agree, and ``flask recount``
    replays imports through rules.py, so any drift shows there too).
    """
    memberships: list[dict[str, Any]] = []
    members: dict[str, dict[str, Any]] = {}
    persons: dict[str, dict[str, Any]] = {}
    for change in changes:
        membership, member, person = _keys_of(change)
        live = change.state == State.ACTIVE
        started = (change.started_at or change.at) if live else None
        until = (change.until or FOREVER) if live else None
        memberships.append(
            {
                "key": membership,
                "source": change.source,
                "kind": rules.RECURRING,
                "member_key": member,
                "state": change.state.value,
                "state_at": change.at,
                "state_rank": rules.STATE_RANK[change.state],
                "state_event_id": change.event_id,
                "final_at": None,
                "started_at": started,
                "refunded": False,
                "payment": None,
                "active_until": until,
                "ended_at": None,
                "updated_at": now,
            }
        )
        figures = {"active_until": until, "first_started_at": started, "lapsed_at": None}
        members[member] = {
            "key": member,
            "source": change.source,
            "identity": change.identity,
            "person_key": person,
            "created_at": now,
            **figures,
        }
        had = persons.setdefault(person, {"key": person, **figures})
        had["active_until"] = _latest(had["active_until"], until)
        had["first_started_at"] = _first(had["first_started_at"], started)
    if changes:
        session.execute(insert(Member.__table__), list(members.values()))
        session.execute(insert(Membership.__table__), memberships)
        session.execute(insert(Person.__table__), list(persons.values()))
    return {key for key, p in persons.items() if p["active_until"] or p["first_started_at"]}


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _first(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _load(
    session: Session, memberships: set[str], members: set[str], identities: set[str | None]
) -> list[Any]:
    """Read the batch's memberships, members and persons in a few queries, so each change's
    reads find them in the session instead of asking the database one by one."""
    loaded: list[Any] = list(chunked(session, memberships_by_key(), sorted(memberships)))
    found = list(chunked(session, members_by_key(), sorted(members)))
    persons = {m.person_key for m in found} | {m.identity for m in found} | members | identities
    persons.discard(None)
    loaded += found
    loaded += chunked(
        session, lambda keys: select(Person).where(Person.key.in_(keys)), sorted(persons)
    )
    return loaded


def _existing_ids(session: Session, events: Sequence[Event]) -> set[tuple[str, str]]:
    held: set[tuple[str, str]] = set()
    for source in {e.source for e in events}:
        ids = [e.id for e in events if e.source == source]
        held |= {(source, i) for i in chunked(session, _ids_of(source), ids)}
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


def memberships_by_key() -> Callable[[list[str]], Select[Any]]:
    return lambda keys: select(Membership).where(Membership.key.in_(keys))


def members_by_key() -> Callable[[list[str]], Select[Any]]:
    return lambda keys: select(Member).where(Member.key.in_(keys))


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

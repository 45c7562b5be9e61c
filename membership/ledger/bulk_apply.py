"""Recurring changes applied to many memberships at once: read, merge in memory, write. No Flask.

``rules.apply_change`` reads and writes a few rows per change through the ORM, which is right
for a webhook and takes minutes for an import's 100,000 rows. ``apply`` gives the same rows
for a slice of recurring changes in a handful of statements: it reads the memberships,
members and persons the changes touch (and everything their figures derive from), applies
the changes to those rows in memory by the rules of ``rules._apply_recurring`` and
``persons.refresh``, and writes back only the rows that differ.

The rules are order-independent (a register, minimums, flags that only turn on; figures
derived from what is stored), so applying a slice's changes one after another in memory and
deriving the figures once at the end gives what applying them one by one does.
tests/test_imports_bulk.py checks that the two agree on random histories, and ``flask
recount`` replays imports through rules.py, so any drift between the two shows there too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import Table
from sqlalchemy.orm import Session

from ..models import FOREVER, Member, Membership, Person
from . import bulk_rows
from .bulk_rows import Row
from .rules import RECURRING, STATE_RANK, RecurringChange, State, current_state, key

MEMBERSHIPS, MEMBERS, PERSONS = Membership.__table__, Member.__table__, Person.__table__


def apply(
    session: Session,
    changes: list[RecurringChange],
    now: datetime,
    *,
    members: Collection[str] = (),
    persons: Collection[str] = (),
) -> bool:
    """Apply these changes in the caller's transaction, which holds their locks, and derive
    the figures of ``members`` and ``persons`` too (an undo's, whose memberships went);
    True when any person's row was written, so counted figures may have moved."""
    for change in changes:
        if getattr(change, "offers", None):
            raise ValueError("a batch cannot apply a change that names offers")
    touched = {key(c.source, c.member) for c in changes} | set(members)
    memberships = _by_key(
        bulk_rows.rows_where(session, MEMBERSHIPS, "key", {_membership_key(c) for c in changes})
        + bulk_rows.rows_where(session, MEMBERSHIPS, "member_key", touched)
    )
    stored = _copies(memberships)
    for change in changes:
        found = memberships.get(_membership_key(change))
        merged = merge(found, change, now)
        memberships[merged["key"]] = merged
    known = _by_key(bulk_rows.rows_where(session, MEMBERS, "key", touched))
    before = {k: dict(m) for k, m in known.items()}
    identities = _identities(changes)
    sources = {key(c.source, c.member): c.source for c in changes}
    of_member = _group(memberships.values(), "member_key")
    derive = set(persons)
    for member_key in sorted(touched):
        member = known.get(member_key)
        if member is None:
            if member_key not in sources:
                continue  # an undo's member that went with its memberships
            member = known[member_key] = _new_member(member_key, sources[member_key], now)
        else:
            derive.add(member["person_key"])
        _refresh_member(member, identities.get(member_key), of_member.get(member_key, []))
        derive.add(member["person_key"])
    written = _write_persons(session, derive, known)
    _write(session, MEMBERS, known, before)
    _write(session, MEMBERSHIPS, memberships, stored)
    return written


def merge(found: Row | None, change: RecurringChange, now: datetime) -> Row:
    """The membership row after this change: ``rules._apply_recurring`` on a plain row."""
    membership_key, member_key = _membership_key(change), key(change.source, change.member)
    new = found is None
    if found is None:
        row = bulk_rows.blank(MEMBERSHIPS)
        row.update(
            key=membership_key,
            source=change.source,
            kind=RECURRING,
            member_key=member_key,
            refunded=False,
        )
    else:
        row = found
        if row["kind"] != RECURRING:
            raise ValueError(f"{membership_key} is a {row['kind']} membership, not {RECURRING}")
        if row["member_key"] != member_key:
            raise ValueError(
                f"{membership_key} belongs to {row['member_key']}, an event says {member_key}"
            )
    theirs = (change.at, STATE_RANK[change.state], change.event_id)
    if new or theirs > (row["state_at"], row["state_rank"], row["state_event_id"]):
        row.update(
            state=change.state.value,
            state_at=change.at,
            state_rank=STATE_RANK[change.state],
            state_event_id=change.event_id,
        )
    if change.final:
        row["final_at"] = _earliest(row["final_at"], change.at)
    if change.state == State.ACTIVE:
        row["started_at"] = _earliest(row["started_at"], change.started_at or change.at)
    live = current_state(row["state"], row["final_at"]) == State.ACTIVE
    if not live:
        row["active_until"] = None
    elif new or row["state_event_id"] == change.event_id:
        row["active_until"] = change.until or FOREVER
    elif row["active_until"] is None:
        row["active_until"] = FOREVER
    row["ended_at"] = None if live else _lapsed_at(row)
    row["updated_at"] = now
    return row


def _lapsed_at(row: Row) -> datetime | None:
    """``rules._lapsed_at`` on a plain row."""
    if row["started_at"] is None:
        return None
    if row["final_at"] is None:
        ended = row["state_at"]
    elif row["state"] == State.ACTIVE:
        ended = row["final_at"]
    else:
        ended = min(row["final_at"], row["state_at"])
    return max(row["started_at"], ended)


def _refresh_member(member: Row, identity: str | None, memberships: list[Row]) -> None:
    """``persons.refresh`` and ``persons._refresh_member`` on a plain row."""
    if identity is not None and (member["identity"] is None or identity < member["identity"]):
        member["identity"] = identity
    member["person_key"] = member["identity"] or member["key"]
    counted = [m for m in memberships if not m["refunded"]]
    member["active_until"] = _max([m["active_until"] for m in memberships])
    member["first_started_at"] = _min([m["started_at"] for m in counted])
    member["lapsed_at"] = _max([m["ended_at"] for m in counted])


def _write_persons(session: Session, derive: set[str], known: dict[str, Row]) -> bool:
    """Rederive these persons from all their members (``persons._refresh_person``): the
    members read here, with the ones this slice changed as they are now. True if any row
    was written."""
    if not derive:
        return False
    stored = _by_key(bulk_rows.rows_where(session, PERSONS, "key", derive))
    others = bulk_rows.rows_where(session, MEMBERS, "person_key", derive)
    members = {m["key"]: m for m in others} | known
    of_person = _group(members.values(), "person_key")
    rows: dict[str, Row] = {}
    gone: list[str] = []
    for person_key in sorted(derive):
        mine = of_person.get(person_key, [])
        if not mine:
            if person_key in stored:
                gone.append(person_key)
            continue
        rows[person_key] = {
            "key": person_key,
            "active_until": _max([m["active_until"] for m in mine]),
            "first_started_at": _min([m["first_started_at"] for m in mine]),
            "lapsed_at": _max([m["lapsed_at"] for m in mine]),
        }
    bulk_rows.delete_where(session, PERSONS, "key", gone)
    return _write(session, PERSONS, rows, stored) or bool(gone)


def _write(session: Session, table: Table, rows: dict[str, Row], stored: dict[str, Row]) -> bool:
    """Insert the rows not stored, update those that differ; True if any was written."""
    new = [r for k, r in rows.items() if k not in stored]
    changed = [r for k, r in rows.items() if k in stored and r != stored[k]]
    bulk_rows.insert(session, table, new)
    bulk_rows.update(session, table, changed)
    return bool(new or changed)


def _new_member(member_key: str, source: str, now: datetime) -> Row:
    row = bulk_rows.blank(MEMBERS)
    row.update(key=member_key, source=source, person_key=member_key, created_at=now)
    return row


def _identities(changes: Iterable[RecurringChange]) -> dict[str, str]:
    """Each member's smallest identity among the changes that give one."""
    found: dict[str, str] = {}
    for change in changes:
        if change.identity is not None:
            member_key = key(change.source, change.member)
            found[member_key] = min(found.get(member_key, change.identity), change.identity)
    return found


def _membership_key(change: RecurringChange) -> str:
    return key(change.source, change.membership)


def _by_key(rows: list[Row]) -> dict[str, Row]:
    return {row["key"]: row for row in rows}


def _copies(rows: dict[str, Row]) -> dict[str, Row]:
    return {k: dict(row) for k, row in rows.items()}


def _group(rows: Iterable[Row], column: str) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row[column], []).append(row)
    return grouped


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


def _max(values: list[datetime | None]) -> datetime | None:
    if len(values) == 1:
        return values[0]  # most members have one membership, most persons one member
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _min(values: list[datetime | None]) -> datetime | None:
    if len(values) == 1:
        return values[0]
    present = [v for v in values if v is not None]
    return min(present) if present else None

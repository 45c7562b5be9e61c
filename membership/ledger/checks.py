"""A scratch ledger to rebuild or rehearse on, and row-by-row differences between two ledgers.

No Flask, no provider. Recount rebuilds a ledger from the stored events and compares it with
the live one; reconcile rehearses its changes on a copy and compares before with after. Both
use these.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, delete, insert, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from ..models import (
    Adjustment,
    Base,
    Campaign,
    CampaignCopy,
    CampaignSource,
    Event,
    LedgerState,
    Member,
    Membership,
    MembershipOffer,
    Person,
    Refund,
)
from .rules import current_state

# What the ledger and the counts read: copied into a rehearsal ledger.
LEDGER_TABLES = (
    LedgerState,
    Campaign,
    CampaignCopy,
    CampaignSource,
    Adjustment,
    Member,
    Membership,
    MembershipOffer,
    Person,
    Refund,
    Event,
)
MEMBERSHIP_FIELDS = (
    "kind",
    "member_key",
    "state",
    "final_at",
    "started_at",
    "refunded",
    "active_until",
    "ended_at",
)
MEMBER_FIELDS = ("identity", "person_key", "active_until", "first_started_at", "lapsed_at")
PERSON_FIELDS = ("active_until", "first_started_at", "lapsed_at")


@contextmanager
def scratch_ledger(copy_of: Session | None = None) -> Iterator[Session]:
    """An in-memory SQLite ledger: empty, or a copy of ``copy_of``'s ledger tables.

    A copy leaves out stored payloads: a rehearsal needs to know which events are stored, not
    what they said.
    """
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(engine)
    try:
        if copy_of is not None:
            _copy(copy_of, engine)
        scratch = sessionmaker(engine, expire_on_commit=False)()
        try:
            yield scratch
        finally:
            scratch.close()
    finally:
        engine.dispose()


@contextmanager
def target(session: Session, apply: bool) -> Iterator[Session]:
    """The live ledger when applying, or a rehearsal copy of it (a dry run): a heal writes to
    whichever it is given and reports the same changes either way."""
    if not apply:
        with scratch_ledger(copy_of=session) as copy:
            yield copy
        return
    try:
        yield session
    finally:
        session.rollback()


def _copy(source: Session, engine: Any) -> None:
    with engine.begin() as scratch:
        scratch.execute(delete(LedgerState))
        for model in LEDGER_TABLES:
            table = model.__table__
            columns = [c for c in table.columns if c.name != "payload"]
            rows = [dict(row) for row in source.execute(select(*columns)).mappings()]
            if "payload" in table.columns:
                for row in rows:
                    row["payload"] = ""
            if rows:
                scratch.execute(insert(table), rows)
    source.rollback()


def rows(
    session: Session, model: type, fields: tuple[str, ...], *, state_now: bool = False
) -> dict[str, tuple]:
    """Each row of a keyed ledger table (member, membership): key -> the fields' values.

    With ``state_now``, a membership's ``state`` is given as it is now
    (``rules.current_state``), the state to compare with a provider and to show; without, as
    stored, which is stricter when comparing a ledger with a rebuilt copy of itself.
    """
    columns = [getattr(model, name) for name in fields]
    found = {key: tuple(values) for key, *values in session.execute(select(model.key, *columns))}
    if state_now:
        state, final_at = fields.index("state"), fields.index("final_at")
        found = {
            key: tuple(
                current_state(value, row[final_at]) if n == state else value
                for n, value in enumerate(row)
            )
            for key, row in found.items()
        }
    session.rollback()
    return found


@dataclass(frozen=True)
class RowDifference:
    """One key whose row differs between two ledgers: missing from one side, or changed."""

    kind: str  # "membership" or "member"
    key: str
    fields: tuple[str, ...]
    before: tuple | None
    after: tuple | None

    def changed(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) of each field that differs, for a key on both sides."""
        assert self.before is not None and self.after is not None
        return [
            (name, a, b)
            for name, a, b in zip(self.fields, self.before, self.after, strict=True)
            if a != b
        ]


def differences(
    kind: str, before: dict[str, tuple], after: dict[str, tuple], fields: tuple[str, ...]
) -> list[RowDifference]:
    """Every key whose row is not the same in ``before`` and ``after``, in key order."""
    return [
        RowDifference(kind, key, fields, before.get(key), after.get(key))
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]

"""The bulk path (ledger/bulk_apply.py, which imports use) makes exactly the rows rules.py makes.

Random recurring changes over small pools of memberships, members, identities and instants
(so ties, shared members and shared persons are common), next to another source's member
already in the ledger: applied one by one through ``rules.apply_change``, and in slices of
any size through ``batch.apply``, they must leave the same stored values, to the stored text.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from membership.ledger import batch, bulk_rows, locks, rules
from membership.ledger.rules import RecurringChange, State
from membership.models import Membership, utcnow
from tests.conftest import empty_postgres
from tests.test_ledger_properties import sqlite_engine

T0 = datetime(2024, 1, 1, tzinfo=UTC)
INSTANTS = [T0, T0 + timedelta(seconds=1), T0 + timedelta(days=30), T0 + timedelta(days=400)]
# Memberships and the member each belongs to (a member may have two), in two sources.
MEMBERSHIPS = {"m1": "r1", "m2": "r1", "m3": "r3", "m4": "r4", "m5": "r5"}
SOURCES = ["csv-bank", "csv-events"]
IDENTITIES = [None, "id1:aaa", "id1:bbb"]
# Another source's member, paying through a membership the batch never names: a person it
# shares with imported members must be derived from both.
ELSEWHERE = RecurringChange(
    source="stripe",
    membership="sub_1",
    member="cus_1",
    state=State.ACTIVE,
    final=False,
    at=T0 + timedelta(days=2),
    event_id="evt_elsewhere",
    identity="id1:aaa",
)


@st.composite
def histories(draw: st.DrawFn) -> list[RecurringChange]:
    size = draw(st.integers(min_value=1, max_value=12))
    ids = draw(st.permutations([f"e{n:02d}" for n in range(size)]))
    found = []
    for event_id in ids:
        membership = draw(st.sampled_from(sorted(MEMBERSHIPS)))
        found.append(
            RecurringChange(
                source=draw(st.sampled_from(SOURCES)),
                membership=membership,
                member=MEMBERSHIPS[membership],
                state=draw(st.sampled_from(list(State))),
                final=draw(st.booleans()),
                at=draw(st.sampled_from(INSTANTS)),
                event_id=event_id,
                started_at=draw(st.none() | st.sampled_from(INSTANTS)),
                until=draw(st.none() | st.sampled_from(INSTANTS)),
                identity=draw(st.sampled_from(IDENTITIES)),
            )
        )
    return found


@pytest.fixture
def fresh(postgres_engine: Engine | None):
    """A factory of empty ledgers: SQLite in memory, or PostgreSQL when configured."""

    def make() -> Session:
        if postgres_engine is None:
            return sessionmaker(sqlite_engine(), expire_on_commit=False)()
        empty_postgres(postgres_engine)
        return sessionmaker(postgres_engine, expire_on_commit=False)()

    return make


def one_by_one(session: Session, changes: list[RecurringChange]) -> None:
    for change in changes:
        with locks.write_transaction(session):
            rules.apply_change(session, change)


def in_slices(session: Session, changes: list[RecurringChange], size: int) -> None:
    for start in range(0, len(changes), size):
        piece = changes[start : start + size]
        with locks.write_transaction(session):
            batch.lock_all(session, set(), set(), piece)
            batch.apply(session, piece, utcnow())


def stored(session: Session) -> dict[str, list[tuple]]:
    """Every stored value but the moments a row was written, as the database gives them
    back (on SQLite, the very text stored)."""
    found = {
        "membership": "SELECT key, source, kind, member_key, state, state_at, state_rank, "
        "state_event_id, final_at, started_at, refunded, payment, active_until, ended_at "
        "FROM membership ORDER BY key",
        "member": "SELECT key, source, identity, person_key, active_until, first_started_at, "
        "lapsed_at FROM member ORDER BY key",
        "person": "SELECT key, active_until, first_started_at, lapsed_at FROM person ORDER BY key",
    }
    rows = {table: [tuple(r) for r in session.execute(text(sql))] for table, sql in found.items()}
    session.rollback()
    return rows


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=histories(), data=st.data())
def test_a_batch_in_any_slices_gives_the_rows_rules_give_one_change_at_a_time(fresh, changes, data):
    size = data.draw(st.integers(min_value=1, max_value=len(changes)))
    ruled = fresh()
    try:
        one_by_one(ruled, [ELSEWHERE, *changes])
        expected = stored(ruled)
    finally:
        ruled.close()
    bulk = fresh()
    try:
        one_by_one(bulk, [ELSEWHERE])
        in_slices(bulk, changes, size)
        assert stored(bulk) == expected
    finally:
        bulk.close()


def test_a_membership_of_another_kind_or_member_is_refused_as_rules_refuse_it(fresh):
    session = fresh()
    try:
        one_by_one(session, [ELSEWHERE])
        moved = replace(ELSEWHERE, member="cus_2", event_id="evt_2")
        with pytest.raises(ValueError, match="belongs to stripe:cus_1"):
            in_slices(session, [moved], 1)
    finally:
        session.close()


def test_keys_with_quotes_backslashes_and_commas_are_found(fresh):
    session = fresh()
    keys = ['odd"key', "back\\slash", "a,b", "{braces}", "NULL", " spaced "]
    changes = [
        RecurringChange(
            source="csv-bank",
            membership=key,
            member=key,
            state=State.ACTIVE,
            final=False,
            at=T0,
            event_id=f"e{n}",
        )
        for n, key in enumerate(keys)
    ]
    try:
        in_slices(session, changes, len(changes))
        wanted = [rules.key("csv-bank", k) for k in keys]
        found = bulk_rows.rows_where(session, Membership.__table__, "key", wanted)
        assert sorted(row["key"] for row in found) == sorted(f"csv-bank:{k}" for k in keys)
    finally:
        session.close()

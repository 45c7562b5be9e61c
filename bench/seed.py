"""Bulk-insert benchmark members, fast: `python bench/seed.py --url URL --members N`.

Brings the number of seeded members (keys ``cus_bench_…``) up to N, each with one live
subscription (``sub_bench_…``), exactly as the ledger would have stored them: the member's
``active_until`` is FOREVER and ``first_started_at`` is spread over the last year. Then it bumps
the ledger version, as a real change would, so that every worker's cached figures are redone.

SQLite: SQLAlchemy Core executemany in batches of 10,000, all in one transaction.
PostgreSQL: COPY, then VACUUM ANALYZE so that counting can use an index-only scan.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import column, create_engine, func, insert, select, table, text, update
from sqlalchemy.engine import Engine, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from membership.config_values import database_url  # noqa: E402
from membership.ledger.rules import STATE_RANK, State  # noqa: E402
from membership.models import FOREVER, LedgerState, Member, utcnow  # noqa: E402

BATCH = 10_000
MEMBER_COLUMNS = ("key", "source", "person_key", "active_until", "first_started_at", "created_at")
# Each bench member is a reader of their own: a person keyed by the member's key.
PERSON_COLUMNS = ("key", "active_until", "first_started_at")
MEMBERSHIP_COLUMNS = (
    "key",
    "source",
    "kind",
    "member_key",
    "state",
    "state_at",
    "state_rank",
    "state_event_id",
    "started_at",
    "refunded",
    "active_until",
    "updated_at",
)
# Untyped tables: the values below are already in each database's storage form, so a million
# rows skip a million calls to the UTCDateTime bind processor.
member_table = table("member", *(column(name) for name in MEMBER_COLUMNS))
membership_table = table("membership", *(column(name) for name in MEMBERSHIP_COLUMNS))
person_table = table("person", *(column(name) for name in PERSON_COLUMNS))


def seeded(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.key.like("stripe:cus\\_bench\\_%", "\\"))
        )


def _rows(start: int, stop: int, stored: Any) -> Iterator[tuple[tuple, tuple]]:
    """(member row, membership row) for bench members start..stop-1."""
    now = utcnow()
    forever, now_stored = stored(FOREVER), stored(now)
    days = [stored(now - timedelta(days=day, minutes=7)) for day in range(365)]
    rank = STATE_RANK[State.ACTIVE]
    for i in range(start, stop):
        started = days[i % 365]
        key = f"stripe:cus_bench_{i:08d}"
        yield (
            (key, "stripe", key, forever, started, now_stored),
            (
                f"stripe:sub_bench_{i:08d}",
                "stripe",
                "recurring",
                key,
                "active",
                started,
                rank,
                "evt_bench_seed",
                started,
                False,
                forever,
                now_stored,
            ),
        )


def _person(member: tuple) -> tuple:
    """The person row of a bench member (its key, active until, first start)."""
    return (member[0], member[3], member[4])


def _batches(rows: Iterator[tuple[tuple, tuple]]) -> Iterator[tuple[list, list]]:
    members: list[dict[str, Any]] = []
    memberships: list[dict[str, Any]] = []
    for member, membership in rows:
        members.append(dict(zip(MEMBER_COLUMNS, member, strict=True)))
        memberships.append(dict(zip(MEMBERSHIP_COLUMNS, membership, strict=True)))
        if len(members) == BATCH:
            yield members, memberships
            members, memberships = [], []
    if members:
        yield members, memberships


def _seed_sqlite(engine: Engine, start: int, stop: int) -> None:
    processor = Member.__table__.c.active_until.type._cached_bind_processor(engine.dialect)
    with engine.begin() as connection:
        for members, memberships in _batches(_rows(start, stop, processor)):
            connection.execute(insert(member_table), members)
            connection.execute(insert(membership_table), memberships)
            persons = [
                dict(
                    zip(
                        PERSON_COLUMNS,
                        (m["key"], m["active_until"], m["first_started_at"]),
                        strict=True,
                    )
                )
                for m in members
            ]
            connection.execute(insert(person_table), persons)


def _seed_postgresql(engine: Engine, start: int, stop: int) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        pairs = list(_rows(start, stop, lambda value: value))
        with cursor.copy(f"COPY member ({', '.join(MEMBER_COLUMNS)}) FROM STDIN") as copy:
            for member, _ in pairs:
                copy.write_row(member)
        with cursor.copy(f"COPY membership ({', '.join(MEMBERSHIP_COLUMNS)}) FROM STDIN") as copy:
            for _, membership in pairs:
                copy.write_row(membership)
        with cursor.copy(f"COPY person ({', '.join(PERSON_COLUMNS)}) FROM STDIN") as copy:
            for member, _ in pairs:
                copy.write_row(_person(member))
        raw.commit()
    finally:
        raw.close()
    # Fresh visibility map and statistics: the count becomes an index-only scan at once
    # instead of whenever autovacuum gets to it.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE member"))
        connection.execute(text("VACUUM ANALYZE membership"))
        connection.execute(text("VACUUM ANALYZE person"))


def seed(url: str, members: int) -> dict[str, Any]:
    """Bring the seeded members up to ``members``; return what was done and how fast."""
    url = database_url(url, "")
    engine = create_engine(url)
    try:
        start = seeded(engine)
        began = time.perf_counter()
        if members > start:
            if make_url(url).get_backend_name() == "sqlite":
                _seed_sqlite(engine, start, members)
            else:
                _seed_postgresql(engine, start, members)
            with engine.begin() as connection:
                connection.execute(
                    update(LedgerState)
                    .where(LedgerState.id == 1)
                    .values(version=LedgerState.version + 1, changed_at=utcnow())
                )
        seconds = time.perf_counter() - began
    finally:
        engine.dispose()
    inserted = max(0, members - start)
    return {
        "inserted": inserted,
        "seconds": round(seconds, 2),
        "members_per_second": round(inserted / seconds) if inserted else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="DATABASE_URL (sqlite:/// or postgresql://)")
    parser.add_argument("--members", type=int, required=True, help="seeded members wanted")
    args = parser.parse_args()
    result = seed(args.url, args.members)
    print(
        f"inserted {result['inserted']:,} members (+ a subscription each) in {result['seconds']} s"
    )


if __name__ == "__main__":
    main()

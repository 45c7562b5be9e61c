"""Time a CSV import of N rows: `python bench/imports.py [--rows 100000] [--url URL]`.

Without --url, a fresh SQLite file. With a PostgreSQL URL, that database's schema is DROPPED
and made again (give it a scratch database). Prints the time to plan (read, check, compare)
and to apply (in slices of batch.SLICE rows), as rows per second; then the same file again
(all unchanged), a full re-import where every tenth row changed, its undo, and the first file
once more.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from membership import create_app  # noqa: E402
from membership.accounts import audit  # noqa: E402
from membership.config_values import database_url  # noqa: E402
from membership.database import db, make_engine  # noqa: E402
from membership.models import Base  # noqa: E402
from membership.sources.imports import runner  # noqa: E402

SETTINGS = runner.Settings(identity_key=b"bench-identity-key-" + b"0" * 20, term=timedelta(365))


def file_of(rows: int, changed_every: int = 0) -> bytes:
    lines = ["external_id,email,started_at,ends_at,status,kind"]
    for n in range(rows):
        status = "lapsed" if changed_every and n % changed_every == 0 else "active"
        kind = "one-off" if n % 7 == 0 else "recurring"
        day = f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
        lines.append(f"row{n},reader{n}@example.org,{day},,{status},{kind}")
    return ("\n".join(lines) + "\n").encode()


def fresh_database(url: str | None) -> str:
    url = database_url(url, ".") if url else f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)  # with the ledger_state row
    engine.dispose()
    return url


def timed(label: str, rows: int, data: bytes, app, **options) -> None:  # noqa: ANN001
    with app.app_context():
        start = time.perf_counter()
        plan = runner.plan(db.session, "bench", f"{label}.csv", data, SETTINGS, **options)
        planned = time.perf_counter()
        runner.apply(db.session, plan, SETTINGS, audit.CLI)
        done = time.perf_counter()
    total = done - start
    print(
        f"{label:>10}: {rows:,} rows, plan {planned - start:.2f} s, apply {done - planned:.2f} s, "
        f"{rows / total:,.0f} rows/s (new {len(plan.new):,}, changed {len(plan.changed):,}, "
        f"unchanged {len(plan.unchanged):,})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--url", help="a scratch PostgreSQL database (its schema is dropped)")
    args = parser.parse_args()
    url = fresh_database(args.url)
    app = create_app({"DATABASE_URL": url, "PROGRESS_CACHE_SECONDS": 0})
    print(f"{app.extensions['database.engine'].dialect.name}:")
    first = file_of(args.rows)
    timed("first", args.rows, first, app)
    timed("same file", args.rows, first, app)
    changed = file_of(args.rows, changed_every=10)
    timed("10% changed", args.rows, changed, app, full=True)
    with app.app_context():
        start = time.perf_counter()
        undone = runner.undo_import(db.session, "bench", _sha256(changed), SETTINGS, audit.CLI)
        took = time.perf_counter() - start
    rate = undone.events / took
    print(f"{'undo':>10}: {undone.events:,} events, {took:.2f} s, {rate:,.0f} events/s")
    timed("first again", args.rows, first, app)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


if __name__ == "__main__":
    main()

"""Import speed on SQLite and PostgreSQL in one run: `python bench/imports_speed.py`.

For each database, from an empty ledger: a file of ``--rows`` new members, the same file
again (nothing changes), a full import of it with every tenth row changed, and its undo.
Prints wall and CPU seconds of each (plan: read, check, compare; apply: store and apply in
slices), rows per second, and two ratios that travel between machines better than seconds:
the unchanged file and the 10% change against the first import. Writes
bench/imports_results.json. The machine is shared: the load average is printed with it.

PostgreSQL: BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test) names a
server and a database to connect to; the run drops and creates its own database
`bench_imports` there. Set BENCH_POSTGRES_URL= (empty) to skip PostgreSQL.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from membership import create_app  # noqa: E402
from membership.accounts import audit  # noqa: E402
from membership.config_values import database_url  # noqa: E402
from membership.database import db, make_engine  # noqa: E402
from membership.models import Base  # noqa: E402
from membership.sources.imports import runner  # noqa: E402

SETTINGS = runner.Settings(identity_key=b"bench-identity-key-" + b"0" * 20, term=timedelta(365))
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_SECONDS = 5.0  # "files of 100,000 rows import in seconds"


def file_of(rows: int, changed_every: int = 0) -> bytes:
    """A CSV file of ``rows`` members, two in three with an email; with ``changed_every``,
    every such row lapsed instead."""
    lines = ["external_id,email,started_at,ends_at,status,kind"]
    for n in range(rows):
        status = "lapsed" if changed_every and n % changed_every == 0 else "active"
        kind = "one-off" if n % 7 == 0 else "recurring"
        day = f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
        email = f"reader{n}@example.org" if n % 3 else ""
        lines.append(f"row{n},{email},{day},,{status},{kind}")
    return ("\n".join(lines) + "\n").encode()


def fresh_database(kind: str, postgres: str) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    else:
        import psycopg

        with psycopg.connect(postgres, autocommit=True) as connection:
            connection.execute("DROP DATABASE IF EXISTS bench_imports WITH (FORCE)")
            connection.execute("CREATE DATABASE bench_imports")
        url = database_url(postgres.rsplit("/", 1)[0] + "/bench_imports", ".")
    engine = make_engine(url)
    Base.metadata.create_all(engine)  # with the ledger_state row
    engine.dispose()
    return url


class Clock:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        taken = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return taken


def timed_import(app: Any, data: bytes, **options: Any) -> dict[str, Any]:
    with app.app_context():
        clock = Clock()
        plan = runner.plan(db.session, "bench", "bench.csv", data, SETTINGS, **options)
        plan_wall, plan_cpu = clock.lap()
        runner.apply(db.session, plan, SETTINGS, audit.CLI)
        apply_wall, apply_cpu = clock.lap()
    return {
        "plan_s": round(plan_wall, 2),
        "apply_s": round(apply_wall, 2),
        "total_s": round(plan_wall + apply_wall, 2),
        "cpu_s": round(plan_cpu + apply_cpu, 2),
        "new": len(plan.new),
        "changed": len(plan.changed),
        "unchanged": len(plan.unchanged),
    }


def timed_undo(app: Any, data: bytes) -> dict[str, Any]:
    with app.app_context():
        clock = Clock()
        sha256 = hashlib.sha256(data).hexdigest()
        undone = runner.undo_import(db.session, "bench", sha256, SETTINGS, audit.CLI)
        wall, cpu = clock.lap()
    return {"total_s": round(wall, 2), "cpu_s": round(cpu, 2), "events": undone.events}


def run(kind: str, rows: int, postgres: str) -> dict[str, Any]:
    app = create_app({"DATABASE_URL": fresh_database(kind, postgres), "PROGRESS_CACHE_SECONDS": 0})
    first, changed = file_of(rows), file_of(rows, changed_every=10)
    result = {
        "first": timed_import(app, first),
        "same file": timed_import(app, first),
        "10% changed": timed_import(app, changed, full=True),
        "undo": timed_undo(app, changed),
    }
    app.extensions["database.engine"].dispose()
    return result


def table(results: dict[str, Any], rows: int) -> str:
    lines = [
        f"{'':12} {'step':12} {'total s':>8} {'plan s':>7} {'apply s':>8} {'cpu s':>7} "
        f"{'rows/s':>9}  new/changed/unchanged"
    ]
    for kind, steps in results["databases"].items():
        for step, got in steps.items():
            counts = (
                f"{got['new']:,}/{got['changed']:,}/{got['unchanged']:,}"
                if "new" in got
                else f"{got['events']:,} events"
            )
            rate = rows / got["total_s"] if got["total_s"] else float("inf")
            lines.append(
                f"{kind:12} {step:12} {got['total_s']:8.2f} {got.get('plan_s', 0):7.2f} "
                f"{got.get('apply_s', 0):8.2f} {got['cpu_s']:7.2f} {rate:9,.0f}  {counts}"
            )
        first = steps["first"]["total_s"]
        lines.append(
            f"{kind:12} ratios: same file / first {steps['same file']['total_s'] / first:.2f}, "
            f"10% changed / first {steps['10% changed']['total_s'] / first:.2f}; first under "
            f"{TARGET_SECONDS:.0f} s: {'yes' if first < TARGET_SECONDS else 'no'}"
        )
    lines.append(f"load average before / after: {results['load']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--output", default=str(ROOT / "bench" / "imports_results.json"))
    args = parser.parse_args()
    postgres = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    kinds = ["sqlite", "postgresql"] if postgres else ["sqlite"]
    load = [os.getloadavg()[0]]
    results: dict[str, Any] = {"rows": args.rows, "databases": {}}
    for kind in kinds:
        results["databases"][kind] = run(kind, args.rows, postgres)
    load.append(os.getloadavg()[0])
    results["load"] = " / ".join(f"{x:.1f}" for x in load)
    results["cpus"] = os.cpu_count()
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(table(results, args.rows))


if __name__ == "__main__":
    main()

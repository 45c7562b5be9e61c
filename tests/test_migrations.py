"""`flask db upgrade` builds the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from membership.config import database_url
from membership.database import make_engine
from membership.models import Base
from tests.conftest import POSTGRES_URL
from tests.servers import ROOT


@pytest.fixture
def empty_database(tmp_path):
    """A URL of a database with nothing in it: a new SQLite file, or a new PostgreSQL database."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url(POSTGRES_URL, "."), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = database_url(POSTGRES_URL, ".").rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def flask(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "MEMBERSHIP_ENV": "development"}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_upgrade_builds_exactly_the_models_schema(empty_database):
    result = flask(empty_database, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
        assert diff == []
        # The ledger row every writer locks is there from the start.
        assert conn.execute(text("SELECT version FROM ledger_state WHERE id = 1")).scalar() == 0
    engine.dispose()


def test_upgrade_then_the_cli_works_on_the_new_schema(empty_database):
    assert flask(empty_database, "db", "upgrade").returncode == 0
    created = flask(empty_database, "campaign", "seed-demo")
    assert created.returncode == 0, created.stderr
    assert "25,000" in created.stdout
    assert "members" in flask(empty_database, "campaign", "list").stdout


def test_downgrade_to_base_removes_everything(empty_database):
    assert flask(empty_database, "db", "upgrade").returncode == 0
    result = flask(empty_database, "db", "downgrade", "base")
    assert result.returncode == 0, result.stderr
    engine = make_engine(empty_database)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()

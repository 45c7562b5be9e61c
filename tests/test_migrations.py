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
from sqlalchemy.orm import Session

from membership.config_values import database_url
from membership.database import make_engine
from membership.models import Base
from membership.notify.outbox import Notice, enqueue
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


STRIPE_ROWS_0003 = [
    "INSERT INTO member (key, active_until, first_started_at, lapsed_at, created_at) VALUES "
    "('cus_1', '9999-12-31 00:00:00+00', '2026-01-01 00:00:00+00', NULL, '2026-01-01 00:00:00+00'),"
    " ('cs_9', NULL, NULL, NULL, '2026-01-01 00:00:00+00')",
    "INSERT INTO membership (key, kind, member_key, state, state_at, state_rank, state_event_id,"
    " final_at, started_at, refunded, payment_intent, active_until, ended_at, updated_at) VALUES"
    " ('sub_1', 'subscription', 'cus_1', 'active', '2026-01-01 00:00:00+00', 2, 'evt_1', NULL,"
    " '2026-01-01 00:00:00+00', false, NULL, '9999-12-31 00:00:00+00', NULL,"
    " '2026-01-01 00:00:00+00'),"
    " ('cs_9', 'payment', 'cs_9', 'active', '2026-01-01 00:00:00+00', 2, 'evt_2', NULL,"
    " '2026-01-01 00:00:00+00', true, 'pi_9', NULL, NULL, '2026-01-01 00:00:00+00')",
    "INSERT INTO refund (payment_intent, refunded_at, event_id) VALUES"
    " ('pi_9', '2026-01-02 00:00:00+00', 'evt_3')",
    "INSERT INTO stripe_event (id, type, created, livemode, api_version, outcome, detail, payload,"
    " duplicates, attempts, received_at, processed_at) VALUES ('evt_1',"
    " 'customer.subscription.created', '2026-01-01 00:00:00+00', false, '2025-03-31.basil',"
    " 'applied', '', '{}', 0, 1, '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00')",
]


def test_0004_gives_every_stored_key_its_source_and_keeps_the_rows(empty_database):
    assert flask(empty_database, "db", "upgrade", "0003").returncode == 0
    engine = make_engine(empty_database)
    with engine.begin() as conn:
        for statement in STRIPE_ROWS_0003:
            conn.execute(text(statement.replace("+00'", "'")))
    assert flask(empty_database, "db", "upgrade").returncode == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT key, source FROM member ORDER BY key")).all() == [
            ("stripe:cs_9", "stripe"),
            ("stripe:cus_1", "stripe"),
        ]
        assert conn.execute(
            text("SELECT key, kind, member_key, payment, source FROM membership ORDER BY key")
        ).all() == [
            ("stripe:cs_9", "one-off", "stripe:cs_9", "stripe:pi_9", "stripe"),
            ("stripe:sub_1", "recurring", "stripe:cus_1", None, "stripe"),
        ]
        assert conn.execute(text("SELECT payment FROM refund")).scalar() == "stripe:pi_9"
        assert conn.execute(text("SELECT source, id, outcome FROM event")).all() == [
            ("stripe", "evt_1", "applied")
        ]
        # 0005: every member is its own person, with the same figures, so counts stay put.
        assert conn.execute(
            text("SELECT key, person_key, identity FROM member ORDER BY key")
        ).all() == [
            ("stripe:cs_9", "stripe:cs_9", None),
            ("stripe:cus_1", "stripe:cus_1", None),
        ]
        assert conn.execute(
            text("SELECT key, first_started_at IS NOT NULL FROM person ORDER BY key")
        ).all() == [("stripe:cs_9", False), ("stripe:cus_1", True)]
    engine.dispose()

    # And back: the old names, the old keys, nothing lost.
    result = flask(empty_database, "db", "downgrade", "0003")
    assert result.returncode == 0, result.stderr
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        assert conn.execute(
            text("SELECT key, kind, member_key, payment_intent FROM membership ORDER BY key")
        ).all() == [("cs_9", "payment", "cs_9", "pi_9"), ("sub_1", "subscription", "cus_1", None)]
        assert conn.execute(text("SELECT id FROM stripe_event")).scalar() == "evt_1"
    engine.dispose()


def test_0004_cannot_be_undone_once_another_source_is_in_the_ledger(empty_database):
    assert flask(empty_database, "db", "upgrade").returncode == 0
    engine = make_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO member (key, source, person_key, created_at) "
                "VALUES ('paypal:PAYER1', 'paypal', 'paypal:PAYER1', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()
    result = flask(empty_database, "db", "downgrade", "0003")
    assert result.returncode != 0
    assert "sources other than Stripe" in result.stderr


def test_0008_adds_the_outbox_to_a_database_holding_campaigns(empty_database):
    assert flask(empty_database, "db", "upgrade", "0007").returncode == 0
    assert flask(empty_database, "campaign", "seed-demo", "--no-history").returncode == 0
    result = flask(empty_database, "db", "upgrade")
    assert result.returncode == 0, result.stderr

    engine = make_engine(empty_database)
    with Session(engine) as session:
        campaign_id = session.execute(text("SELECT id FROM campaign")).scalar_one()
        session.execute(
            text(
                "INSERT INTO notify_channel (campaign_id, kind, address, secret, hint, "
                "milestones, created_at) VALUES (:c, 'email', 'desk@news.example', '', '', '', "
                "CURRENT_TIMESTAMP)"
            ),
            {"c": campaign_id},
        )
        notice = Notice("milestone", "milestone:50%", "50%", "Half way", "Half way.", {})
        # The migrated unique constraint is the one enqueue's insert-if-absent relies on.
        assert enqueue(session, campaign_id, notice) == 1
        assert enqueue(session, campaign_id, notice) == 0
        session.commit()
        assert session.execute(text("SELECT status, attempts FROM notify_delivery")).all() == [
            ("pending", 0)
        ]
    engine.dispose()

    result = flask(empty_database, "db", "downgrade", "0007")
    assert result.returncode == 0, result.stderr
    engine = make_engine(empty_database)
    tables = set(inspect(engine).get_table_names())
    assert not tables & {"notify_channel", "notify_delivery", "notify_digest"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT slug FROM campaign")).scalar() == "members"
    engine.dispose()


def test_0007_adds_goals_and_milestones_to_a_database_holding_campaigns(empty_database):
    assert flask(empty_database, "db", "upgrade", "0006").returncode == 0
    engine = make_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO campaign (slug, title, goal, rule, baseline, headline, message,"
                " cta_label, cta_url, locale, created_at, updated_at) VALUES ('drive', 'Drive',"
                " 100, 'active', 90, '', '', '', '', 'en', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO adjustment (campaign_id, delta, reason, created_by, created_at)"
                " SELECT id, 15, 'Fair', 'desk', CURRENT_TIMESTAMP FROM campaign"
            )
        )
    engine.dispose()
    result = flask(empty_database, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        # No stretch goal, no milestone but the goal: the figures stay as they were.
        assert conn.execute(text("SELECT stretch_goals, milestones FROM campaign")).all() == [
            ("", "")
        ]
        assert conn.execute(text("SELECT count(*) FROM adjustment")).scalar() == 1
    engine.dispose()
    # The goal of 100 was passed before anyone watched: detection records it, now.
    detected = flask(empty_database, "campaign", "milestones", "drive", "--detect")
    assert detected.returncode == 0, detected.stderr
    assert "drive: crossed goal 100 at 105" in detected.stdout
    updated = flask(empty_database, "campaign", "update", "drive", "--stretch-goals", "120")
    assert updated.returncode == 0, updated.stderr
    assert "105 of 120" in updated.stdout

    result = flask(empty_database, "db", "downgrade", "0006")
    assert result.returncode == 0, result.stderr
    engine = make_engine(empty_database)
    assert "milestone" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT slug, goal FROM campaign")).all() == [("drive", 100)]
        assert conn.execute(text("SELECT delta FROM adjustment")).scalar() == 15
    engine.dispose()

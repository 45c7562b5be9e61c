"""Helpers for the import tests: write a CSV file, import it, read the ledger's rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from membership.accounts import audit
from membership.database import db
from membership.ledger import checks
from membership.models import Event, Member, Membership, Person
from membership.sources.imports import runner

KEY = b"import-tests-identity-key-0123456789"
SETTINGS = runner.Settings(identity_key=KEY, term=timedelta(days=365))
HEADER = "external_id,email,started_at,ends_at,status,kind"


def csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def plan(app: Flask, data: bytes, name: str = "bank", **options: Any) -> runner.Plan:
    with app.app_context():
        return runner.plan(db.session, name, "members.csv", data, SETTINGS, **options)


def run(app: Flask, data: bytes, name: str = "bank", **options: Any) -> runner.Plan:
    """Plan and apply an import, at a moment later than any import before it."""
    found = plan(app, data, name, **options)
    assert not found.refused, found.problems
    with app.app_context():
        runner.apply(db.session, found, SETTINGS, audit.CLI)
    return found


def ledger(app: Flask) -> dict[str, Any]:
    """Every ledger row that matters, for comparing states before and after."""
    with app.app_context():
        session = db.session
        found = {
            "memberships": checks.rows(session, Membership, checks.MEMBERSHIP_FIELDS),
            "members": checks.rows(session, Member, checks.MEMBER_FIELDS),
            "persons": checks.rows(session, Person, checks.PERSON_FIELDS),
            "events": sorted(session.execute(select(Event.source, Event.id, Event.payload)).all()),
        }
        session.rollback()
        return found


def membership(app: Flask, key: str) -> Membership | None:
    with app.app_context():
        found = db.session.get(Membership, key)
        db.session.expunge_all()
        return found


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)

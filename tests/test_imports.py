"""Imports (sources/imports, ledger/batch.py): re-importable, exact, undoable, never an email."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select

from membership import recount, sources
from membership.accounts import audit
from membership.database import db
from membership.ledger import batch, checks, identity, locks, rules, store
from membership.models import FOREVER, AuditEntry, Member, Membership, Person, utcnow
from membership.sources.imports import runner, translate
from tests.conftest import POSTGRES_URL
from tests.imports_helpers import KEY, SETTINGS, csv, day, ledger, membership, plan, run

FIRST = csv(
    "m1,one@example.org,2024-01-05,,,",
    "m2,two@example.org,2024-02-01,,,",
    "m3,,2024-03-01,2024-09-01,,one-off",
    "m4,,2024-03-01,,,one-off",
    "m5,,2023-01-01,,lapsed,",
)


@pytest.fixture(params=["one slice", "slices of 2"])
def app(app, request, monkeypatch):
    """Every test runs with a slice as large as usual, and with tiny slices, so that the
    seams between a batch's transactions are crossed too."""
    if request.param == "slices of 2":
        monkeypatch.setattr(batch, "SLICE", 2)
        monkeypatch.setattr(batch, "SQLITE_SLICE", 2)
    app.config["IDENTITY_KEY"] = KEY
    return app


def test_rows_become_memberships_of_the_source(app):
    run(app, FIRST)
    m1 = membership(app, "csv-bank:m1")
    assert (m1.state, m1.started_at, m1.active_until) == ("active", day("2024-01-05"), FOREVER)
    m3 = membership(app, "csv-bank:m3")
    assert (m3.started_at, m3.active_until) == (day("2024-03-01"), day("2024-09-01"))
    m4 = membership(app, "csv-bank:m4")
    assert m4.active_until == day("2024-03-01") + timedelta(days=365)
    assert membership(app, "csv-bank:m5").state == "lapsed"


def test_an_invalid_file_applies_nothing_unless_told_to_skip(app):
    data = csv("m1,,2024-01-05,,,", "m2,,2024-02-30,,,")
    refused = plan(app, data)
    assert refused.refused and [str(p) for p in refused.problems] == [
        "line 3: started_at '2024-02-30' is not an ISO date or time "
        "(2024-03-01 or 2024-03-01T09:30:00Z)"
    ]
    with app.app_context(), pytest.raises(ValueError):
        runner.apply(db.session, refused, SETTINGS, audit.CLI)
    assert ledger(app)["memberships"] == {}
    skipped = run(app, data, skip_invalid=True)
    assert skipped.new == ["m1"] and len(ledger(app)["memberships"]) == 1
    assert plan(app, data, skip_invalid=True, full=True).refused


def test_the_same_file_twice_changes_nothing(app):
    run(app, FIRST)
    before = ledger(app)
    again = run(app, FIRST)
    assert (len(again.new), len(again.changed), len(again.unchanged)) == (0, 0, 5)
    assert ledger(app) == before


def test_a_changed_row_updates_and_changing_it_back_restores(app):
    run(app, FIRST)
    changed = csv("m1,one@example.org,2024-01-05,,lapsed,")
    assert run(app, changed).changed == ["m1"]
    assert membership(app, "csv-bank:m1").state == "lapsed"
    back = run(app, FIRST)
    assert back.changed == ["m1"] and len(back.unchanged) == 4
    assert membership(app, "csv-bank:m1").state == "active"


def test_a_full_import_lapses_what_is_missing_and_a_partial_one_does_not(app):
    run(app, FIRST)
    partial = run(app, csv("m1,one@example.org,2024-01-05,,,"))
    assert partial.lapsed == [] and membership(app, "csv-bank:m2").state == "active"
    full = run(app, csv("m1,one@example.org,2024-01-05,,,"), full=True)
    assert full.lapsed == ["m2", "m3", "m4"]  # m5 is lapsed already
    assert membership(app, "csv-bank:m2").state == "lapsed"
    assert run(app, csv("m1,one@example.org,2024-01-05,,,"), full=True).lapsed == []


def test_sources_do_not_mix(app):
    run(app, FIRST)
    run(app, csv("m1,,2020-01-01,,,"), name="events", full=True)
    assert membership(app, "csv-events:m1").started_at == day("2020-01-01")
    assert membership(app, "csv-bank:m2").state == "active"


def test_the_email_is_kept_only_as_its_fingerprint(app, db_url):
    run(app, FIRST)
    with app.app_context():
        member = db.session.get(Member, "csv-bank:m1")
        assert member.identity and member.identity.startswith("id1:")
        assert member.person_key == member.identity
    dump = _dump(app, db_url)
    assert "one@example.org" not in dump and "two@example.org" not in dump
    assert member.identity in dump


def _dump(app, db_url) -> str:
    if POSTGRES_URL:
        return subprocess.run(
            ["pg_dump", "--data-only", db_url.replace("+psycopg", "")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    with app.app_context():
        connection = db.session.connection().connection.driver_connection
        return "\n".join(connection.iterdump())


def test_undo_restores_the_ledger_exactly(app):
    run(app, FIRST)
    before = ledger(app)
    second = run(
        app,
        csv("m1,one@example.org,2024-01-01,,lapsed,", "m6,six@example.org,2024-06-01,,,"),
        full=True,
    )
    assert ledger(app) != before
    with app.app_context():
        undone = runner.undo_import(db.session, "bank", second.sha256, SETTINGS, audit.CLI)
    assert (undone.events, undone.memberships) == (5, 5)  # m1 changed, m6 new, m2-m4 lapsed
    assert ledger(app) == before
    with app.app_context():
        with pytest.raises(runner.NothingToUndo):
            runner.undo_import(db.session, "bank", second.sha256, SETTINGS, audit.CLI)
        runner.undo_import(db.session, "bank", _hash(FIRST), SETTINGS, audit.CLI)
    assert ledger(app) == {"memberships": {}, "members": {}, "persons": {}, "events": []}


def test_every_import_and_undo_is_in_the_audit_log(app):
    first = run(app, FIRST)
    with app.app_context():
        runner.undo_import(db.session, "bank", first.sha256[:16], SETTINGS, audit.Actor("editor"))
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        logged = runner.recent(db.session)
    assert [(e.actor, e.action) for e in entries] == [
        ("cli", audit.MEMBERS_IMPORTED),
        ("editor", audit.MEMBERS_IMPORT_UNDONE),
    ]
    assert f"sha256={first.sha256}" in entries[0].detail
    assert logged[1].fields["new"] == "5" and logged[1].fields["file"] == "members.csv"
    assert logged[0].undone


def test_recount_rebuilds_imports_like_everything_else(app):
    run(app, FIRST)
    run(app, csv("m1,one@example.org,2024-01-05,,lapsed,"), full=True)
    with app.app_context():
        # The deployment's own translators find every import source by its name.
        report = recount.recount(db.session, sources.translators(app.config), utcnow())
    assert report.events == 9 and report.clean, report.differences
    assert report.unreadable == []


def test_a_member_is_keyed_to_the_person_its_email_names(app):
    run(app, FIRST)
    with app.app_context():
        member = db.session.get(Member, "csv-bank:m1")
        assert member.person_key == identity.fingerprint("ONE@example.org ", KEY)


def test_the_cli_imports_dry_runs_and_undoes(app, runner, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_bytes(FIRST)
    dry = runner.invoke(args=["members", "import", str(path), "--source", "bank", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "new: 5 (m1, m2, m3, m4, m5)" in dry.output and "nothing written" in dry.output
    assert ledger(app)["memberships"] == {}
    done = runner.invoke(args=["members", "import", str(path), "--source", "bank"])
    assert done.exit_code == 0 and "5 event(s) applied" in done.output
    path.write_bytes(csv("m1,,2024-13-01,,,"))
    bad = runner.invoke(args=["members", "import", str(path), "--source", "bank"])
    assert bad.exit_code == 1 and "line 2: started_at" in bad.output
    undo = runner.invoke(args=["members", "import-undo", _hash(FIRST), "--source", "bank"])
    assert undo.exit_code == 0 and "5 event(s) deleted" in undo.output, undo.output
    assert ledger(app)["memberships"] == {}
    wrong = runner.invoke(args=["members", "import", str(path), "--source", "Bad Name!"])
    assert wrong.exit_code == 2 and "not a source name" in wrong.output


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


MIXED = csv(
    "a1,shared@example.org,2024-01-05,,,",
    "a2,shared@example.org,2023-06-01,2024-02-01,,one-off",
    "a3,,2024-03-01,,lapsed,",
    "a4,other@example.org,2024-03-01,,,one-off",
    "a5,,2022-03-01T12:00:00Z,2030-01-01,,",
)


def test_a_batch_gives_exactly_what_the_rules_give_one_event_at_a_time(app):
    """The batch inserts first sightings in bulk and applies the rest through rules.py: the
    ledger must be what rules.py makes of the same events stored one by one."""
    run(app, MIXED)
    run(app, csv("a3,,2024-03-01,,,", "a6,shared@example.org,2021-01-01,,lapsed,"), full=True)
    with app.app_context():
        session = db.session
        translate_ = translate.translator(SETTINGS.term)
        with checks.scratch_ledger() as scratch:
            for row in store.stored_rows(session):
                store.record_event(scratch, store.event_of(row), translate_)
            for model, fields in (
                (Membership, checks.MEMBERSHIP_FIELDS),
                (Member, checks.MEMBER_FIELDS),
                (Person, checks.PERSON_FIELDS),
            ):
                assert checks.rows(session, model, fields) == checks.rows(scratch, model, fields)
        assert session.get(Person, identity.fingerprint("shared@example.org", KEY))


def test_undo_rederives_a_person_who_also_pays_elsewhere(app):
    """A reader in the import who also pays by Stripe stays counted, with Stripe's figures."""
    with app.app_context(), locks.write_transaction(db.session):
        rules.apply_change(
            db.session,
            rules.RecurringChange(
                source="stripe",
                membership="sub_1",
                member="cus_1",
                state=rules.State.ACTIVE,
                final=False,
                at=day("2025-01-01"),
                event_id="evt_1",
                identity=identity.fingerprint("one@example.org", KEY),
            ),
        )
    before = ledger(app)
    first = run(app, FIRST)
    person = identity.fingerprint("one@example.org", KEY)
    assert ledger(app)["persons"][person][1] == day("2024-01-05")  # first started: the import's
    with app.app_context():
        runner.undo_import(db.session, "bank", first.sha256, SETTINGS, audit.CLI)
    assert ledger(app) == before

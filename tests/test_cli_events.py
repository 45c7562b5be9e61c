"""`flask stripe replay` and `flask events prune`."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from membership.ledger import store as ledger
from membership.models import Event, utcnow
from tests import stripe_factory as sf
from tests.conftest import count_of

T = int(time.time()) - 60


def invoke(runner, *args):
    return runner.invoke(args=list(args))


def test_replay_retries_every_failed_event_until_it_applies(
    runner, client, deliver, campaign, monkeypatch
):
    campaign()
    monkeypatch.setattr(ledger, "apply_change", lambda *a: 1 / 0)
    events = [
        sf.checkout_event(f"cs_{i}", T, customer=f"cus_{i}", subscription=f"sub_{i}")
        for i in range(3)
    ]
    for event in events:
        assert deliver(event).status_code == 500
    failing = invoke(runner, "stripe", "replay", "--failed")
    assert failing.exit_code == 1
    assert "3 event(s) still fail" in failing.output
    monkeypatch.undo()
    result = invoke(runner, "stripe", "replay", "--failed")
    assert result.exit_code == 0, result.output
    assert result.output.count(": applied") == 3
    assert count_of(client) == 3
    assert invoke(runner, "stripe", "replay", "--failed").output.strip() == "No failed events."


def test_replaying_an_applied_event_changes_nothing(runner, client, deliver, campaign):
    campaign()
    event = sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1")
    deliver(event)
    result = invoke(runner, "stripe", "replay", event["id"])
    assert result.exit_code == 0
    assert "duplicate" in result.output
    assert count_of(client) == 1


def test_replay_refuses_an_unknown_event_or_no_argument(runner):
    assert invoke(runner, "stripe", "replay", "evt_nope").exit_code == 1
    assert invoke(runner, "stripe", "replay").exit_code == 2
    assert invoke(runner, "stripe", "replay", "evt_x", "--failed").exit_code == 2


def test_prune_deletes_only_old_ignored_events(runner, deliver, session, campaign):
    campaign()
    applied = sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1")
    old_ignored, new_ignored = (sf.other_event("customer.created", T) for _ in range(2))
    for event in (applied, old_ignored, new_ignored):
        deliver(event)
    long_ago = utcnow() - timedelta(days=200)
    for event in (applied, old_ignored):
        session.get(Event, ("stripe", event["id"])).received_at = long_ago
    session.commit()
    result = invoke(runner, "events", "prune", "--older-than", "90")
    assert result.exit_code == 0
    assert "Deleted 1 ignored event(s) older than 90 days." in result.output
    session.rollback()
    kept = set(session.scalars(select(Event.id)))
    assert kept == {applied["id"], new_ignored["id"]}

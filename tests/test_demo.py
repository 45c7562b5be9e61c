"""`flask campaign seed-demo`: the demo opens on a drive in progress, never on a real campaign."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from membership import create_app, demo
from membership.campaigns import figures, windows
from membership.campaigns.settings import get_campaign
from membership.database import db
from membership.ledger import counting
from membership.models import Event, LedgerState, utcnow
from membership.sources.stripe import simulate
from tests import stripe_factory as sf
from tests.conftest import count_of


def seed(runner, *args: str):
    return runner.invoke(args=["campaign", "seed-demo", *args])


def ledger_snapshot(session) -> tuple:
    session.rollback()
    campaign = get_campaign(session, "members")
    return (
        session.scalar(select(func.count()).select_from(Event)),
        session.get(LedgerState, 1).version,
        campaign.baseline,
        campaign.updated_at,
    )


def test_seed_demo_on_an_empty_database_shows_a_drive_with_a_pace_and_a_projection(
    runner, session, admin, client
):
    result = seed(runner)
    assert result.exit_code == 0, result.output
    assert "Demo history (simulated, not real readers)" in result.output

    session.rollback()
    campaign = get_campaign(session, "members")
    now = utcnow()
    # The count the API serves is the ledger's: each sign-up is a member unless cancelled or
    # refunded, read here from the stored events themselves.
    types = Counter(session.scalars(select(Event.type)))
    expected = (
        demo.BASELINE
        + types["checkout.session.completed"]
        - types["customer.subscription.deleted"]
        - types["charge.refunded"]
    )
    assert types["customer.subscription.deleted"] > 0 and types["charge.refunded"] > 0
    assert count_of(client, "members") == expected > demo.BASELINE
    assert expected == demo.BASELINE + counting.count_members_slowly(
        session, windows.counting(campaign), now
    )
    assert f"members: {expected:,} of 25,000" in result.output

    overview = figures.overview(session, campaign, now)
    assert overview.pace.per_day_7 > 0 and overview.pace.per_day_30 > 0
    assert overview.pace.projected is not None and overview.pace.projected > now.date()
    days_with_signups = [day for day in overview.series if day.joined]
    assert len(days_with_signups) >= 30  # spread over the weeks, not one burst
    assert sum(day.left for day in overview.series) > 0  # cancellations show as leaving

    html = admin.get("/admin/campaigns/members").get_data(as_text=True)
    assert f'<dd data-field="count">{expected:,}</dd>' in html
    assert '<dd data-field="per_day_7">+0.0</dd>' not in html
    assert f'<dd data-field="projected">{figures.projection_text(overview.pace)}' in html
    assert "not at the current pace" not in html


def test_the_demo_history_is_labelled_as_simulated_and_added_only_once(runner, session):
    assert seed(runner).exit_code == 0
    session.rollback()
    stored = session.execute(select(Event.id, Event.livemode, Event.payload))
    for event_id, livemode, payload in stored:
        assert event_id.startswith("evt_demo_")
        assert livemode is False
        obj = json.loads(payload)["data"]["object"]
        assert simulate.DEMO_MARKER in obj["id"]
        for field in ("customer", "subscription", "payment_intent"):
            assert obj.get(field) is None or simulate.DEMO_MARKER in obj[field]

    before = ledger_snapshot(session)
    again = seed(runner)
    assert again.exit_code == 0, again.output
    assert "The demo history is already in the ledger" in again.output
    assert ledger_snapshot(session) == before


def test_no_history_creates_only_the_campaign(runner, session):
    result = seed(runner, "--no-history")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("members: 0 of 25,000 (0.0%)")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_it_refuses_a_history_when_another_campaign_exists(runner, session, campaign):
    campaign("drive", goal=1_000)
    result = seed(runner)
    assert result.exit_code == 0, result.output
    assert "No demo history added: the database holds other campaigns (drive)" in result.output
    assert ledger_snapshot(session)[0:3] == (0, 0, 0)


def test_it_refuses_a_history_when_real_events_are_in_the_ledger(runner, session, deliver):
    real = sf.checkout_event("cs_real", int(utcnow().timestamp()) - 60, customer="cus_real")
    real["data"]["object"]["subscription"] = "sub_real"
    assert deliver(real).status_code == 200
    result = seed(runner)
    assert "No demo history added: the ledger holds 1 event(s) that are not the demo's" in (
        result.output
    )
    assert ledger_snapshot(session)[0] == 1
    assert get_campaign(session, "members").baseline == 0


def test_it_refuses_a_campaign_called_members_that_is_not_the_demo(runner, session, campaign):
    campaign("members", goal=5_000, cta_url="https://news.example/join")
    result = seed(runner)
    assert "No demo history added: the campaign 'members' is not the demo" in result.output
    assert ledger_snapshot(session)[0:3] == (0, 0, 0)


def test_it_refuses_where_only_live_mode_events_count(db_url):
    app: Flask = create_app({"DATABASE_URL": db_url, "TESTING": True, "STRIPE_LIVEMODE": "live"})
    try:
        result = seed(app.test_cli_runner())
        assert "No demo history added: this deployment counts live-mode events only" in (
            result.output
        )
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Event)) == 0
    finally:
        app.extensions["database.engine"].dispose()


def test_the_plan_is_six_weeks_of_past_events_with_a_launch_bump_and_a_weekly_rhythm():
    now = datetime(2026, 5, 20, 15, 30, tzinfo=UTC)
    plan = demo.plan(now)
    created = [event["created"] for event in plan.events]
    assert created == sorted(created)
    assert max(created) <= now.timestamp() - 60
    first = datetime.fromtimestamp(min(created), UTC)
    assert now - first < timedelta(days=demo.DAYS + 1)
    assert plan.cancellations > 0 and plan.refunds > 0 and plan.renewals > 0
    assert 300 <= plan.signups <= 2_000

    signups = Counter(
        datetime.fromtimestamp(event["created"], UTC).date()
        for event in plan.events
        if event["type"] == "checkout.session.completed"
    )
    launch = (now - timedelta(days=demo.DAYS - 1)).date()
    ordinary = sorted(signups.values())[len(signups) // 2]
    assert signups[launch] > 3 * ordinary
    weekdays = sum(n for day, n in signups.items() if day.weekday() < 5 and day > launch)
    weekends = sum(n for day, n in signups.items() if day.weekday() >= 5 and day > launch)
    assert weekdays / 5 > weekends / 2  # fewer a day at the weekend


def test_the_plan_is_the_same_drive_every_time():
    now = datetime(2026, 5, 20, 15, 30, tzinfo=UTC)
    first, second = demo.plan(now), demo.plan(now)
    assert (first.signups, first.cancellations, first.refunds) == (
        second.signups,
        second.cancellations,
        second.refunds,
    )
    assert [e["created"] for e in first.events] == [e["created"] for e in second.events]

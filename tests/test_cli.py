"""Flask commands: `campaign …`, `stripe simulate` and `recount`."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from membership import create_app
from membership.campaigns.settings import get_campaign
from membership.models import Adjustment, Campaign, Event, Person, utcnow
from tests import stripe_factory as sf
from tests.conftest import SECRET, count_of

T = int(time.time()) - 3600


def invoke(runner, *args: str):
    return runner.invoke(args=list(args))


def recount(runner, *args: str):
    # `recount` is a plain click command: the `flask` command pushes the app context for it,
    # the test runner (which invokes app.cli directly) does not.
    with runner.app.app_context():
        return runner.invoke(args=["recount", *args])


def stored(session, slug: str = "drive") -> Campaign:
    session.rollback()
    return get_campaign(session, slug)


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], str]]:
    """Serve an app on a real socket; returns its base URL."""
    running = []

    def start(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in running:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def server(app, serve) -> str:
    return serve(app)


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- campaign create ----------------------------------------------------------------------------


def test_create_makes_a_campaign_and_shows_it(runner, session):
    result = invoke(
        runner,
        "campaign",
        "create",
        "drive",
        "--goal",
        "100",
        "--starts",
        "2025-01-01",
        "--deadline",
        "2025-12-31",
        "--rule",
        "new",
        "--baseline",
        "5",
        "--title",
        "X",
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("drive: 5 of 100 (5.0%), ")
    assert "rule new, baseline 5, 2025-01-01 to 2025-12-31" in result.output
    campaign = stored(session)
    assert (campaign.goal, campaign.title, campaign.rule, campaign.baseline) == (100, "X", "new", 5)
    assert (campaign.starts_on, campaign.deadline) == (date(2025, 1, 1), date(2025, 12, 31))


def test_create_with_only_a_goal_uses_the_defaults(runner, session):
    result = invoke(runner, "campaign", "create", "drive", "--goal", "25000")
    assert result.exit_code == 0, result.output
    assert "drive: 0 of 25,000 (0.0%), active, rule active, baseline 0, … to …" in result.output
    assert stored(session).title == "drive"


def test_create_takes_the_display_copy(runner, session):
    result = invoke(
        runner,
        "campaign",
        "create",
        "drive",
        "--goal",
        "10",
        "--headline",
        "H",
        "--message",
        "M",
        "--cta-label",
        "Join",
        "--cta-url",
        "https://news.example/join",
        "--locale",
        "uk",
    )
    assert result.exit_code == 0, result.output
    campaign = stored(session)
    assert (
        campaign.headline,
        campaign.message,
        campaign.cta_label,
        campaign.cta_url,
        campaign.locale,
    ) == ("H", "M", "Join", "https://news.example/join", "uk")


def test_create_requires_a_goal(runner, session):
    result = invoke(runner, "campaign", "create", "drive")
    assert result.exit_code == 2
    assert "Missing option '--goal'" in result.output
    assert stored(session) is None


@pytest.mark.parametrize("day", ["2025-13-01", "2025-02-30", "31/12/2025", "tomorrow"])
def test_create_refuses_a_date_that_is_not_a_day(runner, session, day):
    result = invoke(runner, "campaign", "create", "drive", "--goal", "100", "--deadline", day)
    assert result.exit_code == 2
    assert f"{day!r} is not a date in YYYY-MM-DD form" in result.output
    assert stored(session) is None


def test_create_refuses_a_deadline_before_the_start(runner, session):
    result = invoke(
        runner,
        "campaign",
        "create",
        "drive",
        "--goal",
        "100",
        "--starts",
        "2025-06-01",
        "--deadline",
        "2025-05-31",
    )
    assert result.exit_code == 2
    assert "deadline: must not be before the start" in result.output
    assert stored(session) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--goal", "0"], "goal: must be a whole number above zero"),
        (["--goal", "100", "--baseline", "-1"], "baseline: must be a whole number"),
        (["--goal", "100", "--cta-url", "javascript:alert(1)"], "cta_url: must be an http"),
        (["--goal", "100", "--rule", "all"], "'all' is not one of 'active', 'new'"),
        (["--goal", "lots"], "'lots' is not a valid integer"),
    ],
)
def test_create_refuses_an_invalid_setting_and_names_it(runner, session, args, message):
    result = invoke(runner, "campaign", "create", "drive", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert stored(session) is None


def test_create_refuses_a_duplicate_slug(runner, campaign):
    campaign("drive", goal=10)
    result = invoke(runner, "campaign", "create", "drive", "--goal", "20")
    assert result.exit_code == 2
    assert "a campaign called 'drive' already exists" in result.output


def test_create_refuses_a_malformed_slug(runner, session):
    result = invoke(runner, "campaign", "create", "Spring Drive", "--goal", "20")
    assert result.exit_code == 2
    assert "slug: must be 1-64 lowercase letters" in result.output


# --- campaign list, update, adjust, seed-demo ---------------------------------------------------


def test_list_says_how_to_begin_when_there_are_no_campaigns(runner):
    result = invoke(runner, "campaign", "list")
    assert result.exit_code == 0
    assert "No campaigns yet: flask --app app campaign create SLUG --goal N" in result.output


def test_list_shows_each_campaign_with_its_count(runner, campaign, deliver):
    campaign("zeta", goal=10)
    campaign("alpha", goal=1000, baseline=250)
    deliver(sf.subscription_event("created", "sub_1", "cus_1", "active", T))
    result = invoke(runner, "campaign", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("alpha: 251 of 1,000 (25.1%), active, rule active, baseline 250")
    assert lines[1].startswith("zeta: 1 of 10 (10.0%), active")


def test_update_changes_only_the_options_given(runner, campaign, session):
    campaign("drive", goal=100, starts_on=date(2025, 1, 1), deadline=date(2025, 12, 31), rule="new")
    result = invoke(runner, "campaign", "update", "drive", "--goal", "250", "--title", "New")
    assert result.exit_code == 0, result.output
    assert "of 250 " in result.output
    updated = stored(session)
    assert (updated.goal, updated.title, updated.rule) == (250, "New", "new")
    assert (updated.starts_on, updated.deadline) == (date(2025, 1, 1), date(2025, 12, 31))
    assert updated.cta_url == "https://news.example/join"


def test_update_of_an_unknown_slug_is_refused(runner, session):
    result = invoke(runner, "campaign", "update", "nope", "--goal", "10")
    assert result.exit_code == 2
    assert "no campaign called 'nope'" in result.output


def test_update_refuses_a_deadline_before_the_start_and_changes_nothing(runner, campaign, session):
    campaign("drive", goal=100, starts_on=date(2025, 6, 1), deadline=date(2025, 12, 31))
    result = invoke(
        runner, "campaign", "update", "drive", "--deadline", "2025-05-01", "--goal", "5"
    )
    assert result.exit_code == 2
    assert "deadline: must not be before the start" in result.output
    unchanged = stored(session)
    assert (unchanged.goal, unchanged.deadline) == (100, date(2025, 12, 31))


def test_update_refuses_a_bad_date(runner, campaign, session):
    campaign("drive", goal=100)
    result = invoke(runner, "campaign", "update", "drive", "--starts", "2025-13-01")
    assert result.exit_code == 2
    assert "'2025-13-01' is not a date in YYYY-MM-DD form" in result.output


def test_update_no_deadline_removes_the_deadline_and_keeps_the_start(runner, campaign, session):
    campaign("drive", goal=100, starts_on=date(2025, 1, 1), deadline=date(2025, 12, 31))
    result = invoke(runner, "campaign", "update", "drive", "--no-deadline")
    assert result.exit_code == 0, result.output
    assert "2025-01-01 to …" in result.output
    updated = stored(session)
    assert (updated.starts_on, updated.deadline) == (date(2025, 1, 1), None)


def test_update_no_start_removes_the_start(runner, campaign, session):
    campaign("drive", goal=100, starts_on=date(2025, 1, 1), deadline=date(2025, 12, 31))
    result = invoke(runner, "campaign", "update", "drive", "--no-start")
    assert result.exit_code == 0, result.output
    assert stored(session).starts_on is None


def test_update_refuses_no_deadline_together_with_a_deadline(runner, campaign, session):
    campaign("drive", goal=100, deadline=date(2025, 12, 31))
    result = invoke(
        runner, "campaign", "update", "drive", "--no-deadline", "--deadline", "2026-06-30"
    )
    assert result.exit_code == 2
    assert "--no-deadline" in result.output
    assert stored(session).deadline == date(2025, 12, 31)


def test_a_refused_update_with_no_deadline_changes_nothing(runner, campaign, session):
    campaign("drive", goal=100, starts_on=date(2025, 1, 1), deadline=date(2025, 12, 31))
    result = invoke(runner, "campaign", "update", "drive", "--no-deadline", "--goal", "0")
    assert result.exit_code == 2
    assert "goal: must be a whole number above zero" in result.output
    unchanged = stored(session)
    assert (unchanged.goal, unchanged.deadline) == (100, date(2025, 12, 31))


def test_adjust_adds_members_with_a_reason(runner, campaign, session, client):
    campaign("drive", goal=100)
    result = invoke(
        runner,
        "campaign",
        "adjust",
        "drive",
        "--delta",
        "12",
        "--reason",
        "Print subscribers",
        "--by",
        "maria",
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("drive: 12 of 100 (12.0%)")
    assert count_of(client) == 12
    session.rollback()
    [adjustment] = session.scalars(select(Adjustment))
    assert (adjustment.delta, adjustment.reason, adjustment.created_by) == (
        12,
        "Print subscribers",
        "maria",
    )


def test_adjust_can_remove_members_and_says_who_by_default(runner, campaign, session, client):
    campaign("drive", goal=100, baseline=10)
    result = invoke(runner, "campaign", "adjust", "drive", "--delta", "-4", "--reason", "Dupes")
    assert result.exit_code == 0, result.output
    assert count_of(client) == 6
    session.rollback()
    assert session.scalar(select(Adjustment.created_by)) == "cli"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--delta", "0", "--reason", "x"], "delta: must be a whole number other than zero"),
        (["--delta", "3", "--reason", "  "], "reason: is required"),
        (["--delta", "3"], "Missing option '--reason'"),
        (["--reason", "x"], "Missing option '--delta'"),
    ],
)
def test_adjust_refuses_an_invalid_adjustment(runner, campaign, session, args, message):
    campaign("drive", goal=100)
    result = invoke(runner, "campaign", "adjust", "drive", *args)
    assert result.exit_code == 2
    assert message in result.output
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Adjustment)) == 0


def test_adjust_of_an_unknown_slug_is_refused(runner):
    result = invoke(runner, "campaign", "adjust", "nope", "--delta", "3", "--reason", "x")
    assert result.exit_code == 2
    assert "no campaign called 'nope'" in result.output


def test_seed_demo_creates_the_demo_once(runner, session):
    first = invoke(runner, "campaign", "seed-demo", "--no-history")
    assert first.exit_code == 0, first.output
    assert first.output.startswith("members: 0 of 25,000 (0.0%)")
    year = utcnow().year
    assert f"{year}-01-01 to {year}-12-31" in first.output
    again = invoke(runner, "campaign", "seed-demo", "--no-history")
    assert again.exit_code == 0
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1


# --- stripe simulate ----------------------------------------------------------------------------


def test_simulate_posts_signed_signups_that_count(runner, campaign, client, server, session):
    campaign("drive", goal=100)
    url = f"{server}/webhooks/stripe"
    result = invoke(runner, "stripe", "simulate", "-n", "3", "--url", url)
    assert result.exit_code == 0, result.output
    assert f"Sent 3 sign-up(s) (9 events) to {url}: 9 answered 200" in result.output
    assert count_of(client) == 3
    session.rollback()
    stored = session.execute(select(Event.id, Event.outcome)).all()
    assert sorted(outcome for _, outcome in stored) == ["applied"] * 9
    assert all(event_id.startswith("evt_demo_") for event_id, _ in stored)  # simulated


def test_simulate_sends_events_in_the_mode_the_deployment_counts(db_url, serve):
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "TESTING": True,
            "STRIPE_WEBHOOK_SECRETS": (SECRET,),
            "STRIPE_LIVEMODE": "live",
            "PROGRESS_CACHE_SECONDS": 0,
        }
    )
    try:
        with app.app_context():
            from membership.campaigns import settings as campaigns
            from membership.database import db

            campaigns.create_campaign(db.session, "drive", 100)
        base = serve(app)
        result = app.test_cli_runner().invoke(
            args=["stripe", "simulate", "-n", "2", "--url", f"{base}/webhooks/stripe"]
        )
        assert result.exit_code == 0, result.output
        assert count_of(app.test_client()) == 2
    finally:
        app.extensions["database.engine"].dispose()


def test_simulate_without_a_secret_refuses_and_says_why(db_url):
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "STRIPE_WEBHOOK_SECRETS": ()})
    try:
        result = app.test_cli_runner().invoke(
            args=["stripe", "simulate", "--url", f"http://127.0.0.1:{closed_port()}/"]
        )
        assert result.exit_code == 2
        assert "STRIPE_WEBHOOK_SECRET is not set" in result.output
    finally:
        app.extensions["database.engine"].dispose()


def test_simulate_to_an_unreachable_server_fails_clearly(runner):
    url = f"http://127.0.0.1:{closed_port()}/webhooks/stripe"
    result = invoke(runner, "stripe", "simulate", "--url", url)
    assert result.exit_code == 1
    assert f"Error: could not reach {url}" in result.output


def test_simulate_to_a_url_without_a_scheme_fails_clearly(runner):
    result = invoke(runner, "stripe", "simulate", "--url", "localhost/webhooks/stripe")
    assert result.exit_code != 0
    assert "Error:" in result.output
    assert "localhost/webhooks/stripe" in result.output


def test_simulate_fails_when_the_server_refuses_the_deliveries(db_url, serve, runner):
    other = create_app(
        {
            "DATABASE_URL": db_url,
            "TESTING": True,
            "STRIPE_WEBHOOK_SECRETS": ("whsec_another_endpoint_secret",),
        }
    )
    try:
        base = serve(other)
        result = invoke(runner, "stripe", "simulate", "-n", "2", "--url", f"{base}/webhooks/stripe")
        assert result.exit_code == 1
        assert "6 answered 400" in result.output
        assert "some deliveries were not accepted; see the server log" in result.output
    finally:
        other.extensions["database.engine"].dispose()


@pytest.mark.parametrize("n", ["0", "-1", "10001", "many"])
def test_simulate_refuses_a_count_out_of_range(runner, n):
    result = invoke(runner, "stripe", "simulate", "-n", n)
    assert result.exit_code == 2


# --- recount ------------------------------------------------------------------------------------


@pytest.fixture
def some_members(campaign, deliver):
    campaign("drive", goal=100)
    campaign("newcomers", goal=100, rule="new")
    events = [
        sf.subscription_event("created", "sub_1", "cus_1", "active", T),
        sf.invoice_paid("in_1", "cus_1", "sub_1", T + 1),
        sf.checkout_event("cs_2", T + 2, customer="cus_2", subscription="sub_2"),
        sf.checkout_event("cs_3", T + 3, mode="payment", customer=None, payment_intent="pi_3"),
        sf.subscription_event("deleted", "sub_4", "cus_4", "canceled", T + 4),
        sf.other_event("customer.created", T + 5),
    ]
    for event in events:
        assert deliver(event).status_code == 200
    deliver(events[0])  # a redelivery changes nothing
    return events


def test_recount_of_a_clean_ledger_says_all_counts_agree(runner, some_members):
    result = recount(runner)
    assert result.exit_code == 0, result.output
    assert "Replayed 6 stored events." in result.output
    assert "drive (active): members 3 (from memberships 3, replayed 3); shown 3" in result.output
    assert "newcomers (new): members 3 (from memberships 3, replayed 3); shown 3" in result.output
    assert "DIFFERS" not in result.output
    assert result.output.rstrip().endswith("All counts agree.")


def test_recount_of_an_empty_ledger_agrees(runner):
    result = recount(runner)
    assert result.exit_code == 0, result.output
    assert "Replayed 0 stored events." in result.output
    assert "All counts agree." in result.output


def test_recount_finds_a_tampered_person_and_names_it(runner, some_members, session):
    session.rollback()
    person = session.get(Person, "stripe:cus_2")
    person.active_until = None
    session.commit()
    result = recount(runner)
    assert result.exit_code == 1
    assert "person stripe:cus_2: active_until None != " in result.output
    assert "(stored != replayed)" in result.output
    assert "drive (active): members 2 (from memberships 3, replayed 3); shown 2  <-- DIFFERS" in (
        result.output
    )
    assert "Error: recount found differences" in result.output
    assert "All counts agree." not in result.output


def test_recount_compares_the_served_count_too(runner, some_members, server):
    result = recount(runner, "--url", server)
    assert result.exit_code == 0, result.output
    assert "drive (active): members 3 (from memberships 3, replayed 3); shown 3; served 3" in (
        result.output
    )
    assert "All counts agree." in result.output


def test_recount_reports_a_server_it_cannot_reach(runner, some_members):
    result = recount(runner, "--url", f"http://127.0.0.1:{closed_port()}")
    assert result.exit_code == 1
    assert "served: unreachable" in result.output
    assert "<-- served figure differs" in result.output

"""`flask paypal reconcile` against a fake PayPal API: dry run, apply, idempotence, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from membership.ledger.rules import current_state
from membership.models import Event, Membership
from membership.sources.paypal import reconcile
from tests import fake_paypal, paypal_factory
from tests.conftest import count_of
from tests.fake_paypal import FakePayPal
from tests.paypal_factory import subscription_event

app, pki, post = paypal_factory.app, paypal_factory.pki, paypal_factory.post

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)


def stamp(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def at_paypal(subscription_id: str, status: str, minutes: int) -> dict:
    """A subscription as GET /v1/billing/subscriptions/{id} returns it."""
    return {
        "id": subscription_id,
        "plan_id": "P-1",
        "status": status,
        "status_update_time": stamp(minutes),
        "start_time": stamp(0),
        "create_time": stamp(0),
        "update_time": stamp(minutes),
        "subscriber": {
            "payer_id": "PAYER1",
            "email_address": "reader@example.org",
            "name": {"given_name": "Olena", "surname": "Reader"},
        },
    }


@pytest.fixture
def paypal(app):
    with FakePayPal() as fake:
        app.config.update(
            PAYPAL_API_BASE=fake.url,
            PAYPAL_CLIENT_ID=fake_paypal.CLIENT_ID,
            PAYPAL_CLIENT_SECRET=fake_paypal.CLIENT_SECRET,
        )
        yield fake


def states(session) -> dict[str, str]:
    session.rollback()
    found = {m.key: current_state(m.state, m.final_at) for m in session.scalars(select(Membership))}
    session.rollback()
    return found


def stored_ids(session) -> list[str]:
    session.rollback()
    ids = sorted(session.scalars(select(Event.id)))
    session.rollback()
    return ids


def activate(post, subscription_id: str = "I-1", minutes: int = 1) -> None:
    delivery = subscription_event(
        "BILLING.SUBSCRIPTION.ACTIVATED",
        subscription_id,
        "ACTIVE",
        START + timedelta(minutes=minutes),
    )
    assert post(delivery).status_code == 200


def test_a_missed_cancellation_is_shown_then_applied_once(
    runner, post, paypal, campaign, client, session
):
    campaign()
    activate(post)
    paypal.subscriptions["I-1"] = at_paypal("I-1", "CANCELLED", 90)
    before = stored_ids(session)

    dry = runner.invoke(args=["paypal", "reconcile"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output
    assert "membership paypal:I-1: state active -> lapsed" in dry.output
    assert "Campaign drive: 1 -> 0  <-- changes" in dry.output
    assert stored_ids(session) == before and count_of(client) == 1

    applied = runner.invoke(args=["paypal", "reconcile", "--apply"])
    assert applied.exit_code == 0, applied.output
    assert states(session) == {"paypal:I-1": "lapsed"}
    assert count_of(client) == 0
    synthesised = f"reconcile:I-1:CANCELLED:{stamp(90)}"
    assert synthesised in stored_ids(session)

    again = runner.invoke(args=["paypal", "reconcile", "--apply"])
    assert "1 checked, 1 agree with the ledger, 0 recorded" in again.output
    assert stored_ids(session) == sorted([*before, synthesised])


def test_a_subscription_the_ledger_never_heard_of_is_added_by_id(runner, paypal, session):
    paypal.subscriptions["I-LOST"] = at_paypal("I-LOST", "ACTIVE", 5)
    result = runner.invoke(args=["paypal", "reconcile", "I-LOST", "I-NOWHERE", "--apply"])
    assert result.exit_code == 0, result.output
    assert "unknown to PayPal: I-NOWHERE" in result.output
    assert states(session) == {"paypal:I-LOST": "active"}
    session.rollback()
    [event] = session.scalars(select(Event))
    for personal in ("reader@example.org", "Olena"):
        assert personal not in event.payload
    assert event.identity is not None


def test_a_newer_real_event_wins_over_reconcile(runner, post, paypal, session):
    activate(post, minutes=100)  # reactivated after what PayPal's record below says
    paypal.subscriptions["I-1"] = at_paypal("I-1", "SUSPENDED", 50)
    runner.invoke(args=["paypal", "reconcile", "--apply"])
    assert states(session) == {"paypal:I-1": "active"}


def test_a_revoked_token_is_fetched_again(paypal, app, session):
    paypal.subscriptions["I-1"] = at_paypal("I-1", "ACTIVE", 5)
    client = reconcile.Client(paypal.url, fake_paypal.CLIENT_ID, fake_paypal.CLIENT_SECRET)
    assert client.subscription("I-1")["status"] == "ACTIVE"
    paypal.revoke_tokens()
    assert client.subscription("I-1")["status"] == "ACTIVE"
    assert [p for _, p, _ in paypal.requests].count("/v1/oauth2/token") == 2


def test_wrong_credentials_fail_clearly_and_write_nothing(runner, post, paypal, app, session):
    activate(post)
    app.config["PAYPAL_CLIENT_SECRET"] = "wrong"
    before = stored_ids(session)
    result = runner.invoke(args=["paypal", "reconcile", "--apply"])
    assert result.exit_code != 0
    assert "refused the client credentials" in result.output
    assert stored_ids(session) == before


def test_unset_credentials_say_where_to_find_them(runner, app):
    app.config["PAYPAL_CLIENT_ID"] = ""
    result = runner.invoke(args=["paypal", "reconcile"])
    assert result.exit_code != 0 and "PAYPAL_CLIENT_ID" in result.output


def test_a_paypal_error_midway_writes_nothing(runner, post, paypal, session):
    activate(post, "I-1")
    activate(post, "I-2")
    paypal.subscriptions["I-1"] = at_paypal("I-1", "CANCELLED", 90)
    paypal.failing.add("I-2")
    before = stored_ids(session)
    result = runner.invoke(args=["paypal", "reconcile", "--apply"])
    assert result.exit_code != 0 and "500" in result.output
    assert stored_ids(session) == before
    assert states(session) == {"paypal:I-1": "active", "paypal:I-2": "active"}

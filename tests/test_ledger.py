"""membership/ledger/rules.py: the counting rules, one scenario per test, through the webhook."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from membership.campaigns import progress
from membership.campaigns.settings import get_campaign
from membership.ledger import rules
from membership.ledger.store import Outcome
from membership.models import Event, Membership
from membership.sources.payloads import NotAnEvent
from membership.sources.stripe.translate import Settings
from tests import stripe_factory as sf
from tests.conftest import count_of

T = int(time.time()) - 3600  # an hour ago: well inside any campaign running now
AT = datetime.fromtimestamp(T, UTC)
DAY = 86400


def deliver_all(deliver, *events):
    for event in events:
        response = deliver(event)
        assert response.status_code == 200, response.get_json()


def test_a_customer_with_two_active_subscriptions_counts_once(client, deliver, campaign):
    campaign()
    deliver_all(
        deliver,
        sf.subscription_event("created", "sub_a", "cus_1", "active", T),
        sf.subscription_event("created", "sub_b", "cus_1", "active", T + 1),
    )
    assert count_of(client) == 1


def test_a_customer_still_counts_while_another_subscription_is_active(client, deliver, campaign):
    campaign()
    deliver_all(
        deliver,
        sf.subscription_event("created", "sub_a", "cus_1", "active", T),
        sf.subscription_event("created", "sub_b", "cus_1", "active", T + 1),
        sf.subscription_event("deleted", "sub_a", "cus_1", "canceled", T + 2),
    )
    assert count_of(client) == 1
    deliver(sf.subscription_event("deleted", "sub_b", "cus_1", "canceled", T + 3))
    assert count_of(client) == 0


def test_a_subscription_through_its_whole_life(client, deliver, campaign):
    campaign()
    steps = [
        (sf.subscription_event("created", "sub_1", "cus_1", "incomplete", T), 0),
        (sf.invoice_paid("in_1", "cus_1", "sub_1", T + 1), 1),
        (sf.subscription_event("updated", "sub_1", "cus_1", "active", T + 2), 1),
        (sf.subscription_event("updated", "sub_1", "cus_1", "past_due", T + 30 * DAY // 100), 1),
        (sf.subscription_event("updated", "sub_1", "cus_1", "unpaid", T + 40 * DAY // 100), 0),
        (sf.invoice_paid("in_2", "cus_1", "sub_1", T + 41 * DAY // 100), 1),
        (sf.subscription_event("updated", "sub_1", "cus_1", "paused", T + 50 * DAY // 100), 0),
        (sf.subscription_event("updated", "sub_1", "cus_1", "active", T + 51 * DAY // 100), 1),
        (sf.subscription_event("deleted", "sub_1", "cus_1", "canceled", T + 60 * DAY // 100), 0),
        # Resubscribes: a new subscription for the same customer.
        (sf.checkout_event("cs_2", T + 70 * DAY // 100, customer="cus_1", subscription="sub_2"), 1),
    ]
    for event, expected in steps:
        deliver_all(deliver, event)
        assert count_of(client) == expected, event["type"]


def test_incomplete_has_not_started_and_incomplete_expired_never_will(client, deliver, campaign):
    campaign()
    deliver_all(deliver, sf.subscription_event("created", "sub_1", "cus_1", "incomplete", T))
    assert count_of(client) == 0
    deliver_all(
        deliver, sf.subscription_event("updated", "sub_1", "cus_1", "incomplete_expired", T + 5)
    )
    # A stray late invoice.paid cannot revive a subscription Stripe has expired.
    deliver_all(deliver, sf.invoice_paid("in_1", "cus_1", "sub_1", T + 10))
    assert count_of(client) == 0


def test_a_trial_counts(client, deliver, campaign):
    campaign()
    deliver_all(deliver, sf.subscription_event("created", "sub_1", "cus_1", "trialing", T))
    assert count_of(client) == 1


def test_a_late_created_cannot_undo_a_deleted(client, deliver, campaign):
    campaign()
    deliver_all(
        deliver,
        sf.subscription_event("deleted", "sub_1", "cus_1", "canceled", T + 100),
        sf.subscription_event("created", "sub_1", "cus_1", "active", T),
        sf.subscription_event("updated", "sub_1", "cus_1", "active", T + 50),
    )
    assert count_of(client) == 0


def test_deleted_is_final_even_against_a_newer_active_event(client, deliver, campaign):
    campaign()
    deliver_all(
        deliver,
        sf.subscription_event("deleted", "sub_1", "cus_1", "canceled", T),
        sf.subscription_event("updated", "sub_1", "cus_1", "active", T + 100),
    )
    assert count_of(client) == 0


def test_an_older_update_does_not_overwrite_a_newer_one(client, deliver, campaign):
    campaign()
    deliver_all(
        deliver,
        sf.subscription_event("updated", "sub_1", "cus_1", "unpaid", T + 100),
        sf.subscription_event("updated", "sub_1", "cus_1", "active", T + 50),
    )
    assert count_of(client) == 0


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_a_subscription_created_and_deleted_in_one_second_is_lapsed_now(
    client, deliver, campaign, session, order
):
    campaign()
    events = [
        sf.subscription_event("created", "sub_1", "cus_1", "active", T),
        sf.subscription_event("deleted", "sub_1", "cus_1", "canceled", T),
    ]
    deliver_all(deliver, *(events[i] for i in order))
    session.rollback()
    membership = session.get(Membership, "stripe:sub_1")
    # The state register keeps the tie's winner; what the subscription is now is lapsed.
    assert (membership.state, membership.final_at) == ("active", AT)
    assert rules.current_state(membership.state, membership.final_at) == "lapsed"
    assert count_of(client) == 0


def test_a_tie_is_broken_by_the_rule_not_by_arrival(client, deliver, campaign):
    campaign()
    lapsed = sf.subscription_event("updated", "sub_1", "cus_1", "unpaid", T, id="evt_b")
    active = sf.invoice_paid("in_1", "cus_1", "sub_1", T, id="evt_a")
    lapsed2 = sf.subscription_event("updated", "sub_2", "cus_2", "unpaid", T, id="evt_d")
    active2 = sf.invoice_paid("in_2", "cus_2", "sub_2", T, id="evt_c")
    deliver_all(deliver, lapsed, active, active2, lapsed2)
    # Lapsed sorts before active at the same second, whichever came first.
    assert count_of(client) == 2


def test_a_paid_subscription_checkout_alone_makes_a_member(client, deliver, campaign):
    campaign()
    deliver_all(deliver, sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1"))
    assert count_of(client) == 1


def test_invoice_paid_counts_in_both_api_shapes(client, deliver, campaign):
    campaign()
    deliver_all(
        deliver,
        sf.invoice_paid("in_old", "cus_1", "sub_1", T, shape="old"),
        sf.invoice_paid("in_new", "cus_2", "sub_2", T, shape="new"),
    )
    assert count_of(client) == 2


def test_an_invoice_without_a_subscription_is_ignored(client, deliver, campaign):
    campaign()
    response = deliver(sf.invoice_paid("in_1", "cus_1", None, T))
    assert response.get_json()["outcome"] == "ignored"
    assert count_of(client) == 0


def test_a_delayed_payment_counts_only_once_it_succeeds(client, deliver, campaign):
    campaign()
    pending = sf.checkout_event(
        "cs_1", T, mode="payment", payment_status="unpaid", customer="cus_1", payment_intent="pi_1"
    )
    assert deliver(pending).get_json()["outcome"] == "ignored"
    assert count_of(client) == 0
    succeeded = sf.checkout_event(
        "cs_1",
        T + 60,
        mode="payment",
        customer="cus_1",
        payment_intent="pi_1",
        kind="async_payment_succeeded",
    )
    deliver_all(deliver, succeeded)
    assert count_of(client) == 1


def test_a_delayed_payment_that_fails_never_counts(client, deliver, campaign):
    campaign()
    deliver_all(
        deliver,
        sf.checkout_event(
            "cs_1",
            T,
            mode="subscription",
            payment_status="unpaid",
            customer="cus_1",
            subscription="sub_1",
        ),
        sf.checkout_event(
            "cs_1",
            T + 60,
            mode="subscription",
            payment_status="unpaid",
            customer="cus_1",
            subscription="sub_1",
            kind="async_payment_failed",
        ),
        sf.subscription_event("created", "sub_1", "cus_1", "incomplete", T),
    )
    assert count_of(client) == 0


def test_a_one_off_payment_counts_and_a_full_refund_lapses_it(client, deliver, campaign):
    campaign()
    deliver_all(
        deliver,
        sf.checkout_event("cs_1", T, mode="payment", customer="cus_1", payment_intent="pi_1"),
    )
    assert count_of(client) == 1
    deliver_all(deliver, sf.charge_refunded("ch_1", "pi_1", T + 10, refunded=False))
    assert count_of(client) == 1  # partial refunds change nothing
    deliver_all(deliver, sf.charge_refunded("ch_1", "pi_1", T + 20))
    assert count_of(client) == 0


def test_a_refund_that_arrives_before_its_payment_still_lapses_it(client, deliver, campaign):
    campaign()
    deliver_all(
        deliver,
        sf.charge_refunded("ch_1", "pi_1", T + 20),
        sf.checkout_event("cs_1", T, mode="payment", customer="cus_1", payment_intent="pi_1"),
    )
    assert count_of(client) == 0


def test_each_guest_checkout_is_its_own_member(client, deliver, campaign):
    campaign()
    deliver_all(
        deliver,
        sf.checkout_event("cs_guest_1", T, mode="payment", payment_intent="pi_1"),
        sf.checkout_event("cs_guest_2", T, mode="payment", payment_intent="pi_2"),
        sf.checkout_event("cs_free", T, mode="payment", payment_status="no_payment_required"),
    )
    assert count_of(client) == 3


def test_a_setup_mode_checkout_is_ignored(deliver):
    event = sf.checkout_event("cs_setup", T, mode="setup", payment_status="no_payment_required")
    assert deliver(event).get_json()["outcome"] == "ignored"


def test_a_one_off_membership_runs_for_its_term(session, campaign):
    drive = campaign(goal=10)
    paid = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    event = sf.checkout_event(
        "cs_1", int(paid.timestamp()), mode="payment", customer="cus_1", payment_intent="pi_1"
    )
    result = sf.record(session, event, Settings(term=timedelta(days=365)))
    assert result.outcome == Outcome.APPLIED
    drive = get_campaign(session, "drive")
    assert progress.compute(session, drive, paid + timedelta(days=364)).count == 1
    last_day = progress.compute(session, drive, paid + timedelta(days=365, seconds=-1))
    assert last_day.count == 1
    # The figures say when they stop being exact: the moment the term runs out.
    assert last_day.valid_until == paid + timedelta(days=365)
    expired = progress.compute(session, drive, paid + timedelta(days=365))
    assert expired.count == 0
    # Time was an input of the count: updated_at moves to the moment the term ran out.
    assert expired.updated_at == paid + timedelta(days=365)


def test_the_term_is_configurable(session, campaign):
    campaign(goal=10)
    paid = datetime(2025, 3, 1, tzinfo=UTC)
    event = sf.checkout_event(
        "cs_1", int(paid.timestamp()), mode="payment", customer="cus_1", payment_intent="pi_1"
    )
    sf.record(session, event, Settings(term=timedelta(days=30)))
    drive = get_campaign(session, "drive")
    assert progress.compute(session, drive, paid + timedelta(days=29)).count == 1
    assert progress.compute(session, drive, paid + timedelta(days=30)).count == 0


def _new_rule_campaign(campaign):
    return campaign(
        slug="drive", goal=100, rule="new", starts_on=date(2025, 1, 1), deadline=date(2025, 12, 31)
    )


def ts(y, m, d, hh=12, mm=0, ss=0):
    return int(datetime(y, m, d, hh, mm, ss, tzinfo=UTC).timestamp())


def test_new_counts_members_whose_first_membership_started_in_the_window(client, deliver, campaign):
    _new_rule_campaign(campaign)
    deliver_all(
        deliver,
        # Joined inside the window, later cancelled: still a new member of this drive.
        sf.subscription_event("created", "sub_in", "cus_in", "active", ts(2025, 3, 1)),
        sf.subscription_event("deleted", "sub_in", "cus_in", "canceled", ts(2025, 4, 1)),
        # Joined before the window, lapsed, rejoined inside it: a member again, not new.
        sf.subscription_event("created", "sub_old", "cus_back", "active", ts(2024, 6, 1)),
        sf.subscription_event("deleted", "sub_old", "cus_back", "canceled", ts(2024, 9, 1)),
        sf.subscription_event("created", "sub_back", "cus_back", "active", ts(2025, 2, 1)),
        # On the deadline day, a second before midnight: included.
        sf.checkout_event(
            "cs_last",
            ts(2025, 12, 31, 23, 59, 59),
            mode="payment",
            customer="cus_last",
            payment_intent="pi_last",
        ),
        # The first second after the deadline day: not.
        sf.checkout_event(
            "cs_late",
            ts(2026, 1, 1, 0, 0, 0),
            mode="payment",
            customer="cus_late",
            payment_intent="pi_late",
        ),
        # The first second of the start day: included.
        sf.checkout_event(
            "cs_first",
            ts(2025, 1, 1, 0, 0, 0),
            mode="payment",
            customer="cus_first",
            payment_intent="pi_first",
        ),
    )
    assert count_of(client) == 3


def test_new_skips_a_refunded_first_membership(client, deliver, campaign):
    _new_rule_campaign(campaign)
    deliver_all(
        deliver,
        # A refunded one-off payment before the window does not make them an old member...
        sf.checkout_event(
            "cs_1", ts(2024, 11, 1), mode="payment", customer="cus_1", payment_intent="pi_1"
        ),
        sf.charge_refunded("ch_1", "pi_1", ts(2024, 11, 2)),
        # ...so joining inside the window makes them new.
        sf.subscription_event("created", "sub_1", "cus_1", "active", ts(2025, 5, 1)),
        # A payment inside the window that was refunded makes nobody new.
        sf.checkout_event(
            "cs_2", ts(2025, 5, 1), mode="payment", customer="cus_2", payment_intent="pi_2"
        ),
        sf.charge_refunded("ch_2", "pi_2", ts(2025, 5, 3)),
    )
    assert count_of(client) == 1


def test_the_count_adds_the_baseline_and_adjustments(client, deliver, campaign, session):
    from membership.campaigns.settings import add_adjustment

    drive = campaign(baseline=1200)
    deliver_all(deliver, sf.subscription_event("created", "sub_1", "cus_1", "active", T))
    assert count_of(client) == 1201
    drive = get_campaign(session, "drive")
    add_adjustment(session, drive, 50, "Print subscribers signed up at the festival", "desk")
    add_adjustment(session, drive, -1, "Duplicate of a Stripe member", "desk")
    assert count_of(client) == 1250


def test_a_payload_nested_too_deep_is_refused_before_the_ledger_and_stores_nothing(session):
    # Callers other than the webhook (reconcile, the demo) parse payloads the same way.
    event = sf.subscription_event("created", "sub_1", "cus_1", "active", T)
    payload = json.dumps(event).replace('"active"', "[" * 70 + '"active"' + "]" * 70, 1)
    with pytest.raises(NotAnEvent, match="nested too deep"):
        sf.record(session, payload)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_an_event_for_a_subscription_of_another_customer_fails_loudly(deliver, session):
    deliver_all(deliver, sf.subscription_event("created", "sub_1", "cus_1", "active", T))
    response = deliver(sf.subscription_event("updated", "sub_1", "cus_2", "active", T + 5))
    assert response.status_code == 500
    session.rollback()
    stored = session.get(Event, ("stripe", response.get_json()["id"]))
    assert stored.outcome == "failed"
    assert "belongs to stripe:cus_1" in stored.detail

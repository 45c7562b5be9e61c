"""PayPal event -> ledger change: statuses, payments, refunds, modes, and every real body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from membership.ledger.rules import Ignored, OneOffPayment, PaymentRefund, RecurringChange, State
from membership.sources.paypal import envelope, translate
from membership.sources.paypal import simulate as ps
from tests import paypal_factory
from tests.paypal_factory import capture_completed, capture_refunded, sale_completed

app, pki, post = paypal_factory.app, paypal_factory.pki, paypal_factory.post

FIXTURES = Path(__file__).parent / "fixtures" / "paypal"
AT = datetime(2024, 7, 30, 10, 15, tzinfo=UTC)
KEY = b"test-identity-key-of-at-least-32-bytes"


def change(delivery, settings=None, **parse):
    settings = settings or translate.Settings()
    return translate.translate(envelope.parse(ps.body_of(delivery).decode(), **parse), settings)


# The plan every simulated subscription is on (membership/sources/paypal/simulate.py).
PLAN = frozenset({"plan:P-5ML4271244454362WXNWU5NQ"})


def subscription(event_type, status, **kw):
    return ps.event(event_type, ps.subscription("I-1", status, at=AT, **kw), created=AT)


@pytest.mark.parametrize(
    ("status", "state", "final"),
    [
        ("APPROVAL_PENDING", State.PENDING, False),
        ("APPROVED", State.PENDING, False),
        ("ACTIVE", State.ACTIVE, False),
        ("SUSPENDED", State.LAPSED, False),
        ("CANCELLED", State.LAPSED, True),
        ("EXPIRED", State.LAPSED, True),
    ],
)
def test_subscription_statuses(status, state, final):
    found = change(subscription("BILLING.SUBSCRIPTION.UPDATED", status, payer_id="PAYER9"))
    assert found == RecurringChange(
        "paypal", "I-1", "I-1", state, final, AT, found.event_id, identity=None, offers=PLAN
    )


def test_a_subscriptions_plan_is_its_offer_and_a_sale_names_none():
    assert change(subscription("BILLING.SUBSCRIPTION.ACTIVATED", "ACTIVE")).offers == PLAN
    assert change(sale_completed("SALE1", "I-1", AT)).offers == frozenset()


def test_the_subscription_is_its_own_member_with_or_without_a_payer():
    pending = change(subscription("BILLING.SUBSCRIPTION.CREATED", "APPROVAL_PENDING"))
    active = change(subscription("BILLING.SUBSCRIPTION.ACTIVATED", "ACTIVE", payer_id="P1"))
    paid = change(sale_completed("SALE1", "I-1", AT))
    assert pending.member == active.member == paid.member == "I-1"
    assert paid.state == State.ACTIVE and paid.membership == "I-1"


def test_the_identity_goes_into_the_change():
    found = change(subscription("BILLING.SUBSCRIPTION.ACTIVATED", "ACTIVE"), identity_key=KEY)
    assert found.identity is not None and found.identity.startswith("id1:")


def test_an_unknown_status_is_unreadable_not_ignored():
    with pytest.raises(translate.UnknownStatus):
        change(subscription("BILLING.SUBSCRIPTION.UPDATED", "HIBERNATING"))


def test_a_failed_payment_and_a_plain_sale_are_ignored():
    failed = subscription("BILLING.SUBSCRIPTION.PAYMENT.FAILED", "ACTIVE")
    assert isinstance(change(failed), Ignored)
    sale = sale_completed("SALE1", "I-1", AT)
    del sale["resource"]["billing_agreement_id"]
    assert isinstance(change(sale), Ignored)


def test_a_capture_is_a_one_off_membership_for_the_term():
    settings = translate.Settings(term=timedelta(days=30))
    found = change(capture_completed("CAP1", "ORDER1", AT), settings)
    assert found == OneOffPayment(
        "paypal", "ORDER1", "ORDER1", "CAP1", timedelta(days=30), AT, found.event_id
    )
    without_order = change(capture_completed("CAP2", None, AT))
    assert (without_order.membership, without_order.payment) == ("CAP2", "CAP2")


def test_refunds_name_the_capture_or_sale():
    refunded = capture_refunded("REF1", "CAP1", AT, event_id="WH-R1")
    assert change(refunded) == PaymentRefund("paypal", "CAP1", AT, "WH-R1")
    sale = (FIXTURES / "10-paypal2-payment.sale.refunded.json").read_text()
    assert translate.translate(envelope.parse(sale)).payment == "9T0916710M1105906"


@pytest.mark.parametrize(
    ("mode", "livemode", "counted"),
    [
        (None, True, True),
        (None, False, True),
        ("live", True, True),
        ("live", False, False),
        ("live", None, True),
        ("sandbox", False, True),
        ("sandbox", True, False),
    ],
)
def test_the_mode_setting(mode, livemode, counted):
    settings = translate.Settings(mode=mode)
    found = change(
        subscription("BILLING.SUBSCRIPTION.ACTIVATED", "ACTIVE"), settings, livemode=livemode
    )
    assert isinstance(found, RecurringChange) is counted


EXPECTED = {
    "01": "pending",
    "02": "active",
    "03": "lapsed",
    "04": "lapsed, final",
    "05": "lapsed, final",
    "06": "ignored",
    "07": "pending",
    "08": "lapsed, final",
    "09": "ignored",
    "10": "refund",
    "11": "ignored",
    "12": "one-off",
    "13": "refund",
    "14": "ignored",
    "15": "lapsed",
    "16": "lapsed",
    "17": "active",
    "18": "active",
    "25": "ignored",
}


def summary(found) -> str:
    if isinstance(found, RecurringChange):
        return found.state.value + (", final" if found.final else "")
    if isinstance(found, OneOffPayment):
        return "one-off"
    return "refund" if isinstance(found, PaymentRefund) else "ignored"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name[:2])
def test_every_real_body_translates(path):
    assert summary(translate.translate(envelope.parse(path.read_text()))) == EXPECTED[path.name[:2]]


def test_every_real_body_is_recorded_through_the_webhook_without_a_500(post):
    for path in sorted(FIXTURES.glob("*.json")):
        response = post(path.read_bytes())  # re-signed by the test CA; bytes as recorded
        assert response.status_code == 200, (path.name, response.get_data(as_text=True))

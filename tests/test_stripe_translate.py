"""membership/sources/stripe/translate.py: a Stripe event to a ledger change, pure."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from membership.ledger.rules import (
    Ignored,
    OneOffPayment,
    PaymentRefund,
    RecurringChange,
    State,
)
from membership.sources.payloads import NotAnEvent
from membership.sources.stripe.envelope import parse
from membership.sources.stripe.translate import (
    Settings,
    UnknownStatus,
    UnreadableEvent,
    invoice_subscription,
    translate,
)
from tests import stripe_factory as sf

T = 1_767_225_600  # 2026-01-01T00:00:00Z
AT = datetime.fromtimestamp(T, UTC)
ACTIVE, LAPSED, PENDING = State.ACTIVE, State.LAPSED, State.PENDING
TERM = timedelta(days=365)


def change_of(event: dict, settings: Settings = Settings()):  # noqa: B008
    """The change an event makes, its offers left out (test_stripe_offers.py checks those)."""
    change = translate(parse(event), settings)
    return replace(change, offers=frozenset()) if hasattr(change, "offers") else change


def test_an_unknown_status_is_an_unreadable_event_not_an_invalid_one():
    assert issubclass(UnknownStatus, UnreadableEvent)
    assert not issubclass(UnreadableEvent, NotAnEvent)


@pytest.mark.parametrize(
    ("counted", "livemode", "reason"),
    [
        ("live", False, "test-mode event; this deployment counts live mode only"),
        ("test", True, "live-mode event; this deployment counts test mode only"),
    ],
)
def test_events_of_the_mode_the_deployment_does_not_count_are_ignored(counted, livemode, reason):
    event = sf.subscription_event("created", "sub_1", "cus_1", "active", T, livemode=livemode)
    assert change_of(event, Settings(livemode=counted)) == Ignored(reason)


# --- subscriptions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "state", "final"),
    [
        ("active", ACTIVE, False),
        ("trialing", ACTIVE, False),
        ("past_due", ACTIVE, False),
        ("incomplete", PENDING, False),
        ("unpaid", LAPSED, False),
        ("paused", LAPSED, False),
        ("canceled", LAPSED, True),
        ("incomplete_expired", LAPSED, True),
    ],
)
@pytest.mark.parametrize("kind", ["created", "updated"])
def test_each_subscription_status_maps_to_a_state(kind, status, state, final):
    event = sf.subscription_event(kind, "sub_1", "cus_1", status, T, id="evt_s")
    assert change_of(event) == RecurringChange(
        source="stripe",
        membership="sub_1",
        member="cus_1",
        state=state,
        final=final,
        at=AT,
        event_id="evt_s",
    )


@pytest.mark.parametrize("status", ["canceled", "active", "incomplete"])
def test_a_deleted_subscription_is_lapsed_for_good_whatever_its_status(status):
    change = change_of(sf.subscription_event("deleted", "sub_1", "cus_1", status, T))
    assert (change.state, change.final) == (LAPSED, True)


def test_it_cannot_read_an_unknown_subscription_status():
    event = sf.subscription_event("updated", "sub_1", "cus_1", "on_holiday", T)
    with pytest.raises(UnknownStatus, match="unknown subscription status 'on_holiday'"):
        change_of(event)


def test_it_cannot_read_a_subscription_without_a_status():
    event = sf.subscription_event("updated", "sub_1", "cus_1", "active", T)
    del event["data"]["object"]["status"]
    with pytest.raises(UnreadableEvent, match="the subscription has no status"):
        change_of(event)


def test_it_cannot_read_a_subscription_without_a_customer():
    event = sf.subscription_event("updated", "sub_1", "cus_1", "active", T)
    event["data"]["object"]["customer"] = None
    with pytest.raises(UnreadableEvent, match="the subscription has no customer id"):
        change_of(event)


def test_it_reads_an_expanded_customer_object():
    event = sf.subscription_event("updated", "sub_1", "cus_1", "active", T)
    event["data"]["object"]["customer"] = sf.fixture("customer", id="cus_expanded")
    assert change_of(event).member == "cus_expanded"


@pytest.mark.parametrize("sub_id", ["sub_" + "x" * 252, "sub_\x00", "sub_\ud800", "sub\n1"])
def test_it_cannot_read_an_id_no_database_could_store(sub_id):
    event = sf.subscription_event("updated", sub_id, "cus_1", "active", T)
    with pytest.raises(UnreadableEvent, match="the subscription has no id"):
        change_of(event)


# --- invoices -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["old", "new"])
def test_a_paid_invoice_activates_its_subscription_in_either_shape(shape):
    event = sf.invoice_paid("in_1", "cus_1", "sub_1", T, shape=shape, id="evt_i")
    assert change_of(event) == RecurringChange(
        source="stripe",
        membership="sub_1",
        member="cus_1",
        state=ACTIVE,
        final=False,
        at=AT,
        event_id="evt_i",
    )


def test_the_old_invoice_shape_puts_the_subscription_at_the_top():
    invoice = sf.invoice_paid("in_1", "cus_1", "sub_old", T, shape="old")["data"]["object"]
    assert "parent" not in invoice
    assert invoice_subscription(invoice) == "sub_old"


def test_the_new_invoice_shape_puts_the_subscription_under_parent():
    invoice = sf.invoice_paid("in_1", "cus_1", "sub_new", T, shape="new")["data"]["object"]
    assert invoice["subscription"] is None
    assert invoice_subscription(invoice) == "sub_new"


def test_it_reads_an_expanded_subscription_in_either_invoice_shape():
    old = sf.invoice_paid("in_1", "cus_1", "sub_1", T, shape="old")["data"]["object"]
    old["subscription"] = sf.fixture("subscription", id="sub_x")
    assert invoice_subscription(old) == "sub_x"
    new = sf.invoice_paid("in_1", "cus_1", "sub_1", T, shape="new")["data"]["object"]
    new["parent"]["subscription_details"]["subscription"] = sf.fixture("subscription", id="sub_y")
    assert invoice_subscription(new) == "sub_y"


@pytest.mark.parametrize("shape", ["old", "new"])
def test_an_invoice_without_a_subscription_is_ignored(shape):
    event = sf.invoice_paid("in_1", "cus_1", None, T, shape=shape)
    assert change_of(event) == Ignored("invoice is not for a subscription")


def test_an_invoice_with_no_parent_at_all_is_ignored():
    event = sf.invoice_paid("in_1", "cus_1", None, T, shape="new")
    event["data"]["object"]["parent"] = None
    assert isinstance(change_of(event), Ignored)


def test_it_refuses_a_subscription_invoice_without_a_customer():
    event = sf.invoice_paid("in_1", "cus_1", "sub_1", T)
    event["data"]["object"]["customer"] = None
    with pytest.raises(UnreadableEvent, match="the invoice has no customer id"):
        change_of(event)


@pytest.mark.parametrize("kind", ["invoice.payment_failed", "invoice.created", "invoice.finalized"])
def test_other_invoice_events_are_ignored(kind):
    event = sf.invoice_paid("in_1", "cus_1", "sub_1", T)
    event["type"] = kind
    assert change_of(event) == Ignored(f"{kind} does not change membership")


# --- checkout sessions --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["completed", "async_payment_succeeded"])
@pytest.mark.parametrize("payment_status", ["paid", "no_payment_required"])
def test_a_paid_subscription_checkout_activates_its_subscription(kind, payment_status):
    event = sf.checkout_event(
        "cs_1",
        T,
        customer="cus_1",
        subscription="sub_1",
        kind=kind,
        payment_status=payment_status,
        id="evt_c",
    )
    assert change_of(event) == RecurringChange(
        source="stripe",
        membership="sub_1",
        member="cus_1",
        state=ACTIVE,
        final=False,
        at=AT,
        event_id="evt_c",
    )


@pytest.mark.parametrize("mode", ["subscription", "payment", "setup"])
def test_an_unpaid_checkout_is_ignored_until_its_payment_succeeds(mode):
    event = sf.checkout_event(
        "cs_1", T, mode=mode, payment_status="unpaid", customer="cus_1", subscription="sub_1"
    )
    assert change_of(event) == Ignored("checkout session is unpaid")


def test_a_paid_payment_checkout_is_a_one_off_membership():
    event = sf.checkout_event(
        "cs_1", T, mode="payment", customer="cus_1", payment_intent="pi_1", id="evt_p"
    )
    assert change_of(event) == OneOffPayment(
        source="stripe",
        membership="cs_1",
        member="cus_1",
        payment="pi_1",
        term=TERM,
        at=AT,
        event_id="evt_p",
    )


def test_a_guest_checkout_makes_the_session_itself_the_member():
    event = sf.checkout_event("cs_guest", T, mode="payment", customer=None, payment_intent="pi_1")
    change = change_of(event)
    assert isinstance(change, OneOffPayment)
    assert change.member == "cs_guest"


def test_a_payment_checkout_without_a_payment_intent_still_counts():
    event = sf.checkout_event(
        "cs_1",
        T,
        mode="payment",
        customer="cus_1",
        payment_intent=None,
        payment_status="no_payment_required",
    )
    change = change_of(event)
    assert isinstance(change, OneOffPayment)
    assert change.payment is None


def test_it_reads_expanded_objects_in_a_checkout_session():
    event = sf.checkout_event("cs_1", T, mode="payment")
    session = event["data"]["object"]
    session["customer"] = sf.fixture("customer", id="cus_x")
    session["payment_intent"] = {"id": "pi_x", "object": "payment_intent"}
    change = change_of(event)
    assert (change.member, change.payment) == ("cus_x", "pi_x")
    event = sf.checkout_event("cs_2", T, customer="cus_1")
    event["data"]["object"]["subscription"] = sf.fixture("subscription", id="sub_x")
    assert change_of(event).membership == "sub_x"


def test_a_setup_checkout_is_ignored():
    event = sf.checkout_event(
        "cs_1", T, mode="setup", payment_status="no_payment_required", customer="cus_1"
    )
    assert change_of(event) == Ignored("checkout session in setup mode")


def test_it_cannot_read_a_paid_subscription_checkout_without_its_subscription():
    event = sf.checkout_event("cs_1", T, customer="cus_1", subscription=None)
    with pytest.raises(UnreadableEvent, match="the checkout.session has no subscription id"):
        change_of(event)


def test_it_cannot_read_a_checkout_without_a_payment_status():
    event = sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1")
    del event["data"]["object"]["payment_status"]
    with pytest.raises(UnreadableEvent, match="the checkout.session has no payment_status"):
        change_of(event)


def test_it_cannot_read_a_checkout_without_an_id():
    event = sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1")
    del event["data"]["object"]["id"]
    with pytest.raises(UnreadableEvent, match="the checkout.session has no id"):
        change_of(event)


@pytest.mark.parametrize(
    "kind", ["checkout.session.async_payment_failed", "checkout.session.expired"]
)
def test_failed_and_expired_checkouts_are_ignored(kind):
    event = sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1")
    event["type"] = kind
    assert isinstance(change_of(event), Ignored)


# --- refunds ------------------------------------------------------------------------------------


def test_a_full_refund_lapses_the_payment():
    event = sf.charge_refunded("ch_1", "pi_1", T, id="evt_r")
    assert change_of(event) == PaymentRefund(
        source="stripe", payment="pi_1", at=AT, event_id="evt_r"
    )


def test_a_full_refund_reads_an_expanded_payment_intent():
    event = sf.charge_refunded("ch_1", None, T)
    event["data"]["object"]["payment_intent"] = {"id": "pi_x", "object": "payment_intent"}
    assert change_of(event).payment == "pi_x"


def test_a_partial_refund_changes_nothing():
    event = sf.charge_refunded("ch_1", "pi_1", T, refunded=False)
    assert change_of(event) == Ignored("partial refund")


def test_a_refunded_charge_without_a_payment_intent_is_ignored():
    event = sf.charge_refunded("ch_1", None, T)
    assert change_of(event) == Ignored("refunded charge has no payment intent")


@pytest.mark.parametrize("refunded", [None, "true", 1])
def test_it_cannot_read_a_refund_without_a_refunded_flag(refunded):
    event = sf.charge_refunded("ch_1", "pi_1", T)
    event["data"]["object"]["refunded"] = refunded
    with pytest.raises(UnreadableEvent, match="the charge has no refunded flag"):
        change_of(event)


# --- everything else ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        "customer.created",
        "customer.updated",
        "payment_intent.succeeded",
        "charge.succeeded",
        "customer.subscription.trial_will_end",
        "product.created",
    ],
)
def test_unknown_event_types_are_ignored_with_a_reason(kind):
    assert change_of(sf.other_event(kind, T)) == Ignored(f"{kind} does not change membership")


def test_translation_does_not_change_the_event():
    event = sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1")
    before = copy.deepcopy(event)
    change_of(event)
    assert event == before

"""membership/stripe_events.py: the pure translation from a Stripe event to a ledger change."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from membership.sources.stripe.events import (
    ACTIVE,
    LAPSED,
    MAX_DEPTH,
    PENDING,
    Ignored,
    InvalidEvent,
    PaymentChange,
    RefundChange,
    SubscriptionChange,
    UnknownStatus,
    UnreadableEvent,
    invoice_subscription,
    load,
    nesting_depth,
    parse_envelope,
    translate,
)
from tests import stripe_factory as sf

T = 1_767_225_600  # 2026-01-01T00:00:00Z
AT = datetime.fromtimestamp(T, UTC)


def change_of(event: dict):
    return translate(parse_envelope(event))


# --- the envelope -------------------------------------------------------------------------------


def test_it_reads_the_envelope_of_a_real_event():
    event = sf.subscription_event(
        "created", "sub_1", "cus_1", "active", T, livemode=True, id="evt_1"
    )
    envelope = parse_envelope(event)
    assert envelope.id == "evt_1"
    assert envelope.type == "customer.subscription.created"
    assert envelope.created == AT
    assert envelope.created.tzinfo is UTC
    assert envelope.livemode is True
    assert envelope.api_version == sf.NEW_API
    assert envelope.object["id"] == "sub_1"


def test_livemode_defaults_to_false_and_api_version_to_none():
    event = sf.other_event("customer.created", T)
    del event["livemode"]
    event["api_version"] = None
    envelope = parse_envelope(event)
    assert envelope.livemode is False
    assert envelope.api_version is None


def _event(**changes) -> dict:
    event = sf.other_event("customer.created", T)
    for key, value in changes.items():
        if value is ...:
            del event[key]
        else:
            event[key] = value
    return event


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": ...}, "the event has no id"),
        ({"id": ""}, "the event has no id"),
        ({"id": "   "}, "the event has no id"),
        ({"id": 42}, "the event has no id"),
        ({"id": "evt_" + "x" * 252}, "the event id is longer than 255 characters"),
        ({"id": "evt_\x00"}, "the event's id is not printable text"),
        ({"id": "evt_\ud800"}, "the event's id is not printable text"),
        ({"type": ...}, "the event has no type"),
        ({"type": ""}, "the event has no type"),
        ({"type": "invoice.paid\n"}, "the event's type is not printable text"),
        ({"type": ["invoice.paid"]}, "the event has no type"),
        ({"created": ...}, "the event has no created timestamp"),
        ({"created": True}, "the event has no created timestamp"),
        ({"created": 0}, "the event has no created timestamp"),
        ({"created": -T}, "the event has no created timestamp"),
        ({"created": float(T)}, "the event has no created timestamp"),
        ({"created": str(T)}, "the event has no created timestamp"),
        ({"created": 10**20}, "the event's created timestamp is out of range"),
        ({"created": 253_402_300_800}, "the event's created timestamp is out of range"),
        ({"livemode": "false"}, "the event's livemode is not true or false"),
        ({"livemode": 0}, "the event's livemode is not true or false"),
        ({"api_version": 20250331}, "the event's api_version is not a string"),
        ({"api_version": "2025-09-30\x00"}, "the event's api_version is not printable text"),
        ({"data": ...}, "the event has no data object"),
        ({"data": {}}, "the event has no data object"),
        ({"data": {"object": None}}, "the event has no data object"),
        ({"data": {"object": []}}, "the event has no data object"),
        ({"data": "object"}, "the event has no data object"),
    ],
)
def test_it_refuses_a_malformed_envelope_and_says_what_is_wrong(changes, message):
    with pytest.raises(InvalidEvent) as info:
        parse_envelope(_event(**changes))
    assert str(info.value) == message


@pytest.mark.parametrize("body", [None, [], "evt_1", 3])
def test_it_refuses_a_body_that_is_not_an_object(body):
    with pytest.raises(InvalidEvent, match="the body is not a JSON object"):
        parse_envelope(body)


def test_it_accepts_an_id_of_exactly_255_characters():
    event_id = "evt_" + "x" * 251
    assert parse_envelope(_event(id=event_id)).id == event_id


def test_an_invalid_event_is_a_value_error():
    assert issubclass(InvalidEvent, ValueError)


def test_a_type_and_an_api_version_of_any_length_are_read():
    kind = "v2.core." + "x" * 500
    envelope = parse_envelope(_event(type=kind, api_version="2025-09-30.clover; b=v3" * 40))
    assert (envelope.type, len(envelope.api_version)) == (kind, 23 * 40)


def test_an_unknown_status_is_an_unreadable_event_not_an_invalid_one():
    assert issubclass(UnknownStatus, UnreadableEvent)
    assert not issubclass(UnreadableEvent, InvalidEvent)


# --- the body -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("3", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}], "c": {}}', 4),
        ('{"a": "[[[[{{{{"}', 1),  # brackets in strings do not count
        ('{"a": "\\"[[[", "b": [[]]}', 3),  # an escaped quote does not end a string
        ('{"a": "\\\\", "b": "[["}', 1),  # an escaped backslash does not escape the quote
    ],
)
def test_nesting_is_measured_outside_strings(text, depth):
    assert nesting_depth(text) == depth


def test_it_loads_a_body_nested_up_to_the_limit_and_no_deeper():
    assert load("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    for depth in (MAX_DEPTH + 1, 200_000):
        with pytest.raises(InvalidEvent, match="nested too deep"):
            load("[" * depth + "]" * depth)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "body is not JSON"),
        ("", "body is not JSON"),
        ('{"n": ' + "9" * 5000 + "}", "the body holds a number too long to read"),
    ],
)
def test_it_says_why_a_body_cannot_be_loaded(text, message):
    with pytest.raises(InvalidEvent) as info:
        load(text)
    assert str(info.value) == message


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
    assert change_of(event) == SubscriptionChange(
        subscription="sub_1", customer="cus_1", state=state, final=final, at=AT, event_id="evt_s"
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
    assert change_of(event).customer == "cus_expanded"


@pytest.mark.parametrize("sub_id", ["sub_" + "x" * 252, "sub_\x00", "sub_\ud800", "sub\n1"])
def test_it_cannot_read_an_id_no_database_could_store(sub_id):
    event = sf.subscription_event("updated", sub_id, "cus_1", "active", T)
    with pytest.raises(UnreadableEvent, match="the subscription has no id"):
        change_of(event)


# --- invoices -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["old", "new"])
def test_a_paid_invoice_activates_its_subscription_in_either_shape(shape):
    event = sf.invoice_paid("in_1", "cus_1", "sub_1", T, shape=shape, id="evt_i")
    assert change_of(event) == SubscriptionChange(
        subscription="sub_1",
        customer="cus_1",
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
    assert change_of(event) == SubscriptionChange(
        subscription="sub_1",
        customer="cus_1",
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
    assert change_of(event) == PaymentChange(
        checkout_session="cs_1", member="cus_1", payment_intent="pi_1", at=AT, event_id="evt_p"
    )


def test_a_guest_checkout_makes_the_session_itself_the_member():
    event = sf.checkout_event("cs_guest", T, mode="payment", customer=None, payment_intent="pi_1")
    change = change_of(event)
    assert isinstance(change, PaymentChange)
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
    assert isinstance(change, PaymentChange)
    assert change.payment_intent is None


def test_it_reads_expanded_objects_in_a_checkout_session():
    event = sf.checkout_event("cs_1", T, mode="payment")
    session = event["data"]["object"]
    session["customer"] = sf.fixture("customer", id="cus_x")
    session["payment_intent"] = {"id": "pi_x", "object": "payment_intent"}
    change = change_of(event)
    assert (change.member, change.payment_intent) == ("cus_x", "pi_x")
    event = sf.checkout_event("cs_2", T, customer="cus_1")
    event["data"]["object"]["subscription"] = sf.fixture("subscription", id="sub_x")
    assert change_of(event).subscription == "sub_x"


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


def test_a_full_refund_lapses_the_payment_intent():
    event = sf.charge_refunded("ch_1", "pi_1", T, id="evt_r")
    assert change_of(event) == RefundChange(payment_intent="pi_1", at=AT, event_id="evt_r")


def test_a_full_refund_reads_an_expanded_payment_intent():
    event = sf.charge_refunded("ch_1", None, T)
    event["data"]["object"]["payment_intent"] = {"id": "pi_x", "object": "payment_intent"}
    assert change_of(event).payment_intent == "pi_x"


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

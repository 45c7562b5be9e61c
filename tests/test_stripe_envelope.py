"""membership/sources/stripe/envelope.py: a delivery parsed once into the ledger's Event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from membership.sources.payloads import MAX_DEPTH, NotAnEvent, load, nesting_depth
from membership.sources.stripe.envelope import data_object, parse
from tests import stripe_factory as sf

T = 1_767_225_600  # 2026-01-01T00:00:00Z
AT = datetime.fromtimestamp(T, UTC)


# --- the envelope -------------------------------------------------------------------------------


def test_it_reads_the_envelope_of_a_real_event():
    event = sf.subscription_event(
        "created", "sub_1", "cus_1", "active", T, livemode=True, id="evt_1"
    )
    envelope = parse(event)
    assert envelope.id == "evt_1"
    assert envelope.type == "customer.subscription.created"
    assert envelope.created == AT
    assert envelope.created.tzinfo is UTC
    assert envelope.livemode is True
    assert envelope.api_version == sf.NEW_API
    assert envelope.source == "stripe"
    assert data_object(envelope)["id"] == "sub_1"


def test_livemode_defaults_to_false_and_api_version_to_none():
    event = sf.other_event("customer.created", T)
    del event["livemode"]
    event["api_version"] = None
    envelope = parse(event)
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
    with pytest.raises(NotAnEvent) as info:
        parse(_event(**changes))
    assert str(info.value) == message


@pytest.mark.parametrize("body", ["null", "[]", '"evt_1"', "3", [], 3])
def test_it_refuses_a_body_that_is_not_an_object(body):
    with pytest.raises(NotAnEvent, match="the body is not a JSON object"):
        parse(body)


def test_it_accepts_an_id_of_exactly_255_characters():
    event_id = "evt_" + "x" * 251
    assert parse(_event(id=event_id)).id == event_id


def test_an_invalid_event_is_a_value_error():
    assert issubclass(NotAnEvent, ValueError)


def test_a_type_and_an_api_version_of_any_length_are_read():
    kind = "v2.core." + "x" * 500
    envelope = parse(_event(type=kind, api_version="2025-09-30.clover; b=v3" * 40))
    assert (envelope.type, len(envelope.api_version)) == (kind, 23 * 40)


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
        with pytest.raises(NotAnEvent, match="nested too deep"):
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
    with pytest.raises(NotAnEvent) as info:
        load(text)
    assert str(info.value) == message


def test_it_removes_personal_fields_from_the_stored_body():
    event = sf.checkout_event("cs_1", T, mode="payment", customer="cus_1")
    event["data"]["object"]["customer_details"] = {"email": "reader@example.com"}
    parsed = parse(event)
    assert "reader@example.com" not in parsed.payload
    assert data_object(parsed)["customer_details"] == "[removed]"
    assert event["data"]["object"]["customer_details"] == {"email": "reader@example.com"}


def test_text_and_a_decoded_body_give_the_same_event():
    event = sf.subscription_event("created", "sub_1", "cus_1", "active", T)
    assert parse(sf.dumps(event)) == parse(event)

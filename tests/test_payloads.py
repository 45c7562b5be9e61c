"""membership/sources/payloads.py: bodies read safely, personal data removed before storing."""

from __future__ import annotations

import json

import pytest

from membership.sources.payloads import (
    MAX_DEPTH,
    REMOVED,
    NotAnEvent,
    check_depth,
    nesting_depth,
    scrub,
)
from membership.sources.stripe.envelope import PERSONAL_FIELDS
from tests import stripe_factory as sf


def test_it_removes_personal_fields_at_any_depth_and_keeps_the_rest():
    event = sf.checkout_event("cs_1", 1_767_225_600, customer="cus_1", subscription="sub_1")
    obj = event["data"]["object"]
    obj["customer_details"] = {"email": "reader@example.org", "name": "Olena Reader"}
    obj["line_items"] = {"data": [{"description": "Membership for Olena", "price": "price_1"}]}
    clean = scrub(event, PERSONAL_FIELDS)
    assert clean["data"]["object"]["customer_details"] == REMOVED
    assert clean["data"]["object"]["line_items"]["data"][0] == {
        "description": REMOVED,
        "price": "price_1",
    }
    assert clean["data"]["object"]["customer"] == "cus_1"
    assert list(clean["data"]["object"]) == list(obj)  # the order of keys is kept
    assert obj["customer_details"]["name"] == "Olena Reader"  # a copy: the input is untouched


def test_empty_personal_fields_stay_as_they_were():
    empty = {"email": None, "metadata": {}, "custom_fields": [], "name": ""}
    assert scrub(empty, PERSONAL_FIELDS) == {
        "email": None,
        "metadata": {},
        "custom_fields": [],
        "name": REMOVED,
    }


def test_it_scrubs_a_value_nested_far_beyond_the_recursion_limit():
    depth = 100_000
    value: object = {"email": "reader@example.org", "id": "cus_1"}
    for _ in range(depth):
        value = [value]
    clean = scrub({"object": value}, PERSONAL_FIELDS)["object"]
    for _ in range(depth):  # walked by hand: comparing such values would recurse too
        assert isinstance(clean, list) and len(clean) == 1
        clean = clean[0]
    assert clean == {"email": REMOVED, "id": "cus_1"}


def test_scrub_removes_personal_fields_at_any_depth_and_keeps_ids():
    event = {
        "id": "evt_1",
        "data": {
            "object": {
                "id": "cs_1",
                "customer": "cus_1",
                "customer_details": {"email": "a@b.c"},
                "charges": [{"billing_details": {"name": "A"}, "id": "ch_1"}],
                "metadata": {},
                "shipping": None,
            }
        },
    }
    clean = scrub(event, PERSONAL_FIELDS)
    obj = clean["data"]["object"]
    assert (obj["id"], obj["customer"], obj["charges"][0]["id"]) == ("cs_1", "cus_1", "ch_1")
    assert obj["customer_details"] == REMOVED
    assert obj["charges"][0]["billing_details"] == REMOVED
    assert (obj["metadata"], obj["shipping"]) == ({}, None)  # empty stays empty
    assert event["data"]["object"]["customer_details"] == {"email": "a@b.c"}  # a copy


def test_a_decoded_body_is_measured_as_deep_as_its_text():
    def nested(depth):
        value: object = "x"
        for _ in range(depth):
            value = [value]
        return value

    check_depth(nested(MAX_DEPTH))
    assert nesting_depth(json.dumps(nested(MAX_DEPTH))) == MAX_DEPTH
    with pytest.raises(NotAnEvent, match="nested too deep"):
        check_depth({"a": nested(MAX_DEPTH)})
    with pytest.raises(NotAnEvent, match="nested too deep"):
        check_depth(nested(100_000))

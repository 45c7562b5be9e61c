"""membership/privacy.py: personal data removed from payloads before they are stored."""

from __future__ import annotations

from membership.sources.privacy import REMOVED, scrub
from tests import stripe_factory as sf


def test_it_removes_personal_fields_at_any_depth_and_keeps_the_rest():
    event = sf.checkout_event("cs_1", 1_767_225_600, customer="cus_1", subscription="sub_1")
    obj = event["data"]["object"]
    obj["customer_details"] = {"email": "reader@example.org", "name": "Olena Reader"}
    obj["line_items"] = {"data": [{"description": "Membership for Olena", "price": "price_1"}]}
    clean = scrub(event)
    assert clean["data"]["object"]["customer_details"] == REMOVED
    assert clean["data"]["object"]["line_items"]["data"][0] == {
        "description": REMOVED,
        "price": "price_1",
    }
    assert clean["data"]["object"]["customer"] == "cus_1"
    assert list(clean["data"]["object"]) == list(obj)  # the order of keys is kept
    assert obj["customer_details"]["name"] == "Olena Reader"  # a copy: the input is untouched


def test_empty_personal_fields_stay_as_they_were():
    assert scrub({"email": None, "metadata": {}, "custom_fields": [], "name": ""}) == {
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
    clean = scrub({"object": value})["object"]
    for _ in range(depth):  # walked by hand: comparing such values would recurse too
        assert isinstance(clean, list) and len(clean) == 1
        clean = clean[0]
    assert clean == {"email": REMOVED, "id": "cus_1"}

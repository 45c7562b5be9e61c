"""What a Stripe event says was bought: prices, products, payment links, metadata keys."""

from __future__ import annotations

from membership.sources.stripe import offers
from membership.sources.stripe.envelope import parse
from membership.sources.stripe.translate import translate
from tests import stripe_factory as sf

T = 1_764_000_000


def test_a_subscriptions_items_give_their_prices_and_products():
    obj = {
        "items": {
            "object": "list",
            "data": [
                {"price": {"id": "price_a", "product": "prod_a"}},
                {"price": {"id": "price_b", "product": {"id": "prod_b", "name": "B"}}},
            ],
        }
    }
    assert offers.subscription(obj) == {
        "price:price_a",
        "product:prod_a",
        "price:price_b",
        "product:prod_b",
    }


def test_a_legacy_plan_is_a_price():
    assert offers.subscription({"plan": {"id": "gold", "product": "prod_g"}}) == {
        "price:gold",
        "product:prod_g",
    }


def test_an_invoices_lines_give_prices_in_the_old_and_the_new_shape():
    old = {"lines": {"data": [{"price": {"id": "price_old", "product": "prod_1"}}]}}
    new = {
        "lines": {
            "data": [{"pricing": {"price_details": {"price": "price_new", "product": "prod_2"}}}]
        }
    }
    assert offers.invoice(old) == {"price:price_old", "product:prod_1"}
    assert offers.invoice(new) == {"price:price_new", "product:prod_2"}


def test_a_checkout_gives_its_payment_link_and_the_metadata_keys_set():
    obj = {"payment_link": "plink_1", "metadata": {"membership": True, "gift": False}}
    assert offers.checkout(obj) == {"payment_link:plink_1", "metadata:membership"}


def test_malformed_offer_fields_are_left_out_and_never_fail_the_event():
    obj = {
        "items": {"data": [{"price": 12}, "nonsense", {"plan": {"id": ""}}]},
        "payment_link": {"id": None},
        "metadata": ["not", "an", "object"],
        "lines": "nope",
    }
    assert offers.subscription(obj) == offers.checkout(obj) == offers.invoice(obj) == set()


def test_metadata_values_become_set_or_not_before_the_translator_sees_them():
    event = sf.checkout_event("cs_1", T, mode="payment", payment_intent="pi_1")
    event["data"]["object"]["metadata"] = {
        "membership": "yes",
        "campaign": "false",
        "note": "  ",
        "tier": "0",
        "reader": "Alice Smith",
    }
    parsed = parse(event)
    assert parsed.body["data"]["object"]["metadata"] == {
        "membership": True,
        "campaign": False,
        "note": False,
        "tier": False,
        "reader": True,
    }
    assert "Alice" not in parsed.payload
    assert translate(parsed).offers == {"metadata:membership", "metadata:reader"}


def test_a_stored_payload_parsed_again_keeps_the_same_offers():
    event = sf.checkout_event("cs_1", T, mode="payment", payment_intent="pi_1")
    event["data"]["object"]["metadata"] = {"membership": "true"}
    event["data"]["object"]["payment_link"] = "plink_9"
    first = translate(parse(event))
    again = translate(parse(parse(event).payload))
    assert first.offers == again.offers == {"metadata:membership", "payment_link:plink_9"}

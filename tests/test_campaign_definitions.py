"""Campaigns choose what counts: their sources, and per source which offers are memberships."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from membership.accounts import audit
from membership.campaigns import definitions, history, windows
from membership.campaigns.validation import CampaignError
from membership.database import db
from membership.ledger import counting, locks
from membership.ledger.identity import fingerprint
from membership.ledger.store import record_event
from membership.models import (
    AuditEntry,
    Campaign,
    Event,
    Member,
    Membership,
    MembershipOffer,
    Person,
)
from membership.sources import offer_kinds
from membership.sources.paypal import envelope as paypal_envelope
from membership.sources.paypal import simulate as ps
from membership.sources.paypal.translate import Settings as PayPalSettings
from membership.sources.paypal.translate import translator as paypal_translator
from membership.sources.stripe.translate import Settings
from tests import stripe_factory as sf
from tests.conftest import count_of

# Ten days ago: one-off memberships bought then are still running.
T = int((datetime.now(UTC) - timedelta(days=10)).timestamp())
KEY = b"k" * 32
STRIPE = Settings(identity_key=KEY)


def subscription(sub: str, customer: str, price: str, product: str = "prod_member", **kw):
    """A subscription created active on ``price`` (of ``product``)."""
    event = sf.subscription_event("created", sub, customer, "active", T, **kw)
    item = event["data"]["object"]["items"]["data"][0]
    item["price"] = {"id": price, "object": "price", "product": product}
    item["plan"] = {"id": price, "object": "plan", "product": product}
    return event


def one_off(session_id: str, *, metadata=None, payment_link=None, email=None):
    # Each its own reader: the fixture's customer details would link them all.
    event = sf.checkout_event(
        session_id,
        T,
        mode="payment",
        payment_intent=f"pi_{session_id}",
        email=email or f"{session_id}@example.com",
    )
    event["data"]["object"]["metadata"] = metadata or {}
    event["data"]["object"]["payment_link"] = payment_link
    return event


def paypal_subscription(sub: str, plan: str, email: str | None = None):
    resource = ps.subscription(sub, "ACTIVE", at=datetime.fromtimestamp(T, UTC))
    resource["plan_id"] = plan
    if email is not None:
        resource["subscriber"]["email_address"] = email
    return ps.event(
        "BILLING.SUBSCRIPTION.ACTIVATED", resource, created=datetime.fromtimestamp(T, UTC)
    )


def record_paypal(session, event) -> None:
    record_event(
        session,
        paypal_envelope.parse(event, identity_key=KEY),
        paypal_translator(PayPalSettings()),
    )


def choose(app, slug: str, *written: str) -> None:
    with app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
        definitions.save(db.session, campaign, definitions.parse(written, offer_kinds), audit.CLI)


@pytest.fixture
def mixed(app, session):
    """Two members on the membership price, a reader on a donation price, a one-off membership
    marked by metadata, a one-off donation, one bought through a payment link, and a PayPal
    subscriber on the membership plan who also pays by Stripe."""
    for event in (
        subscription("sub_1", "cus_1", "price_member"),
        subscription("sub_2", "cus_2", "price_member", product="prod_other"),
        subscription("sub_3", "cus_3", "price_donation", product="prod_donation"),
        one_off("cs_m", metadata={"membership": "yes", "reader_note": "Alice Smith"}),
        one_off("cs_d", metadata={"membership": "false"}),
        one_off("cs_l", payment_link="plink_members"),
        subscription("sub_4", "cus_4", "price_member"),
        sf.checkout_event(
            "cs_4", T, customer="cus_4", subscription="sub_4", email="both@example.com"
        ),
    ):
        sf.record(session, event, STRIPE)
    session.commit()
    record_paypal(session, paypal_subscription("I-1", "P-MEMBERS", email="Both@example.com"))
    record_paypal(session, paypal_subscription("I-2", "P-MEMBERS"))
    record_paypal(session, paypal_subscription("I-3", "P-DONATE"))
    session.commit()


def test_a_campaign_without_definitions_counts_every_source_and_everything(mixed, client, campaign):
    campaign("drive")
    # 4 Stripe subscriptions + 3 one-off checkouts + 3 PayPal subscriptions, one reader twice.
    assert count_of(client) == 9


def test_only_the_chosen_prices_count(mixed, app, client, campaign):
    campaign("drive")
    choose(app, "drive", "stripe=price:price_member")
    assert count_of(client) == 3  # sub_1, sub_2, sub_4


def test_a_product_counts_every_price_of_it(mixed, app, client, campaign):
    campaign("drive")
    choose(app, "drive", "stripe=product:prod_member")
    assert count_of(client) == 2  # sub_1, sub_4; sub_2's price is of another product


def test_one_off_payments_count_by_metadata_key_or_payment_link_and_donations_do_not(
    mixed, app, client, campaign
):
    campaign("drive")
    choose(app, "drive", "stripe=metadata:membership,payment_link:plink_members")
    assert count_of(client) == 2  # cs_m and cs_l; cs_d said membership=false


def test_paypal_plans_count_and_a_reader_paying_in_both_places_is_one(mixed, app, client, campaign):
    campaign("drive")
    choose(app, "drive", "stripe=price:price_member", "paypal=plan:P-MEMBERS")
    # sub_1, sub_2, sub_4 and I-1 (the same reader as sub_4), I-2
    assert count_of(client) == 4


def test_a_campaign_can_count_one_source_only(mixed, app, client, campaign):
    campaign("drive")
    choose(app, "drive", "paypal")
    assert count_of(client) == 3


def test_two_campaigns_count_the_same_ledger_their_own_way(mixed, app, client, campaign):
    campaign("drive")
    campaign("paypal-drive")
    choose(app, "paypal-drive", "paypal=plan:P-DONATE")
    assert count_of(client, "drive") == 9
    assert count_of(client, "paypal-drive") == 1


def test_an_offer_named_after_the_first_event_counts_from_then_on(app, session, client, campaign):
    campaign("drive")
    choose(app, "drive", "stripe=price:price_member")
    checkout = sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1")
    sf.record(session, checkout, STRIPE)
    session.commit()
    assert count_of(client) == 0  # a subscription checkout names no price
    sf.record(session, subscription("sub_1", "cus_1", "price_member"), STRIPE)
    session.commit()
    assert count_of(client) == 1  # the cached count was redone


def test_the_count_is_the_same_in_any_order(app, session, client, campaign):
    events = [
        subscription("sub_1", "cus_1", "price_member"),
        sf.subscription_event("updated", "sub_1", "cus_1", "canceled", T + 50),
        subscription("sub_2", "cus_2", "price_member"),
        sf.checkout_event("cs_2", T + 10, customer="cus_2", subscription="sub_2"),
        sf.invoice_paid("in_3", "cus_3", "sub_3", T + 20),
        one_off("cs_m", metadata={"membership": "1"}),
        one_off("cs_d"),
    ]
    campaign("drive")
    choose(app, "drive", "stripe=price:price_member,metadata:membership")
    counts = set()
    for seed in range(4):
        with app.app_context():
            db.session.execute(delete(MembershipOffer))
            for model in (Membership, Member, Person, Event):
                db.session.execute(delete(model))
            db.session.commit()
        shuffled = events * 2
        random.Random(seed).shuffle(shuffled)
        for event in shuffled:
            sf.record(session, event, STRIPE)
            session.commit()
        counts.add(count_of(client))
    assert counts == {2}  # sub_2 and cs_m; sub_1 was canceled, sub_3's invoice named no price


def test_the_slow_count_and_the_daily_history_agree_with_the_fast_count(mixed, app, campaign):
    campaign("drive", rule="new")
    choose(app, "drive", "stripe=price:price_member", "paypal=plan:P-MEMBERS")
    now = datetime.now(UTC)
    with app.app_context():
        found = db.session.scalar(select(Campaign).where(Campaign.slug == "drive"))
        rule = windows.counting(found)
        fast = counting.count_members(db.session, rule, now)
        slow = counting.count_members_slowly(db.session, rule, now)
        series = history.daily(db.session, found, now.date() - timedelta(days=3), now.date(), now)
    assert fast == slow == 4
    assert series[-1].count == 4


def test_stored_payloads_keep_which_metadata_keys_were_set_never_their_values(mixed, session):
    stored = session.get(
        Event, ("stripe", session.scalar(select(Event.id).where(Event.payload.contains("cs_m"))))
    )
    payload = json.loads(stored.payload)
    assert payload["data"]["object"]["metadata"] == {"membership": True, "reader_note": True}
    assert "Alice" not in stored.payload


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (["venmo"], "there is no source called 'venmo'"),
        (["Stripe"], "'Stripe' is not a source name"),
        (["paypal=price:price_1"], "paypal memberships are defined by plan"),
        (["stripe=plan:P-1"], "stripe memberships are defined by price, product"),
        (["csv-bank=plan:x"], "csv-bank memberships are defined by none"),
        (["stripe", "stripe=price:p"], "stripe is named twice"),
        (["stripe=price:has space"], "is not an offer"),
        (["stripe=price:"], "is not an offer"),
    ],
)
def test_a_bad_definition_is_refused_naming_the_problem(written, message):
    with pytest.raises(CampaignError, match=message):
        definitions.parse(written, offer_kinds)


def test_definitions_are_written_back_sorted_and_an_import_counts_as_a_whole():
    parsed = definitions.parse([" stripe = price:b, price:a ", "", "csv-bank"], offer_kinds)
    assert [str(d) for d in parsed] == ["csv-bank", "stripe=price:a,price:b"]


def test_the_cli_shows_chooses_and_resets_what_counts(app, runner, campaign):
    campaign("drive")
    shown = runner.invoke(args=["campaign", "sources", "drive"])
    assert shown.exit_code == 0 and "counts every source" in shown.output
    chosen = runner.invoke(
        args=[
            "campaign",
            "sources",
            "drive",
            "--source",
            "stripe=price:price_1",
            "--source",
            "paypal",
        ]
    )
    assert chosen.exit_code == 0, chosen.output
    assert "drive counts paypal: every membership" in chosen.output
    assert "drive counts stripe: price:price_1" in chosen.output
    again = runner.invoke(
        args=[
            "campaign",
            "sources",
            "drive",
            "--source",
            "paypal",
            "--source",
            "stripe=price:price_1",
        ]
    )
    assert "Unchanged." in again.output
    reset = runner.invoke(args=["campaign", "sources", "drive", "--all-sources"])
    assert "counts every source" in reset.output
    with app.app_context():
        details = db.session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == audit.CAMPAIGN_SOURCES)
        ).all()
    assert details == ["drive: paypal; stripe=price:price_1", "drive: every source"]


def test_the_cli_refuses_a_bad_definition_and_changes_nothing(app, runner, campaign):
    campaign("drive")
    bad = runner.invoke(args=["campaign", "sources", "drive", "--source", "paypal=price:x"])
    assert bad.exit_code == 1 and "paypal memberships are defined by plan" in bad.output
    unknown = runner.invoke(args=["campaign", "sources", "nope", "--source", "paypal"])
    assert unknown.exit_code == 1 and "no campaign called 'nope'" in unknown.output
    assert "counts every source" in runner.invoke(args=["campaign", "sources", "drive"]).output


def test_an_email_fingerprint_links_readers_whatever_a_campaign_counts(mixed, session):
    linked = fingerprint("both@example.com", KEY)
    members = session.scalars(select(Member.key).where(Member.identity == linked)).all()
    assert sorted(members) == ["paypal:I-1", "stripe:cus_4"]


def test_events_offers_fills_in_memberships_recorded_before_offers_were_kept(
    mixed, app, runner, client, campaign
):
    campaign("drive")
    choose(app, "drive", "stripe=price:price_member")
    assert count_of(client) == 3
    with app.app_context():
        db.session.execute(delete(MembershipOffer))  # as a database upgraded to 0006 has it
        locks.bump_version(db.session, datetime.now(UTC))
        db.session.commit()
    assert count_of(client) == 0
    filled = runner.invoke(args=["events", "offers"])
    assert filled.exit_code == 0, filled.output
    # Seven Stripe memberships name offers (one-offs their metadata); three PayPal plans.
    assert "Filled in the offers of 9 membership(s)." in filled.output
    assert count_of(client) == 3
    again = runner.invoke(args=["events", "offers"])
    assert "Filled in the offers of 0 membership(s)." in again.output

"""Property: Stripe and PayPal together, for the same readers, count each person once, in any
order and with any copies, and recount rebuilds the same ledger from the stored events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from membership.campaigns import windows
from membership.ledger import counting, store
from membership.ledger.counting import Rule
from membership.ledger.identity import fingerprint
from membership.models import Campaign, Member, Membership, MembershipOffer, Person
from membership.recount import recount
from membership.sources.paypal import envelope as paypal_envelope
from membership.sources.paypal import simulate as paypal_simulate
from membership.sources.paypal import translate as paypal_translate
from membership.sources.stripe import envelope as stripe_envelope
from membership.sources.stripe import translate as stripe_translate
from tests import stripe_factory as sf
from tests.conftest import empty_postgres
from tests.test_ledger_properties import sqlite_engine

KEY = b"identity-key-for-the-mixed-property-test"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
INSTANTS = [NOW - timedelta(days=d, seconds=s) for d in (300, 100, 10) for s in (0, 1)]
EMAILS = ["olena@example.org", "OLENA@example.org", "mykola@example.org", None]
STRIPE = {"sub_1": "cus_1", "sub_2": "cus_2", "sub_3": "cus_2"}
PAYPAL = ["I-AAAAAAAAAAA1", "I-AAAAAAAAAAA2"]
PAYPAL_STATUS = {
    "BILLING.SUBSCRIPTION.ACTIVATED": "ACTIVE",
    "BILLING.SUBSCRIPTION.SUSPENDED": "SUSPENDED",
    "BILLING.SUBSCRIPTION.CANCELLED": "CANCELLED",
}
PRICES = ["price_member", "price_donation"]
PLANS = ["P-MEMBERS", "P-DONATION"]
# A campaign that counts only memberships: one Stripe price and one PayPal plan.
MEMBERSHIPS_ONLY = (
    counting.Choice("stripe", frozenset({"price:price_member"})),
    counting.Choice("paypal", frozenset({"plan:P-MEMBERS"})),
)
TRANSLATORS = {
    "stripe": stripe_translate.translator(stripe_translate.Settings(identity_key=KEY)),
    "paypal": paypal_translate.translator(paypal_translate.Settings()),
}

instant = st.sampled_from(INSTANTS)


@st.composite
def stripe_events(draw):
    sub = draw(st.sampled_from(sorted(STRIPE)))
    at = int(draw(instant).timestamp())
    if draw(st.booleans()):
        event = sf.checkout_event(
            f"cs_{sub}",
            at,
            customer=STRIPE[sub],
            subscription=sub,
            email=draw(st.sampled_from(EMAILS)),
        )
    else:
        kind = draw(st.sampled_from(["updated", "deleted"]))
        status = "canceled" if kind == "deleted" else draw(st.sampled_from(["active", "unpaid"]))
        event = sf.subscription_event(kind, sub, STRIPE[sub], status, at)
        # A subscription may move between a membership price and a donation price.
        item = event["data"]["object"]["items"]["data"][0]
        price = draw(st.sampled_from(PRICES))
        item["price"] = item["plan"] = {"id": price, "product": "prod_1"}
    return "stripe", event


@st.composite
def paypal_events(draw):
    subscription = draw(st.sampled_from(PAYPAL))
    event_type = draw(st.sampled_from(sorted(PAYPAL_STATUS)))
    resource = paypal_simulate.subscription(
        subscription, PAYPAL_STATUS[event_type], at=draw(instant), payer_id="PAYER1"
    )
    resource["subscriber"]["email_address"] = draw(st.sampled_from(EMAILS))
    resource["plan_id"] = draw(st.sampled_from(PLANS))
    return "paypal", paypal_simulate.event(event_type, resource, created=draw(instant))


@st.composite
def histories(draw):
    events = draw(st.lists(st.one_of(stripe_events(), paypal_events()), min_size=1, max_size=12))
    ids = draw(st.permutations(range(len(events))))
    for (source, event), n in zip(events, ids, strict=True):
        event["id"] = f"evt_{n:03d}" if source == "stripe" else f"WH-{n:03d}"
    return events


def parse(source: str, body: dict):
    if source == "stripe":
        return stripe_envelope.parse(body, KEY)
    return paypal_envelope.parse(body, livemode=None, identity_key=KEY)


def snapshot(session) -> tuple[list, dict[str, int]]:
    rows = [
        (m.key, m.member_key, m.state, m.final_at, m.started_at, m.active_until)
        for m in session.scalars(select(Membership).order_by(Membership.key))
    ]
    rows += [(m.key, m.person_key) for m in session.scalars(select(Member).order_by(Member.key))]
    rows += [
        (p.key, p.active_until, p.first_started_at)
        for p in session.scalars(select(Person).order_by(Person.key))
    ]
    rows += [
        (o.membership_key, o.offer)
        for o in session.scalars(
            select(MembershipOffer).order_by(MembershipOffer.membership_key, MembershipOffer.offer)
        )
    ]
    active = Campaign(slug="a", goal=1, rule="active")
    counts = {}
    for name, rule in (
        ("active", windows.counting(active)),
        ("active memberships only", counting.Counting(Rule.ACTIVE, choices=MEMBERSHIPS_ONLY)),
        ("new memberships only", counting.Counting(Rule.NEW, choices=MEMBERSHIPS_ONLY)),
    ):
        counts[name] = counting.count_members(session, rule, NOW)
        assert counts[name] == counting.count_members_slowly(session, rule, NOW), name
    session.rollback()
    return rows, counts


def deliver(postgres_engine, events) -> tuple[list, dict[str, int]]:
    """Deliver ``events`` to an empty ledger (a new SQLite one, or PostgreSQL emptied)."""
    if postgres_engine is None:
        engine = sqlite_engine()
    else:
        engine = postgres_engine
        empty_postgres(engine)
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        for source, body in events:
            result = store.record_event(session, parse(source, body), TRANSLATORS[source], now=NOW)
            assert result.outcome != store.Outcome.FAILED, result.detail
        found = snapshot(session)
        report = recount(session, TRANSLATORS, NOW)
        assert report.clean, report.differences
        return found
    finally:
        session.close()
        if postgres_engine is None:
            engine.dispose()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=histories(), data=st.data())
def test_stripe_and_paypal_for_the_same_readers_give_one_result_in_any_order(
    postgres_engine, events, data
):
    copies = data.draw(st.lists(st.sampled_from(events), max_size=len(events)))
    shuffled = data.draw(st.permutations(events + copies))
    in_order = deliver(postgres_engine, events)
    assert deliver(postgres_engine, shuffled) == in_order


def test_a_reader_paying_through_stripe_and_paypal_counts_once(postgres_engine):
    at = int(INSTANTS[-1].timestamp())
    stripe = sf.checkout_event(
        "cs_1", at, customer="cus_1", subscription="sub_1", email="Olena@example.org"
    )
    resource = paypal_simulate.subscription(PAYPAL[0], "ACTIVE", at=INSTANTS[-1], payer_id="P1")
    resource["subscriber"]["email_address"] = "olena@example.org "
    paypal = paypal_simulate.event("BILLING.SUBSCRIPTION.ACTIVATED", resource, created=NOW)
    rows, counts = deliver(postgres_engine, [("stripe", stripe), ("paypal", paypal)])
    assert counts["active"] == 1
    persons = [row for row in rows if row[0].startswith("id1:")]
    assert [p[0] for p in persons] == [fingerprint("olena@example.org", KEY)]

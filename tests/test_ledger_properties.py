"""Property: the counts depend only on the set of events, never on order or copies.

Hypothesis draws events from small pools of customers, subscriptions, payments and instants,
so that ties, conflicts and out-of-order histories are common, then delivers them once in
order and again shuffled with copies. Both must agree with each other, with a rebuilt ledger,
and with the independent reference in tests/oracle.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from membership.campaigns import windows
from membership.ledger import counting
from membership.ledger.store import Outcome
from membership.models import Base, Campaign, Member, Membership, Person
from membership.sources.stripe.translate import Settings
from tests import oracle
from tests import stripe_factory as sf
from tests.conftest import empty_postgres

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BASE = NOW - timedelta(days=700)
# Few instants, so that events often share a second; spread over two years, so that the
# one-off term and the campaign window both cut through the history.
INSTANTS = [
    int((BASE + timedelta(days=d)).timestamp()) + s
    for d in (0, 200, 330, 400, 600, 690)
    for s in (0, 1)
]
WINDOW = (date(2025, 3, 1), date(2026, 2, 28))
SUBSCRIPTIONS = {"sub_1": "cus_1", "sub_2": "cus_1", "sub_3": "cus_2", "sub_4": "cus_3"}
PAYMENTS = {"cs_p1": ("cus_2", "pi_1"), "cs_p2": (None, "pi_2"), "cs_p3": ("cus_4", "pi_3")}
STATUSES = [
    "active",
    "trialing",
    "past_due",
    "canceled",
    "unpaid",
    "incomplete",
    "incomplete_expired",
    "paused",
]

instant = st.sampled_from(INSTANTS)
livemode = st.booleans()


@st.composite
def subscription_events(draw):
    sub = draw(st.sampled_from(sorted(SUBSCRIPTIONS)))
    kind = draw(st.sampled_from(["created", "updated", "deleted"]))
    status = "canceled" if kind == "deleted" else draw(st.sampled_from(STATUSES))
    return sf.subscription_event(
        kind, sub, SUBSCRIPTIONS[sub], status, draw(instant), livemode=draw(livemode)
    )


@st.composite
def invoice_events(draw):
    sub = draw(st.sampled_from(sorted(SUBSCRIPTIONS)))
    return sf.invoice_paid(
        f"in_{draw(st.integers(0, 999))}",
        SUBSCRIPTIONS[sub],
        sub,
        draw(instant),
        shape=draw(st.sampled_from(["old", "new"])),
        livemode=draw(livemode),
    )


@st.composite
def checkout_events(draw):
    kind = draw(st.sampled_from(["completed", "async_payment_succeeded"]))
    paid = draw(st.sampled_from(["paid", "paid", "unpaid", "no_payment_required"]))
    if draw(st.booleans()):
        sub = draw(st.sampled_from(sorted(SUBSCRIPTIONS)))
        return sf.checkout_event(
            f"cs_{sub}",
            draw(instant),
            customer=SUBSCRIPTIONS[sub],
            subscription=sub,
            payment_status=paid,
            kind=kind,
            livemode=draw(livemode),
        )
    session = draw(st.sampled_from(sorted(PAYMENTS)))
    customer, intent = PAYMENTS[session]
    return sf.checkout_event(
        session,
        draw(instant),
        mode="payment",
        customer=customer,
        payment_intent=intent,
        payment_status=paid,
        kind=kind,
        livemode=draw(livemode),
    )


@st.composite
def refund_events(draw):
    intent = draw(st.sampled_from(["pi_1", "pi_2", "pi_3", "pi_other"]))
    return sf.charge_refunded(
        f"ch_{intent}", intent, draw(instant), refunded=draw(st.booleans()), livemode=draw(livemode)
    )


@st.composite
def other_events(draw):
    return sf.other_event(
        draw(st.sampled_from(["customer.created", "payment_intent.succeeded"])),
        draw(instant),
        livemode=draw(livemode),
    )


# A few addresses, so that readers often pay through two accounts (or reuse a guest checkout).
EMAILS = ["olena@example.org", "Olena@Example.org ", "mykola@example.org", None]


@st.composite
def with_emails(draw, events):
    """The same events, some naming a reader's email (checkouts, invoices, customers)."""
    event = draw(events)
    obj = event["data"]["object"]
    email = draw(st.sampled_from(EMAILS))
    if obj.get("object") == "checkout.session":
        obj["customer_details"] = {**(obj.get("customer_details") or {}), "email": email}
    elif obj.get("object") in ("invoice", "customer"):
        obj["customer_email" if obj["object"] == "invoice" else "email"] = email
    return event


@st.composite
def customer_events(draw):
    customer = draw(st.sampled_from(["cus_1", "cus_2", "cus_3", "cus_4"]))
    return sf.other_event(
        draw(st.sampled_from(["customer.created", "customer.updated"])),
        draw(instant),
        livemode=draw(livemode),
        id=customer,
        email=draw(st.sampled_from(EMAILS)),
    )


@st.composite
def histories(draw, emails: bool = False):
    """Events with ids drawn as a permutation, so id order (the last tie-break) is random."""
    kinds = [subscription_events(), invoice_events(), checkout_events(), refund_events()]
    kinds += [other_events()] if not emails else [customer_events()]
    if emails:
        kinds = [with_emails(kind) for kind in kinds]
    events = draw(st.lists(st.one_of(*kinds), min_size=1, max_size=14))
    ids = draw(st.permutations([f"evt_{i:03d}" for i in range(len(events))]))
    for event, event_id in zip(events, ids, strict=True):
        event["id"] = event_id
    return events


class Ledger:
    """A ledger on a real database, fed through record_event like the webhook does."""

    def __init__(self, engine, policy: Settings) -> None:
        self.engine = engine
        self.policy = policy
        self.session: Session = sessionmaker(engine, expire_on_commit=False)()

    def deliver(self, events) -> None:
        for event in events:
            result = sf.record(self.session, event, self.policy, now=NOW)
            assert result.outcome != Outcome.FAILED, result.detail

    def counts(self) -> dict[str, int]:
        active = Campaign(slug="a", goal=1, rule="active")
        new = Campaign(slug="n", goal=1, rule="new", starts_on=WINDOW[0], deadline=WINDOW[1])
        result = {
            "active": counting.count_members(self.session, windows.counting(active), NOW),
            "new:window": counting.count_members(self.session, windows.counting(new), NOW),
        }
        # The slow route straight from memberships must agree with the fast one.
        assert result == {
            "active": counting.count_members_slowly(self.session, windows.counting(active), NOW),
            "new:window": counting.count_members_slowly(self.session, windows.counting(new), NOW),
        }
        self.session.rollback()  # hold no locks: on PostgreSQL the next ledger truncates
        return result

    def memberships(self) -> list[tuple]:
        rows = [
            (
                m.key,
                m.member_key,
                m.state,
                m.final_at,
                m.started_at,
                m.refunded,
                m.active_until,
                m.ended_at,
            )
            for m in self.session.scalars(select(Membership).order_by(Membership.key))
        ]
        rows += [
            (m.key, m.identity, m.person_key, m.active_until, m.first_started_at)
            for m in self.session.scalars(select(Member).order_by(Member.key))
        ]
        rows += [
            (p.key, p.active_until, p.first_started_at, p.lapsed_at)
            for p in self.session.scalars(select(Person).order_by(Person.key))
        ]
        self.session.rollback()
        return rows

    def close(self) -> None:
        self.session.close()


def sqlite_engine():
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(engine)
    return engine


@pytest.fixture
def fresh_ledger(postgres_engine):
    """Returns a factory of empty ledgers on SQLite, or on PostgreSQL when configured."""
    made = []

    def make(policy: Settings):
        if postgres_engine is None:
            engine = sqlite_engine()
        else:
            engine = postgres_engine
            empty_postgres(engine)
        made.append(Ledger(engine, policy))
        return made[-1]

    yield make
    for each in made:
        each.close()


POLICY = Settings(term=timedelta(days=365))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=histories(), data=st.data())
def test_any_order_and_any_copies_give_the_same_counts(fresh_ledger, events, data):
    copies = data.draw(st.lists(st.sampled_from(events), max_size=len(events)))
    shuffled = data.draw(st.permutations(events + copies))

    once = fresh_ledger(POLICY)
    once.deliver(events)
    expected = oracle.expected_counts(events, NOW, windows={"window": WINDOW})
    assert once.counts() == expected
    in_order = once.memberships()
    once.close()

    again = fresh_ledger(POLICY)
    again.deliver(shuffled)
    assert again.counts() == expected
    assert again.memberships() == in_order


IDENTITY_KEY = b"identity-key-for-the-property-test-01"


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=histories(emails=True), data=st.data())
def test_readers_linked_by_email_count_once_in_any_order(fresh_ledger, events, data):
    copies = data.draw(st.lists(st.sampled_from(events), max_size=len(events)))
    shuffled = data.draw(st.permutations(events + copies))
    policy = Settings(term=timedelta(days=365), identity_key=IDENTITY_KEY)
    expected = oracle.expected_counts(
        events, NOW, windows={"window": WINDOW}, identity_key=IDENTITY_KEY
    )
    once = fresh_ledger(policy)
    once.deliver(events)
    assert once.counts() == expected
    in_order = once.memberships()
    once.close()
    again = fresh_ledger(policy)
    again.deliver(shuffled)
    assert again.counts() == expected
    assert again.memberships() == in_order


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=histories(), mode=st.sampled_from(["live", "test"]))
def test_the_livemode_policy_is_applied_the_same_way_in_any_order(fresh_ledger, events, mode):
    policy = Settings(livemode=mode, term=timedelta(days=365))
    expected = oracle.expected_counts(events, NOW, livemode=mode, windows={"window": WINDOW})
    # One after the other: on PostgreSQL both ledgers live in the same database.
    forward = fresh_ledger(policy)
    forward.deliver(events)
    assert forward.counts() == expected
    backward = fresh_ledger(policy)
    backward.deliver(list(reversed(events)))
    assert backward.counts() == expected

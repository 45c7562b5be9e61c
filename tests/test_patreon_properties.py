"""Property: Patreon deliveries shuffled, repeated and stale, against a fake API whose members
change over time, give exactly the count the members' final states give.

Each delivery only says "member X changed"; the webhook reads X back from the API and records
the read, stamped with when the read was sent. Here reads and their recording are separate
steps that Hypothesis interleaves with the members' changes: a read may be recorded long after
later reads (a slow worker), or twice (a copy), and Patreon's bodies are never trusted. As
Patreon promises, every change is followed by a delivery that is eventually read; the reads
left over are then recorded in any order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import sessionmaker

from membership.ledger import counting, store
from membership.ledger.counting import Rule
from membership.ledger.identity import fingerprint
from membership.recount import recount
from membership.sources.patreon import translate
from membership.sources.patreon.client import Client
from membership.sources.patreon.envelope import Delivery, member_event
from membership.sources.patreon.receive import receive
from membership.sources.patreon.settings import Settings
from tests import test_sources_properties as mixed
from tests.conftest import empty_postgres
from tests.fake_patreon import CAMPAIGN, TOKEN, FakePatreon
from tests.patreon_factory import IDENTITY_KEY, START, member
from tests.test_ledger_properties import sqlite_engine

MEMBERS = {"m-a": "olena@example.org", "m-b": "OLENA@example.org ", "m-c": "mykola@example.org"}
DAYS_SINCE_START = (datetime.now(UTC) - START).days


def state(member_id: str, name: str) -> dict | None:
    """A member's state at Patreon by name; None: Patreon no longer knows them."""
    email = MEMBERS[member_id]
    recent, old = DAYS_SINCE_START - 1, DAYS_SINCE_START - 60
    return {
        "active": member(member_id, email=email),
        "active, another tier": member(member_id, tiers=("7000",), email=email),
        "former": member(member_id, "former_patron", email=email),
        "declined just now": member(member_id, "declined_patron", charged=recent, email=email),
        "declined long ago": member(member_id, "declined_patron", charged=old, email=email),
        "free": member(member_id, cents=0, tiers=("free",), email=email),
        "follower": member(member_id, None, cents=0, tiers=(), follower=True, email=email),
        "deleted": None,
    }[name]


COUNTED = {"active", "active, another tier", "declined just now"}
STATES = ["active", "active, another tier", "former", "declined just now"]
STATES += ["declined long ago", "free", "follower", "deleted"]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("change"), st.sampled_from(sorted(MEMBERS)), st.sampled_from(STATES)),
        st.tuples(st.just("read"), st.integers(0, 50)),
        st.tuples(st.just("record"), st.integers(0, 50)),
    ),
    min_size=1,
    max_size=30,
)


@pytest.fixture(scope="module")
def fake():
    with FakePatreon() as running:
        yield running


def expected_count(final: dict[str, str]) -> int:
    """People (by normalised email) whose member's final state counts."""
    return len({MEMBERS[m].strip().lower() for m, name in final.items() if name in COUNTED})


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps, data=st.data())
def test_shuffled_repeated_and_stale_deliveries_count_the_final_states(
    postgres_engine, fake, plan, data
):
    fake.members.clear()
    settings_ = Settings(access_token=TOKEN, campaign_id=CAMPAIGN, identity_key=IDENTITY_KEY)
    client = Client(fake.url, TOKEN)
    translate_ = translate.translator(translate.Settings(CAMPAIGN))
    engine = sqlite_engine() if postgres_engine is None else postgres_engine
    if postgres_engine is not None:
        empty_postgres(engine)
    session = sessionmaker(engine, expire_on_commit=False)()

    deliveries: list[Delivery] = []  # what Patreon sent, in order, each with its stale body
    reads: list = []  # events read and not yet recorded (or recorded, for copies)
    final: dict[str, str] = {}

    def read(delivery: Delivery) -> None:
        received = receive(delivery, b"", client, settings_, datetime.now(UTC))
        assert received.read_failed is None
        reads.append(received.event)

    def record(event) -> None:
        result = store.record_event(session, event, translate_)
        assert result.outcome != store.Outcome.FAILED, result.detail

    try:
        for step in plan:
            if step[0] == "change":
                _, member_id, name = step
                found = state(member_id, name)
                if found is None:
                    fake.members.pop(member_id, None)
                else:
                    fake.members[member_id] = found
                final[member_id] = name
                body = found or state(member_id, "former")
                deliveries.append(Delivery("members:pledge:update", member_id, body))
            elif step[0] == "read" and deliveries:
                read(deliveries[step[1] % len(deliveries)])  # any delivery, again or late
            elif step[0] == "record" and reads:
                record(reads[step[1] % len(reads)])  # any read, again or out of order
        for member_id in final:  # Patreon's delivery of each member's last change
            read(Delivery("members:update", member_id, None))
        for event in data.draw(st.permutations(reads)):
            record(event)

        now = datetime.now(UTC)
        active = counting.Counting(Rule.ACTIVE)
        assert counting.count_members(session, active, now) == expected_count(final)
        assert counting.count_members_slowly(session, active, now) == expected_count(final)
        report = recount(session, {"patreon": translate_}, now)
        assert report.clean, report.differences
    finally:
        session.close()
        if postgres_engine is None:
            engine.dispose()


@st.composite
def patreon_reads(draw):
    """A read of a Patreon member at one of the mixed test's instants (or a microsecond after),
    for the same readers' emails as its Stripe and PayPal events."""
    member_id = draw(st.sampled_from(["m-a", "m-b"]))
    name = draw(st.sampled_from(["active", "active, another tier", "former", "free", "deleted"]))
    found = state(member_id, name) if name != "deleted" else None
    if found is not None:
        found["attributes"]["email"] = draw(st.sampled_from(mixed.EMAILS))
    at = draw(mixed.instant) + timedelta(microseconds=draw(st.integers(0, 2)))
    event = member_event(
        member_id=member_id,
        trigger="members:update",
        fetched_at=at,
        fetched=found,
        identity_key=mixed.KEY,
    )
    return "patreon", event


@st.composite
def mixed_histories(draw):
    events = draw(mixed.histories())
    reads = draw(st.lists(patreon_reads(), min_size=1, max_size=8))
    return [*events, *reads]


MIXED_TRANSLATORS = {
    **mixed.TRANSLATORS,
    "patreon": translate.translator(translate.Settings(CAMPAIGN)),
}


def deliver_mixed(postgres_engine, events) -> tuple[list, dict[str, int]]:
    engine = sqlite_engine() if postgres_engine is None else postgres_engine
    if postgres_engine is not None:
        empty_postgres(engine)
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        for source, body in events:
            event = body if source == "patreon" else mixed.parse(source, body)
            result = store.record_event(session, event, MIXED_TRANSLATORS[source], now=mixed.NOW)
            assert result.outcome != store.Outcome.FAILED, result.detail
        found = mixed.snapshot(session)
        report = recount(session, MIXED_TRANSLATORS, mixed.NOW)
        assert report.clean, report.differences
        return found
    finally:
        session.close()
        if postgres_engine is None:
            engine.dispose()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=mixed_histories(), data=st.data())
def test_patreon_stripe_and_paypal_for_the_same_readers_give_one_result_in_any_order(
    postgres_engine, events, data
):
    copies = data.draw(st.lists(st.sampled_from(events), max_size=len(events)))
    shuffled = data.draw(st.permutations(events + copies))
    in_order = deliver_mixed(postgres_engine, events)
    assert deliver_mixed(postgres_engine, shuffled) == in_order


def test_a_reader_paying_through_stripe_paypal_and_patreon_counts_once(postgres_engine):
    at = mixed.INSTANTS[-1]
    stripe = mixed.sf.checkout_event(
        "cs_1", int(at.timestamp()), customer="cus_1", subscription="sub_1",
        email="Olena@example.org",
    )  # fmt: skip
    resource = mixed.paypal_simulate.subscription(mixed.PAYPAL[0], "ACTIVE", at=at, payer_id="P1")
    resource["subscriber"]["email_address"] = "olena@example.org "
    paypal = mixed.paypal_simulate.event("BILLING.SUBSCRIPTION.ACTIVATED", resource, created=at)
    read = member_event(
        member_id="m-1",
        trigger="members:pledge:create",
        fetched_at=at,
        fetched=member("m-1", email="OLENA@example.org"),
        identity_key=mixed.KEY,
    )
    events = [("stripe", stripe), ("paypal", paypal), ("patreon", read)]
    rows, counts = deliver_mixed(postgres_engine, events)
    assert counts["active"] == 1
    persons = [row for row in rows if row[0].startswith("id1:")]
    assert [p[0] for p in persons] == [fingerprint("olena@example.org", mixed.KEY)]

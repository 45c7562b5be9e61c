"""Property: membership API PUTs and Stripe checkouts for the same readers, shuffled, repeated
and with older updated_at arriving later, count exactly what the newest states give, each
reader once; recount rebuilds the same ledger from the stored events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import sessionmaker

from membership import config
from membership.ledger import counting, store
from membership.ledger.counting import Rule
from membership.ledger.identity import fingerprint
from membership.recount import recount
from membership.sources import translators
from membership.sources.api import receive, translate
from membership.sources.stripe import envelope as stripe_envelope
from tests import stripe_factory as sf
from tests.conftest import empty_postgres
from tests.test_ledger_properties import sqlite_engine
from tests.test_sources_properties import snapshot

KEY = b"identity-key-for-the-api-property-test"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SOURCE = "api-crm"
STARTED = NOW - timedelta(days=400)
INSTANTS = [NOW - timedelta(days=d, seconds=s) for d in (300, 100, 10) for s in (0, 1)]
ENDS = [None, NOW - timedelta(days=1), NOW + timedelta(days=30)]
EMAILS = ["olena@example.org", "OLENA@example.org ", "mykola@example.org", None]
# Each API membership keeps one member: m1 is its own, m2 and m3 are the person p1's.
MEMBERS = {"m1": None, "m2": "p1", "m3": "p1"}
STRIPE = {"sub_1": "cus_1", "sub_2": "cus_2"}
TRANSLATORS = translators(
    {**config.from_environ({"MEMBERSHIP_ENV": "test"}, "instance"), "IDENTITY_KEY": KEY}
)


@st.composite
def api_puts(draw):
    external_id = draw(st.sampled_from(sorted(MEMBERS)))
    email = draw(st.sampled_from(EMAILS))
    if MEMBERS[external_id] is None and email is None:
        email = "mykola@example.org"  # a body names email or member
    body = {
        "email": email,
        "member": MEMBERS[external_id],
        "status": draw(st.sampled_from(["active", "lapsed"])),
        "started_at": STARTED.isoformat(),
        "ends_at": (lambda end: None if end is None else end.isoformat())(
            draw(st.sampled_from(ENDS))
        ),
        "updated_at": draw(st.sampled_from(INSTANTS)).isoformat(),
    }
    return "api", external_id, {k: v for k, v in body.items() if v is not None}


@st.composite
def stripe_checkouts(draw):
    sub = draw(st.sampled_from(sorted(STRIPE)))
    at = int(draw(st.sampled_from(INSTANTS)).timestamp())
    event = sf.checkout_event(
        f"cs_{sub}", at, customer=STRIPE[sub], subscription=sub, email=draw(st.sampled_from(EMAILS))
    )
    return "stripe", sub, event


@st.composite
def histories(draw):
    items = draw(st.lists(st.one_of(api_puts(), stripe_checkouts()), min_size=1, max_size=12))
    for n, (source, _, body) in enumerate(items):
        if source == "stripe":
            body["id"] = f"evt_{n:03d}"
    return items


def newest_states_count(items) -> int:
    """The oracle: each membership's newest state (updated_at, then active over lapsed, then
    the larger event id), each member linked by the smallest fingerprint it was ever given."""
    newest: dict[str, tuple] = {}
    identity: dict[str, str] = {}
    member_of: dict[str, str] = {}
    for source, external_id, body in items:
        if source == "stripe":
            membership, member = f"stripe:{external_id}", f"stripe:{STRIPE[external_id]}"
            state = (datetime.min.replace(tzinfo=UTC), 2, "", None)  # a checkout: active
            email = body["data"]["object"]["customer_details"]["email"]
        else:
            event = translate.event_of(SOURCE, external_id, body, KEY, NOW)
            membership = f"{SOURCE}:{external_id}"
            member = f"{SOURCE}:{MEMBERS[external_id] or external_id}"
            rank = 2 if body["status"] == "active" else 1
            ends = datetime.fromisoformat(body["ends_at"]) if "ends_at" in body else None
            state = (event.created, rank, event.id, ends)
            email = body.get("email")
        member_of[membership] = member
        if membership not in newest or state[:3] > newest[membership][:3]:
            newest[membership] = state
        found = fingerprint(email, KEY) if email else None
        if found and (member not in identity or found < identity[member]):
            identity[member] = found
    counted = set()
    for membership, (_, rank, _, ends) in newest.items():
        if rank == 2 and (ends is None or ends > NOW):
            member = member_of[membership]
            counted.add(identity.get(member, member))
    return len(counted)


def deliver(postgres_engine, items):
    if postgres_engine is None:
        engine = sqlite_engine()
    else:
        engine = postgres_engine
        empty_postgres(engine)
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        for source, external_id, body in items:
            if source == "stripe":
                event = stripe_envelope.parse(body, KEY)
                result = store.record_event(session, event, TRANSLATORS["stripe"], now=NOW)
                assert result.outcome != store.Outcome.FAILED, result.detail
            else:
                received = receive.receive(session, SOURCE, external_id, body, KEY, NOW)
                assert received.outcome != "failed", received.detail
        found = snapshot(session)
        report = recount(session, TRANSLATORS, NOW)
        assert report.clean, report.differences
        return found
    finally:
        session.close()
        if postgres_engine is None:
            engine.dispose()


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=histories(), data=st.data())
def test_api_and_stripe_for_the_same_readers_count_the_newest_states_in_any_order(
    postgres_engine, items, data
):
    copies = data.draw(st.lists(st.sampled_from(items), max_size=len(items)))
    shuffled = data.draw(st.permutations(items + copies))
    in_order = deliver(postgres_engine, items)
    assert deliver(postgres_engine, shuffled) == in_order
    _rows, counts = in_order
    assert counts["active"] == newest_states_count(items)


def test_an_older_update_arriving_last_changes_nothing(postgres_engine):
    newer = {"email": "olena@example.org", "status": "lapsed", "started_at": STARTED.isoformat(),
             "updated_at": INSTANTS[-1].isoformat()}  # fmt: skip
    older = newer | {"status": "active", "updated_at": INSTANTS[0].isoformat()}
    _rows, counts = deliver(postgres_engine, [("api", "m1", newer), ("api", "m1", older)])
    assert counts["active"] == 0


def test_the_counting_rules_see_api_sources_as_a_whole():
    from membership.sources import offer_kinds

    assert offer_kinds(SOURCE) == ()
    assert offer_kinds("api-") is None
    assert counting.Counting(Rule.ACTIVE) is not None

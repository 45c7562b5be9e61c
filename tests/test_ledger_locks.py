"""PostgreSQL writers lock the keys they touch, so events of one member queue and others don't.

Each test holds one of the ledger's advisory locks from another connection and watches, in
pg_locks, which deliveries wait for it: a rule that forgot a key would not wait, and a race
the lock exists for would go unseen by the end-to-end tests most of the time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from membership.database import make_engine
from membership.ledger import locks
from membership.ledger.store import Result
from membership.models import Member
from tests import stripe_factory as sf
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="advisory locks are PostgreSQL's (SQLite: one writer at a time)"
)

T = int(time.time()) - 3600


@pytest.fixture
def sessions(db_url: str) -> Iterator[Any]:
    engine = make_engine(db_url)
    yield sessionmaker(engine)
    engine.dispose()


def record(sessions: Any, event: dict[str, Any]) -> Result:
    session = sessions()
    try:
        return sf.record(session, event)
    finally:
        session.close()


@contextmanager
def holding(sessions: Any, kind: str, key: str) -> Iterator[Any]:
    """Hold the ledger's lock on one key in another transaction until the block ends."""
    session = sessions()
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": locks.lock_key(kind, key)})
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def waiting_for(session: Any, kind: str, key: str) -> int:
    """How many transactions wait for the advisory lock on this key."""
    unsigned = locks.lock_key(kind, key) & 0xFFFF_FFFF_FFFF_FFFF
    return session.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"
        ),
        {"hi": unsigned >> 32, "lo": unsigned & 0xFFFF_FFFF},
    ).scalar_one()


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.02)


def in_thread(fn: Any, *args: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn(*args)))
    thread.start()
    return thread, out


def test_a_refund_and_a_cancellation_of_one_member_queue_on_that_member(sessions):
    # cus_1 has a one-off payment and a subscription: the refund of the one and the
    # cancellation of the other both rederive cus_1's figures, so they must not interleave.
    payment = sf.checkout_event("cs_1", T, mode="payment", customer="cus_1", payment_intent="pi_1")
    subscription = sf.subscription_event("created", "sub_1", "cus_1", "active", T + 1)
    assert record(sessions, payment).outcome == "applied"
    assert record(sessions, subscription).outcome == "applied"

    with holding(sessions, "member", "stripe:cus_1") as holder:
        # The refund names only the payment: it finds cus_1 through the membership, and locks it.
        refund, refund_out = in_thread(record, sessions, sf.charge_refunded("ch_1", "pi_1", T + 2))
        cancel, cancel_out = in_thread(
            record, sessions, sf.subscription_event("deleted", "sub_1", "cus_1", "canceled", T + 3)
        )
        wait_until(
            lambda: waiting_for(holder, "member", "stripe:cus_1") == 2, "both wait for cus_1"
        )
        assert refund.is_alive() and cancel.is_alive()
    refund.join(30)
    cancel.join(30)
    assert [r.outcome for r in refund_out + cancel_out] == ["applied", "applied"]

    session = sessions()
    member = session.get(Member, "stripe:cus_1")
    assert member is not None
    assert member.active_until is None  # refunded and cancelled: counted nowhere
    session.close()


def test_the_same_event_twice_at_once_is_applied_once(sessions):
    event = sf.subscription_event("created", "sub_1", "cus_1", "active", T)
    event_key = "stripe:" + event["id"]
    with holding(sessions, "event", event_key) as holder:
        first, first_out = in_thread(record, sessions, event)
        second, second_out = in_thread(record, sessions, event)
        wait_until(lambda: waiting_for(holder, "event", event_key) == 2, "both copies wait")
    first.join(30)
    second.join(30)
    assert sorted(r.outcome for r in first_out + second_out) == ["applied", "duplicate"]


def test_events_of_other_members_do_not_wait(sessions):
    with holding(sessions, "member", "stripe:cus_1"):
        other, out = in_thread(
            record, sessions, sf.subscription_event("created", "sub_2", "cus_2", "active", T)
        )
        other.join(30)  # a delivery that waited for cus_1 would still be waiting here
        assert [r.outcome for r in out] == ["applied"]

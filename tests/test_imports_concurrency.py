"""An import and webhook deliveries at once on PostgreSQL: both land, exactly, no deadlock.

The batch takes each slice's advisory locks first, in locks.py's order; a webhook for the
same reader queues behind the slice that holds them, and every count is what the events give.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from membership import recount, sources
from membership.accounts import audit
from membership.database import make_engine
from membership.ledger import batch, locks
from membership.models import Event, Membership, utcnow
from membership.sources.imports import runner, translate
from membership.sources.stripe.translate import Settings
from tests import stripe_factory as sf
from tests.conftest import POSTGRES_URL
from tests.imports_helpers import KEY, SETTINGS, csv
from tests.test_ledger_locks import holding, in_thread, wait_until, waiting_for

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="advisory locks are PostgreSQL's (SQLite: one writer at a time)"
)

T = int(time.time()) - 3600
READERS = 400


@pytest.fixture
def sessions(db_url: str) -> Iterator[Any]:
    engine = make_engine(db_url)
    yield sessionmaker(engine)
    engine.dispose()


def import_file(sessions: Any, data: bytes) -> batch.Recorded:
    session = sessions()
    try:
        found = runner.plan(session, "bank", "members.csv", data, SETTINGS)
        return runner.apply(session, found, SETTINGS, audit.CLI)
    finally:
        session.close()


def deliver(sessions: Any, events: list[dict[str, Any]]) -> list[str]:
    session = sessions()
    try:
        return [sf.record(session, e, Settings(identity_key=KEY)).outcome for e in events]
    finally:
        session.close()


def test_an_import_waits_for_a_webhook_holding_its_key(sessions):
    data = csv("m1,,2024-01-05,,,", "m2,,2024-01-05,,,")
    with holding(sessions, locks.MEMBERSHIP, "csv-bank:m2") as other:
        thread, out = in_thread(import_file, sessions, data)
        wait_until(lambda: waiting_for(other, locks.MEMBERSHIP, "csv-bank:m2") == 1, "a wait")
        assert not out  # the slice waits for the key, before writing anything
    thread.join()
    assert out[0].applied == 2


def test_an_import_and_webhooks_for_the_same_readers_both_land(sessions, monkeypatch):
    monkeypatch.setattr(batch, "SLICE", 25)  # many slices, so deliveries fall between them
    rows = [f"m{n},reader{n}@example.org,2024-01-05,,," for n in range(READERS)]
    stripe = [
        sf.checkout_event(
            f"cs_{n}",
            T + n,
            customer=f"cus_{n}",
            subscription=f"sub_{n}",
            email=f"reader{n}@example.org",
        )
        for n in range(0, READERS, 2)
    ]
    senders = [threading.Thread(target=deliver, args=(sessions, stripe[i::4])) for i in range(4)]
    importer, out = in_thread(import_file, sessions, csv(*rows))
    for sender in senders:
        sender.start()
    for thread in [importer, *senders]:
        thread.join(timeout=120)
        assert not thread.is_alive(), "deadlocked"
    assert out and out[0].applied == READERS
    session = sessions()
    try:
        by_source = dict(
            session.execute(
                select(Membership.source, func.count()).group_by(Membership.source)
            ).all()
        )
        assert by_source == {"csv-bank": READERS, "stripe": READERS // 2}
        outcomes = session.scalars(select(Event.outcome).where(Event.source == "stripe")).all()
        assert sorted(set(outcomes)) == ["applied"] and len(outcomes) == READERS // 2
        translators = dict(sources.translators({**_config(), "IDENTITY_KEY": KEY}))
        translators["csv-bank"] = translate.translator(timedelta(days=365))
        report = recount.recount(session, translators, utcnow())
        assert report.clean, report.differences[:5]
    finally:
        session.close()


def _config() -> dict[str, Any]:
    return {"STRIPE_LIVEMODE": None, "MEMBERSHIP_TERM_DAYS": 365}

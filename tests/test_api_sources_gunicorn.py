"""The membership API under gunicorn with several workers, over real sockets: concurrent PUTs,
shuffled, repeated and with older updates arriving late, from several systems' tokens, end at
exactly the count the newest states give; recount agrees; Stripe readers with the same
emails are counted once."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from membership import config
from membership.accounts import audit
from membership.campaigns import settings as campaigns
from membership.database import make_engine
from membership.models import Event
from membership.recount import recount
from membership.sources import translators
from membership.sources.api import tokens
from tests import stripe_factory as sf
from tests.conftest import SECRET
from tests.servers import get, post, service

pytestmark = pytest.mark.slow
SENDERS = 6
READERS = 40
KEY = "identity-key-for-the-api-gunicorn-test-0123456789"
NOW = datetime.now(UTC).replace(microsecond=0)
SOURCES = ("api-crm", "api-app-store")


@pytest.fixture
def server(db_url, tmp_path):
    engine = make_engine(db_url)
    session = sessionmaker(engine, expire_on_commit=False)()
    campaigns.create_campaign(session, "now", 25_000, title="Members now")
    made = {
        source: [tokens.create(session, source, audit.CLI)[1] for _ in range(3)]
        for source in SOURCES
    }
    session.close()
    engine.dispose()
    env = {
        "DATABASE_URL": db_url,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "IDENTITY_KEY": KEY,
        "PROGRESS_CACHE_SECONDS": "0",
    }
    with service(env, workers=3, log_path=tmp_path / "gunicorn.log") as running:
        yield running, made


def put(url: str, body: dict, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="PUT",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def history(rng: random.Random):
    """Each reader's membership in one API source, updated two to four times; some readers
    also pay through Stripe with the same email. Returns the PUTs and the expected count."""
    puts, stripe, counted = [], [], set()
    for n in range(READERS):
        source = SOURCES[n % 2]
        email = f"reader{n}@example.org"
        updates = sorted(rng.sample(range(1, 200), rng.randint(2, 4)), reverse=True)
        statuses = [rng.choice(["active", "lapsed"]) for _ in updates]
        for hours, status in zip(updates, statuses, strict=True):
            body = {
                "email": email if n % 3 else email.upper(),
                "status": status,
                "started_at": (NOW - timedelta(days=300)).isoformat(),
                "updated_at": (NOW - timedelta(hours=hours)).isoformat(),
            }
            puts.append((source, f"sub-{n}", body))
        if statuses[-1] == "active":  # the newest update
            counted.add(email)
        if n % 5 == 0:
            at = int((NOW - timedelta(days=2)).timestamp())
            event = sf.checkout_event(
                f"cs_{n}", at, customer=f"cus_{n}", subscription=f"sub_{n}", email=email
            )
            stripe.append(event)
            counted.add(email)
    return puts, stripe, len(counted)


def test_concurrent_puts_from_two_systems_end_at_the_newest_states_count(server, db_url):
    running, made = server
    rng = random.Random(23)
    puts, stripe, expected = history(rng)
    sends = puts + rng.sample(puts, len(puts) // 3)  # retries
    rng.shuffle(sends)

    def send(item) -> int:
        source, external_id, body = item
        url = f"{running.url}/api/sources/{source}/memberships/{external_id}"
        return put(url, body, made[source][int(external_id.split("-")[1]) % 3])[0]

    def deliver(event) -> int:
        return post(running.url + "/webhooks/stripe", *sf.signed(event, SECRET))[0]

    with ThreadPoolExecutor(SENDERS) as pool:
        statuses = list(pool.map(send, sends)) + list(pool.map(deliver, stripe))
    assert set(statuses) == {200}, sorted(set(statuses))
    status, _headers, body = get(f"{running.url}/api/campaigns/now")
    assert status == 200
    assert json.loads(body)["count"] == expected
    assert READERS // 4 < expected < READERS

    # A token of the other system is refused, and changes nothing.
    source, external_id, body = puts[0]
    other = made[SOURCES[1] if source == SOURCES[0] else SOURCES[0]][0]
    url = f"{running.url}/api/sources/{source}/memberships/{external_id}"
    assert put(url, body | {"status": "lapsed", "updated_at": NOW.isoformat()}, other)[0] == 403

    engine = make_engine(db_url)
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        stored = session.scalar(select(func.count()).select_from(Event))
        assert stored == len(puts) + len(stripe)  # each body once, whatever the retries
        settings = {
            **config.from_environ({"MEMBERSHIP_ENV": "test"}, "instance"),
            "IDENTITY_KEY": KEY.encode(),
        }
        report = recount(session, translators(settings), datetime.now(UTC))
        assert report.clean, report.differences[:10]
    finally:
        session.close()
        engine.dispose()

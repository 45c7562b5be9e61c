"""Stripe and PayPal at once, under gunicorn with several workers, over real sockets.

Readers pay through Stripe, PayPal or both (linked by their email's fingerprint); their
deliveries, shuffled and with copies, come from several senders at once. The served count must
be exactly what the same events give when recorded one by one in order, and recount agrees.
"""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from membership.campaigns import settings as campaigns
from membership.database import make_engine
from membership.ledger import checks, store
from membership.ledger.counting import Counting, Rule, count_members
from membership.recount import recount
from membership.sources.paypal import envelope as paypal_envelope
from membership.sources.paypal import simulate as paypal_simulate
from membership.sources.paypal import standin
from membership.sources.paypal import translate as paypal_translate
from membership.sources.stripe import envelope as stripe_envelope
from membership.sources.stripe import translate as stripe_translate
from tests import stripe_factory as sf
from tests.conftest import SECRET
from tests.servers import get, post, service

pytestmark = pytest.mark.slow
SENDERS = 6
READERS = 40
KEY = "identity-key-for-the-gunicorn-test-0123456789"
WEBHOOK_ID = "WH-GUNICORN-TEST"
CERT_PATH = "/v1/notifications/certs/CERT-gunicorn-test"
NOW = datetime.now(UTC).replace(microsecond=0)
TRANSLATORS = {
    "stripe": stripe_translate.translator(stripe_translate.Settings(identity_key=KEY.encode())),
    "paypal": paypal_translate.translator(paypal_translate.Settings()),
}


@pytest.fixture
def pki(tmp_path):
    ca = standin.make_ca()
    signer = standin.issue(ca)
    bundle = Path(tmp_path, "ca.pem")
    bundle.write_bytes(ca.pem)
    with standin.CertServer(ca, {CERT_PATH: signer.pem}) as server:
        yield signer, server, bundle


@pytest.fixture
def server(db_url, tmp_path, pki):
    _signer, cert_server, bundle = pki
    env = {
        "DATABASE_URL": db_url,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "PAYPAL_WEBHOOK_ID": WEBHOOK_ID,
        "PAYPAL_CERT_HOSTS": cert_server.host,
        "PAYPAL_CA_BUNDLE": str(bundle),
        "IDENTITY_KEY": KEY,
        "PROGRESS_CACHE_SECONDS": "0",
    }
    engine = make_engine(db_url)
    session = sessionmaker(engine)()
    campaigns.create_campaign(session, "now", 25_000, title="Members now")
    session.close()
    engine.dispose()
    with service(env, workers=3, log_path=tmp_path / "gunicorn.log") as running:
        yield running


def stream(rng: random.Random) -> list[tuple[str, dict]]:
    """Each reader joins through Stripe, PayPal or both; some cancel, in either."""
    events: list[tuple[str, dict]] = []
    for n in range(READERS):
        email = f"reader{n}@example.org" if n % 4 else f"Reader{n}@Example.org "
        at = NOW - timedelta(hours=rng.randint(2, 200))
        ways = rng.choice([("stripe",), ("paypal",), ("stripe", "paypal")])
        if "stripe" in ways:
            sub, cus = f"sub_g{n}", f"cus_g{n}"
            events.append(
                ("stripe", sf.checkout_event(
                    f"cs_g{n}", int(at.timestamp()), customer=cus, subscription=sub, email=email
                ))
            )  # fmt: skip
            if rng.random() < 0.3:
                later = int((at + timedelta(hours=1)).timestamp())
                events.append(
                    ("stripe", sf.subscription_event("deleted", sub, cus, "canceled", later))
                )
        if "paypal" in ways:
            subscription = f"I-G{n:010d}"
            resource = paypal_simulate.subscription(subscription, "ACTIVE", at=at, payer_id=f"P{n}")
            resource["subscriber"]["email_address"] = email
            events.append(
                (
                    "paypal",
                    paypal_simulate.event("BILLING.SUBSCRIPTION.ACTIVATED", resource, created=at),
                )
            )
            if rng.random() < 0.3:
                ended = paypal_simulate.subscription(
                    subscription, "CANCELLED", at=at + timedelta(hours=2), payer_id=f"P{n}"
                )
                events.append(
                    ("paypal", paypal_simulate.event(
                        "BILLING.SUBSCRIPTION.CANCELLED", ended, created=at + timedelta(hours=2)
                    ))
                )  # fmt: skip
    return events


def expected_count(events: list[tuple[str, dict]]) -> int:
    """The same events recorded one by one, in order, in a scratch ledger."""
    with checks.scratch_ledger() as scratch:
        for source, body in events:
            if source == "stripe":
                event = stripe_envelope.parse(body, KEY.encode())
            else:
                event = paypal_envelope.parse(body, livemode=None, identity_key=KEY.encode())
            store.record_event(scratch, event, TRANSLATORS[source], now=NOW)
        return count_members(scratch, Counting(Rule.ACTIVE), datetime.now(UTC))


def test_both_webhooks_at_once_count_each_reader_once(server, pki, db_url):
    signer, cert_server, _bundle = pki
    rng = random.Random(11)
    events = stream(rng)
    deliveries = events + rng.sample(events, len(events) // 4)  # copies, as providers send
    rng.shuffle(deliveries)

    def send(delivery: tuple[str, dict]) -> int:
        source, body = delivery
        if source == "stripe":
            data, headers = sf.signed(body, SECRET)
            return post(server.url + "/webhooks/stripe", data, headers)[0]
        data = paypal_simulate.body_of(body)
        headers = paypal_simulate.sign(data, WEBHOOK_ID, signer, cert_server.url(CERT_PATH))
        headers["Content-Type"] = "application/json"
        return post(server.url + "/webhooks/paypal", data, headers)[0]

    with ThreadPoolExecutor(SENDERS) as pool:
        statuses = list(pool.map(send, deliveries))
    assert set(statuses) == {200}, sorted(set(statuses))

    expected = expected_count(events)
    both = READERS - expected  # at least some readers must have been linked or have left
    assert both > 0 and expected > READERS // 3
    status, _headers, body = get(f"{server.url}/api/campaigns/now")
    assert status == 200
    assert json.loads(body)["count"] == expected

    engine = make_engine(db_url)
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        report = recount(session, TRANSLATORS, datetime.now(UTC))
        assert report.clean, report.differences[:10]
        assert report.events == len(events)
    finally:
        session.close()
        engine.dispose()

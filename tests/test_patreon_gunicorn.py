"""Patreon (and Stripe) under gunicorn with several workers, over real sockets, while members
change at a fake Patreon API.

Senders deliver every member's change with copies and stale bodies, several at once, while
another thread changes members at Patreon; each change is then delivered again, as Patreon
does after a change. The served count must be exactly what the members' final states give
(with a reader who also pays through Stripe counted once), and recount agrees.
"""

from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import sessionmaker

from membership.campaigns import settings as campaigns
from membership.database import make_engine
from membership.recount import recount
from membership.sources.patreon import translate as patreon_translate
from membership.sources.stripe import translate as stripe_translate
from tests import stripe_factory as sf
from tests.conftest import SECRET as STRIPE_SECRET
from tests.fake_patreon import CAMPAIGN, TOKEN, FakePatreon
from tests.patreon_factory import SECRET, member, signed
from tests.servers import get, post, service

pytestmark = pytest.mark.slow
SENDERS = 8
MEMBERS = 30
KEY = "identity-key-for-the-patreon-gunicorn-test-0123456789"
STATES = ["active_patron", "former_patron", None]


def email(n: int) -> str:
    return f"reader{n}@example.org"


def state(n: int, status: str | None) -> dict:
    cents = 500 if status else 0
    return member(f"m-{n:03d}", status, cents=cents, email=email(n))


@pytest.fixture
def fake():
    with FakePatreon() as running:
        yield running


@pytest.fixture
def server(db_url, tmp_path, fake):
    env = {
        "DATABASE_URL": db_url,
        "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
        "PATREON_WEBHOOK_SECRET": SECRET,
        "PATREON_ACCESS_TOKEN": TOKEN,
        "PATREON_CAMPAIGN_ID": CAMPAIGN,
        "PATREON_API_BASE": fake.url,
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


def test_concurrent_deliveries_while_members_change_count_the_final_states(server, fake, db_url):
    rng = random.Random(7)
    for n in range(MEMBERS):
        fake.members[f"m-{n:03d}"] = state(n, "active_patron")
    final = {n: rng.choice(STATES) for n in range(MEMBERS)}
    stale = [state(n, rng.choice(STATES)) for n in range(MEMBERS)]  # bodies never trusted
    deliveries = [signed(body) for body in stale] * 3
    rng.shuffle(deliveries)
    stripe_readers = range(0, MEMBERS, 5)  # these also pay through Stripe, same email
    at = int(datetime.now(UTC).timestamp()) - 3600
    stripe = [
        sf.signed(
            sf.checkout_event(f"cs_{n}", at, customer=f"cus_{n}", subscription=f"sub_{n}",
                              email=email(n).upper()),
            STRIPE_SECRET,
        )
        for n in stripe_readers
    ]  # fmt: skip

    def send(delivery: tuple[bytes, dict[str, str]], path: str = "/webhooks/patreon") -> int:
        return post(server.url + path, *delivery)[0]

    def change_members() -> None:
        for n in rng.sample(range(MEMBERS), MEMBERS):
            fake.members[f"m-{n:03d}"] = state(n, final[n])

    changing = threading.Thread(target=change_members)
    with ThreadPoolExecutor(SENDERS) as pool:
        changing.start()
        statuses = list(pool.map(send, deliveries))
        statuses += list(pool.map(lambda d: send(d, "/webhooks/stripe"), stripe))
        changing.join()
        # Patreon's delivery of each member's last change, with copies, all at once.
        after = [signed(state(n, final[n])) for n in range(MEMBERS)] * 2
        statuses += list(pool.map(send, after))
    assert set(statuses) == {200}, sorted(set(statuses))

    counted = {n for n in range(MEMBERS) if final[n] == "active_patron"} | set(stripe_readers)
    assert 0 < len(counted) < MEMBERS
    status, _headers, body = get(f"{server.url}/api/campaigns/now")
    assert status == 200
    assert json.loads(body)["count"] == len(counted)

    engine = make_engine(db_url)
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        translators = {
            "stripe": stripe_translate.translator(
                stripe_translate.Settings(identity_key=KEY.encode())
            ),
            "patreon": patreon_translate.translator(patreon_translate.Settings(CAMPAIGN)),
        }
        report = recount(session, translators, datetime.now(UTC))
        assert report.clean, report.differences[:10]
        assert report.events == len(statuses)
    finally:
        session.close()
        engine.dispose()

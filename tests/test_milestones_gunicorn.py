"""Milestones under concurrent deliveries: two gunicorn services (two "hosts") on one
PostgreSQL, several senders at once; every crossing is recorded once, with one notice per
channel, and none is missed."""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from membership.campaigns import settings as campaigns
from membership.database import make_engine
from membership.notify import channels
from tests import stripe_factory as sf
from tests.conftest import POSTGRES_URL, SECRET
from tests.servers import get, post, service

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)"),
]
READERS = 60
SENDERS = 8
T = int(time.time()) - 3600


@pytest.fixture
def hosts(db_url, tmp_path):
    engine = make_engine(db_url)
    session = sessionmaker(engine)()
    campaign = campaigns.create_campaign(
        session,
        "drive",
        40,
        title="Drive",
        stretch_goals="50,55",
        milestones="10%,25%,50%,75%,5,33",
    )
    channels.add_channel(session, campaign, "email", "desk@news.example", ())
    channels.add_channel(session, campaign, "email", "editor@news.example", (), milestones="50%")
    session.close()
    engine.dispose()
    env = {"DATABASE_URL": db_url, "STRIPE_WEBHOOK_SECRET": SECRET, "PROGRESS_CACHE_SECONDS": "0"}
    with (
        service(env, workers=3, log_path=tmp_path / "one.log") as one,
        service(env, workers=3, log_path=tmp_path / "two.log") as two,
    ):
        yield one, two


def test_a_crossing_fires_once_across_workers_and_hosts(hosts, db_url, tmp_path):
    rng = random.Random(12)
    events = [
        sf.checkout_event(f"cs_m{n}", T + n, customer=f"cus_m{n}", subscription=f"sub_m{n}")
        for n in range(READERS)
    ]
    deliveries = events + rng.sample(events, READERS // 3)  # copies, as Stripe sends
    rng.shuffle(deliveries)

    def send(numbered: tuple[int, dict]) -> int:
        n, event = numbered
        data, headers = sf.signed(event, SECRET)
        return post(hosts[n % 2].url + "/webhooks/stripe", data, headers)[0]

    with ThreadPoolExecutor(SENDERS) as pool:
        statuses = list(pool.map(send, enumerate(deliveries)))
    assert set(statuses) == {200}

    engine = make_engine(db_url)
    with engine.connect() as conn:
        crossed = conn.execute(
            text("SELECT label, threshold, count FROM milestone ORDER BY threshold")
        ).all()
        sent = conn.execute(
            text(
                "SELECT c.address, d.notice_key FROM notify_delivery d "
                "JOIN notify_channel c ON c.id = d.channel_id ORDER BY c.address, d.notice_key"
            )
        ).all()
    engine.dispose()

    # Every milestone up to the final count, each once; none is missed.
    labels = ["10%", "5", "25%", "50%", "75%", "33", "goal 40", "goal 50", "goal 55"]
    assert [label for label, _, _ in crossed] == labels
    for _label, threshold, count in crossed:
        assert threshold <= count <= READERS
    desk = sorted(f"milestone:{label}" for label in labels)
    assert sent == [("desk@news.example", key) for key in desk] + [
        ("editor@news.example", "milestone:50%")
    ]

    # Each detector logs the crossings it recorded: each was recorded by exactly one request.
    logged = [
        line.split("label=", 1)[1].split(" count=")[0]
        for log in ("one.log", "two.log")
        for line in (tmp_path / log).read_text().splitlines()
        if "milestone crossed campaign=drive" in line
    ]
    assert sorted(logged) == sorted(repr(label) for label in labels)

    status, _headers, body = get(hosts[0].url + "/api/campaigns/drive")
    figures = json.loads(body)
    assert status == 200
    assert (figures["count"], figures["goal"], figures["status"]) == (READERS, 55, "reached")
    assert all(goal["reached_at"] for goal in figures["goals"])

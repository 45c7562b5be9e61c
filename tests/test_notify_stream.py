"""End to end: Stripe sign-ups carry a campaign past 50%, its goal and a stretch goal; the
worker tells each channel of exactly the milestones it hears, once, even after a dip and a
second crossing, through a receiver that was down for part of it."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest

from membership.database import db
from membership.models import utcnow
from membership.notify import worker
from tests import stripe_factory as sf
from tests.conftest import count_of
from tests.notify_servers import NOTIFY_KEY, Receiver, notify_settings

SECRET = "stream-test-secret-0123456789"


@pytest.fixture(autouse=True)
def notify_key(monkeypatch):
    monkeypatch.setenv("NOTIFY_KEY", NOTIFY_KEY)


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def sign_up(deliver, n: int, created: int) -> None:
    event = sf.checkout_event(f"cs_{n}", created, customer=f"cus_{n}", subscription=f"sub_{n}")
    assert deliver(event).status_code == 200


def heard(receiver: Receiver, path: str) -> Counter[str]:
    return Counter(r.json()["key"] for r in receiver.answered(200) if r.path == path)


def test_a_stream_past_half_the_goal_and_a_stretch_goal_notifies_each_channel_once(
    app, runner, client, campaign, deliver, receiver
):
    campaign("drive", goal=4, stretch_goals="6", milestones="50%")
    notify = ["notify", "add", "drive", "--webhook"]
    assert runner.invoke(args=[*notify, receiver.url + "/all", "--secret", SECRET]).exit_code == 0
    goal_only = [*notify, receiver.url + "/goal", "--secret", SECRET, "--milestones", "goal 4"]
    assert runner.invoke(args=goal_only).exit_code == 0
    now = int(time.time())

    for n in range(1, 4):  # past 50% (2 of 4)
        sign_up(deliver, n, now + n)
    assert runner.invoke(args=["notify", "run", "--once"]).exit_code == 0
    assert heard(receiver, "/all") == Counter({"milestone:50%": 1})
    receiver.stop()  # the receiver is down while the goal is reached
    sign_up(deliver, 4, now + 4)
    assert runner.invoke(args=["notify", "run", "--once"]).exit_code == 0
    assert len(receiver.requests) == 1  # the goal's two notices wait for their retries
    receiver.start()
    for n in range(5, 8):  # onto and past the stretch goal
        sign_up(deliver, n, now + n)
    assert count_of(client) == 7

    # Two members leave and two join: the count dips below 6 and crosses it again.
    for n in (6, 7):
        gone = sf.subscription_event("deleted", f"sub_{n}", f"cus_{n}", "canceled", now + 10 + n)
        assert deliver(gone).status_code == 200
    assert count_of(client) == 5
    for n in (8, 9):
        sign_up(deliver, n, now + 20 + n)
    assert count_of(client) == 7

    # The worker catches up once the retries are due: its clock moves on two hours.
    with app.app_context():
        two_hours_on = utcnow() + timedelta(hours=2)
        worker.deliver_due(db.session, notify_settings(), lambda: two_hours_on)

    assert heard(receiver, "/all") == Counter(
        {"milestone:50%": 1, "milestone:goal 4": 1, "milestone:goal 6": 1}
    )
    assert heard(receiver, "/goal") == Counter({"milestone:goal 4": 1})

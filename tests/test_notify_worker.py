"""The outbox worker: deliveries through real local receivers, retries with back-off, leases,
and several workers at once, on SQLite and PostgreSQL. Time is a clock the test moves."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.models import NotifyDelivery
from membership.notify import channels, worker
from membership.notify.outbox import Notice, enqueue
from tests.notify_servers import Receiver, notify_settings

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def milestone(label: str) -> Notice:
    return Notice(
        kind="milestone",
        key=f"milestone:{label}",
        milestone=label,
        subject=f"Membership drive: {label}",
        text=f"The drive passed {label}.",
        data={"slug": "drive", "label": label},
    )


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.release.set()
    receiver.stop()


@pytest.fixture
def drive(app, campaign):
    return campaign("drive", goal=100)


def add_webhook(session: Session, drive, receiver: Receiver, path: str = "/hook") -> int:
    added = channels.add_channel(
        session, drive, "webhook", receiver.url + path, notify_settings().keys, secret="s" * 20
    )
    return added.channel.id


def queue(session: Session, drive, *labels: str, at: datetime = T0) -> None:
    for label in labels:
        enqueue(session, drive.id, milestone(label), now=at)
    session.commit()


def statuses(session: Session) -> list[tuple[str, str, int]]:
    session.expire_all()
    rows = session.scalars(select(NotifyDelivery).order_by(NotifyDelivery.id))
    return [(r.notice_key, r.status, r.attempts) for r in rows]


def test_a_receiver_that_fails_then_recovers_gets_each_notice_exactly_once(
    session, drive, receiver
):
    add_webhook(session, drive, receiver)
    queue(session, drive, "10%", "50%")
    settings, clock = notify_settings(), Clock()
    receiver.mode = "error"
    for _ in range(3):
        outcome = worker.deliver_due(session, settings, clock)
        assert outcome == {"delivered": 0, "pending": 2, "failed": 0}
        clock.advance(hours=1)  # past any back-off so far
    assert len(receiver.answered(500)) == 6
    assert all(r.last_error.startswith("HTTP 500") for r in session.scalars(select(NotifyDelivery)))

    receiver.mode = "ok"
    assert worker.deliver_due(session, settings, clock)["delivered"] == 2
    clock.advance(days=1)
    assert worker.deliver_due(session, settings, clock)["delivered"] == 0
    delivered = [r.json()["key"] for r in receiver.answered(200)]
    assert sorted(delivered) == ["milestone:10%", "milestone:50%"]
    ids = {r.headers["Membership-Delivery-Id"] for r in receiver.requests}
    assert len(ids) == 2  # every attempt of a notice carried the same id
    assert statuses(session) == [
        ("milestone:10%", "delivered", 4),
        ("milestone:50%", "delivered", 4),
    ]


def test_a_receiver_down_for_hours_gets_everything_once_it_is_back(session, drive, receiver):
    add_webhook(session, drive, receiver)
    queue(session, drive, "10%", "50%", "goal 100")
    settings, clock = notify_settings(), Clock()
    receiver.stop()  # connections refused
    for _ in range(12):  # six hours of hourly tries at most
        worker.deliver_due(session, settings, clock)
        clock.advance(minutes=30)
    rows = session.scalars(select(NotifyDelivery)).all()
    assert {r.status for r in rows} == {"pending"}
    assert all("could not reach the receiver" in r.last_error for r in rows)

    receiver.start()
    clock.advance(hours=1)
    assert worker.deliver_due(session, settings, clock)["delivered"] == 3
    assert sorted(r.json()["key"] for r in receiver.requests) == [
        "milestone:10%",
        "milestone:50%",
        "milestone:goal 100",
    ]


def test_retries_back_off_doubling_up_to_the_cap_with_jitter():
    settings = notify_settings(NOTIFY_RETRY_SECONDS=30, NOTIFY_RETRY_MAX_SECONDS=3600)
    rng = random.Random(12)
    for attempt, full in [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (40, 3600)]:
        waits = [worker.backoff(attempt, settings, rng) for _ in range(200)]
        assert all(full / 2 <= w <= full for w in waits)
        assert max(waits) - min(waits) > full / 4  # jittered, not one fixed wait


def test_a_failed_delivery_waits_its_back_off_before_the_next_try(session, drive, receiver):
    add_webhook(session, drive, receiver)
    queue(session, drive, "50%")
    settings, clock = notify_settings(NOTIFY_RETRY_SECONDS=60), Clock()
    receiver.mode = "error"
    worker.deliver_due(session, settings, clock)
    (row,) = session.scalars(select(NotifyDelivery)).all()
    wait = (row.due_at - clock.now).total_seconds()
    assert 30 <= wait <= 60
    clock.advance(seconds=wait - 1)
    assert worker.deliver_due(session, settings, clock)["pending"] == 0  # not due yet
    clock.advance(seconds=1)
    assert worker.deliver_due(session, settings, clock)["pending"] == 1
    assert len(receiver.requests) == 2


def test_it_keeps_trying_for_the_give_up_time_then_marks_the_delivery_failed(
    session, drive, receiver
):
    add_webhook(session, drive, receiver)
    queue(session, drive, "50%")
    settings, clock = notify_settings(NOTIFY_GIVE_UP_HOURS=24), Clock()
    receiver.mode = "error"
    tries = 0
    while clock.now < T0 + timedelta(hours=23):
        tries += sum(worker.deliver_due(session, settings, clock).values())
        clock.advance(minutes=10)
    assert statuses(session)[0][1] == "pending"
    assert 20 <= tries <= 40  # about hourly once backed off, not every ten minutes
    clock.advance(hours=2)
    assert worker.deliver_due(session, settings, clock)["failed"] == 1
    clock.advance(days=1)
    assert sum(worker.deliver_due(session, settings, clock).values()) == 0
    assert statuses(session)[0][1] == "failed"


def test_a_claim_whose_lease_ran_out_is_claimed_again_and_the_late_report_is_ignored(
    session, drive, receiver
):
    add_webhook(session, drive, receiver)
    queue(session, drive, "50%")
    settings, clock = notify_settings(NOTIFY_LEASE_SECONDS=300), Clock()
    first = worker.claim(session, settings, clock())  # a worker that then hangs or dies
    assert first is not None
    assert worker.claim(session, settings, clock()) is None  # leased: nobody else takes it
    clock.advance(seconds=301)
    second = worker.claim(session, settings, clock())
    assert second is not None and second.id == first.id and second.attempt == 2
    rng = random.Random(1)
    assert worker.record(session, second, None, settings, clock(), rng) == "delivered"
    # The first worker wakes up and reports a failure: the delivered row stays delivered.
    worker.record(session, first, "HTTP 500: late", settings, clock(), rng)
    assert statuses(session) == [("milestone:50%", "delivered", 2)]


@pytest.mark.slow
def test_two_workers_never_deliver_a_row_twice(app, session, drive, receiver):
    for path in ("/a", "/b", "/c", "/d"):
        add_webhook(session, drive, receiver, path)
    queue(session, drive, *[f"{n}" for n in range(1, 51)])  # 4 channels × 50 = 200 rows
    settings = notify_settings()
    sessions = app.extensions["database.sessions"]
    start = threading.Barrier(2)
    outcomes: list[dict[str, int]] = []

    def work() -> None:
        own = sessions()
        start.wait()
        try:
            outcomes.append(worker.deliver_due(own, settings, limit=1000))
        finally:
            own.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    delivered = Counter(r.headers["Membership-Delivery-Id"] for r in receiver.requests)
    assert len(delivered) == 200
    assert set(delivered.values()) == {1}
    assert sum(o["delivered"] for o in outcomes) == 200
    assert {s for _, s, a in statuses(session) if a == 1} == {"delivered"}


def test_run_once_runs_the_ticks_then_delivers_what_they_queued(app, session, drive, receiver):
    add_webhook(session, drive, receiver)
    calls: list[datetime] = []

    def failing_tick(tick_session: Session, now: datetime) -> None:
        raise RuntimeError("a bug in another tick")

    def crossing_tick(tick_session: Session, now: datetime) -> None:
        calls.append(now)
        enqueue(tick_session, drive.id, milestone("50%"), now=now)  # the worker commits

    worker.run(
        app.extensions["database.sessions"],
        notify_settings(),
        [failing_tick, crossing_tick],
        once=True,
    )
    assert len(calls) == 1
    assert [r.json()["key"] for r in receiver.answered(200)] == ["milestone:50%"]


def test_run_stops_when_told(app, session, drive, receiver):
    stop = threading.Event()
    rounds: list[datetime] = []

    def count_rounds(tick_session: Session, now: datetime) -> None:
        rounds.append(now)
        if len(rounds) == 3:
            stop.set()

    loop = threading.Thread(
        target=worker.run,
        args=(app.extensions["database.sessions"], notify_settings(NOTIFY_POLL_SECONDS=1)),
        kwargs={"ticks": [count_rounds], "stop": stop},
    )
    loop.start()
    loop.join(30)
    assert not loop.is_alive()
    assert len(rounds) == 3


def test_a_stopping_worker_takes_no_new_delivery(session, drive, receiver):
    add_webhook(session, drive, receiver)
    queue(session, drive, "10%", "50%")
    stop = threading.Event()
    stop.set()
    assert sum(worker.deliver_due(session, notify_settings(), stop=stop).values()) == 0
    assert receiver.requests == []
    assert [s for _, s, _ in statuses(session)] == ["pending", "pending"]

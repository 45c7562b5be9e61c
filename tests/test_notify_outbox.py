"""The outbox: one row per channel that hears a notice, written in the caller's transaction,
once per channel and notice however often and however concurrently it is enqueued."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from membership.ledger.locks import write_transaction
from membership.models import NotifyDelivery
from membership.notify import channels
from membership.notify.outbox import Notice, enqueue
from tests.notify_servers import notify_settings


def milestone(label: str) -> Notice:
    return Notice("milestone", f"milestone:{label}", label, label, f"Passed {label}.", {"n": 1})


DIGEST = Notice("digest", "digest:2026-W48", None, "Week 48", "40 of 100.", {"count": 40})


@pytest.fixture
def drive(session, campaign):
    drive = campaign("drive", goal=100)
    keys = notify_settings().keys
    channels.add_channel(session, drive, "email", "all@news.example", keys)
    channels.add_channel(session, drive, "email", "half@news.example", keys, milestones="50%")
    channels.add_channel(
        session, drive, "webhook", "https://x.example/h", keys, milestones="goal 100, 50%"
    )
    return drive


def rows(session) -> list[tuple[str, str]]:
    found = session.execute(
        select(NotifyDelivery.notice_key, NotifyDelivery.channel_id).order_by(NotifyDelivery.id)
    )
    return [(key, channel) for key, channel in found]


def test_each_channel_that_hears_the_milestone_gets_one_row(session, drive):
    assert enqueue(session, drive.id, milestone("10%")) == 1
    assert enqueue(session, drive.id, milestone("50%")) == 3
    assert enqueue(session, drive.id, milestone("goal 100")) == 2
    session.commit()
    assert rows(session) == [
        ("milestone:10%", 1),
        ("milestone:50%", 1),
        ("milestone:50%", 2),
        ("milestone:50%", 3),
        ("milestone:goal 100", 1),
        ("milestone:goal 100", 3),
    ]


def test_a_digest_goes_to_every_channel_whatever_milestones_it_hears(session, drive):
    assert enqueue(session, drive.id, DIGEST) == 3


def test_enqueuing_again_adds_nothing(session, drive):
    assert enqueue(session, drive.id, milestone("50%")) == 3
    session.commit()
    assert enqueue(session, drive.id, milestone("50%")) == 0
    session.commit()
    assert len(rows(session)) == 3


def test_nothing_is_committed_so_a_cause_rolled_back_leaves_no_row(session, drive):
    enqueue(session, drive.id, milestone("50%"))
    session.rollback()
    assert rows(session) == []


def test_another_campaigns_channels_hear_nothing(session, campaign, drive):
    other = campaign("other", goal=10)
    assert enqueue(session, other.id, milestone("50%")) == 0


def test_concurrent_enqueues_of_one_notice_add_one_row_per_channel(app, drive):
    sessions = app.extensions["database.sessions"]
    start = threading.Barrier(4)
    added: list[int] = []

    def enqueue_once() -> None:
        own = sessions()
        try:
            start.wait()
            with write_transaction(own):
                added.append(enqueue(own, drive.id, milestone("50%")))
        finally:
            own.close()

    threads = [threading.Thread(target=enqueue_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(added) == [0, 0, 0, 3]
    check = sessions()
    assert len(rows(check)) == 3
    check.close()


def test_an_unknown_kind_of_notice_is_refused(session, drive):
    with pytest.raises(ValueError, match="unknown notice kind"):
        enqueue(session, drive.id, Notice("gossip", "g:1", None, "s", "t", {}))

"""The weekly digest: queued each Monday for the week just ended, once per channel and week,
with the count, pace and projection; not before it was turned on, not after the deadline."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from membership.campaigns import adjustments
from membership.models import NotifyChannel, NotifyDelivery, utcnow
from membership.notify import channels, digest
from tests.notify_servers import notify_settings

# Two Mondays ahead of the real today, so every channel and setting made now is older.
MONDAY = digest.week_start(utcnow()) + timedelta(days=14)


def make_drive(session, campaign, **values):
    drive = campaign("drive", goal=100, baseline=40, **values)
    keys = notify_settings().keys
    channels.add_channel(session, drive, "email", "desk@news.example", keys)
    channels.add_channel(session, drive, "email", "half@news.example", keys, milestones="50%")
    channels.set_digest(session, drive, True)
    return drive


def queued(session) -> list[NotifyDelivery]:
    return list(session.scalars(select(NotifyDelivery).order_by(NotifyDelivery.id)))


def test_a_digest_is_queued_once_per_channel_for_the_week_just_ended(session, campaign):
    drive = make_drive(session, campaign)
    adjustments.add_adjustment(session, drive, 10, "Book fair", "desk")
    assert digest.enqueue_due(session, MONDAY + timedelta(minutes=1)) == 2
    session.commit()
    assert digest.enqueue_due(session, MONDAY + timedelta(days=3)) == 0
    week = digest.week_label(MONDAY - timedelta(days=7))
    first, second = queued(session)
    assert (first.notice_key, first.kind, first.milestone) == (f"digest:{week}", "digest", None)
    assert {first.channel_id, second.channel_id} == {1, 2}  # milestones chosen or not
    assert first.subject == f"Membership drive: week {week}, 50 of 100 members"
    assert first.text.splitlines()[0] == "50 of 100 members (50.0%)."
    assert "Goal at this pace:" in first.text
    data = json.loads(first.data)
    assert (data["count"], data["goal"], data["week"], data["slug"]) == (50, 100, week, "drive")
    assert {"per_day_7", "per_day_30", "projected", "days_to_deadline"} <= set(data)

    assert digest.enqueue_due(session, MONDAY + timedelta(days=7)) == 2
    assert len({row.notice_key for row in queued(session)}) == 2


def test_a_digest_turned_on_this_week_starts_next_monday(session, campaign):
    make_drive(session, campaign)
    assert digest.enqueue_due(session, digest.week_start(utcnow()) + timedelta(days=6)) == 0
    assert digest.enqueue_due(session, digest.week_start(utcnow()) + timedelta(days=7)) == 2


def test_a_channel_added_after_the_week_ended_waits_for_the_next(session, campaign):
    drive = make_drive(session, campaign)
    late = channels.add_channel(session, drive, "email", "late@news.example", ()).channel
    late.created_at = MONDAY + timedelta(hours=1)
    session.commit()
    assert digest.enqueue_due(session, MONDAY + timedelta(hours=2)) == 2
    assert late.id not in {row.channel_id for row in queued(session)}
    assert digest.enqueue_due(session, MONDAY + timedelta(days=7)) == 3


def test_digests_stop_the_week_after_the_deadline(session, campaign):
    make_drive(session, campaign, deadline=(MONDAY - timedelta(days=2)).date())
    assert digest.enqueue_due(session, MONDAY) == 2  # the week the deadline is in
    assert digest.enqueue_due(session, MONDAY + timedelta(days=7)) == 0


def test_no_digest_when_it_is_off(session, campaign):
    drive = make_drive(session, campaign)
    channels.set_digest(session, drive, False)
    assert digest.enqueue_due(session, MONDAY) == 0
    assert session.scalars(select(NotifyChannel)).all()  # the channels stay

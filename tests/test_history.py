"""The dashboard's history: count per day, joins and leaves, pace and projection."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from membership.campaigns import history, progress
from membership.campaigns.settings import add_adjustment, create_campaign, get_campaign
from membership.ledger.store import Outcome
from membership.models import Campaign
from membership.sources.stripe.translate import Settings
from tests import scenarios
from tests import stripe_factory as sf

TODAY = datetime.now(UTC).date()
POLICY = Settings(term=timedelta(days=365))


def at(day: date, hour: int = 12) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp())


def record(session, *events):
    for event in events:
        result = sf.record(session, event, POLICY)
        assert result.outcome != Outcome.FAILED, result.detail


def test_the_series_counts_joins_and_leaves_day_by_day(session):
    create_campaign(session, "drive", 10, baseline=100)
    d = [TODAY - timedelta(days=n) for n in (6, 5, 4, 3, 2, 1, 0)]
    record(
        session,
        sf.subscription_event("created", "sub_1", "cus_1", "active", at(d[0])),
        sf.subscription_event("created", "sub_2", "cus_2", "active", at(d[2])),
        sf.checkout_event(
            "cs_3", at(d[2]), mode="payment", customer="cus_3", payment_intent="pi_3"
        ),
        sf.subscription_event("deleted", "sub_1", "cus_1", "canceled", at(d[4])),
        # A refunded payment never joined at all.
        sf.checkout_event(
            "cs_4", at(d[3]), mode="payment", customer="cus_4", payment_intent="pi_4"
        ),
        sf.charge_refunded("ch_4", "pi_4", at(d[3], 13)),
    )
    campaign = get_campaign(session, "drive")
    add_adjustment(session, campaign, 5, "Festival", "desk")
    series = history.daily(session, campaign, d[0], d[-1], datetime.now(UTC))
    assert [s.day for s in series] == d
    assert [(s.joined, s.left) for s in series] == [
        (1, 0),
        (0, 0),
        (2, 0),
        (0, 0),
        (0, 1),
        (0, 0),
        (0, 0),
    ]
    assert [s.count for s in series] == [101, 101, 103, 103, 102, 102, 107]
    assert series[-1].count == progress.compute(session, campaign, datetime.now(UTC)).count


def test_today_equals_the_public_count_for_a_realistic_history(session):
    create_campaign(session, "now", 25_000)
    create_campaign(session, "fresh", 1_000, rule="new", starts_on=TODAY - timedelta(days=200))
    now = datetime.now(UTC)
    record(session, *scenarios.realistic(seed=11, now=int(now.timestamp()), readers=150))
    for slug in ("now", "fresh"):
        campaign = get_campaign(session, slug)
        series = history.daily(session, campaign, TODAY - timedelta(days=400), TODAY, now)
        assert series[-1].count == progress.compute(session, campaign, now).count > 10
        assert all(day.count >= 0 for day in series)


def test_the_new_rule_only_counts_joins_inside_the_window(session):
    create_campaign(session, "fresh", 10, rule="new", starts_on=TODAY - timedelta(days=2))
    record(
        session,
        sf.subscription_event(
            "created", "sub_old", "cus_old", "active", at(TODAY - timedelta(days=5))
        ),
        sf.subscription_event(
            "created", "sub_new", "cus_new", "active", at(TODAY - timedelta(days=1))
        ),
        sf.subscription_event("deleted", "sub_new", "cus_new", "canceled", at(TODAY, 0)),
    )
    campaign = get_campaign(session, "fresh")
    series = history.daily(session, campaign, TODAY - timedelta(days=5), TODAY, datetime.now(UTC))
    assert [s.count for s in series] == [0, 0, 0, 0, 1, 1]


def days(counts: list[int]) -> list[history.Day]:
    """A series of end-of-day counts, the last one today."""
    first = TODAY - timedelta(days=len(counts) - 1)
    return [history.Day(first + timedelta(days=i), n, 0, 0) for i, n in enumerate(counts)]


def test_pace_and_projection():
    campaign = Campaign(slug="x", goal=1_000, deadline=TODAY + timedelta(days=30))
    series = days([500 + i * 10 for i in range(31)])
    pace = history.pace(series, campaign, count=800, today=TODAY)
    assert (pace.per_day_7, pace.per_day_30) == (10.0, 10.0)
    assert pace.projected == TODAY + timedelta(days=20)
    assert pace.beats_deadline is True
    assert pace.days_to_deadline == 30


def test_a_slow_pace_projects_a_date_after_the_deadline():
    campaign = Campaign(slug="x", goal=1_000, deadline=TODAY + timedelta(days=30))
    # 7 a day, then 2 a day over the last week: the projection uses the 7-day pace.
    series = days([400 + 7 * i for i in range(24)] + [561 + 2 * i for i in range(1, 8)])
    pace = history.pace(series, campaign, count=575, today=TODAY)
    assert (pace.per_day_7, pace.per_day_30) == (2.0, 5.8)
    assert pace.projected == TODAY + timedelta(days=213)  # 425 to go at 2 a day, rounded up
    assert pace.beats_deadline is False


def test_a_stalled_or_shrinking_drive_has_no_projection_and_a_reached_goal_is_today():
    campaign = Campaign(slug="x", goal=1_000, deadline=TODAY + timedelta(days=30))
    stalled = days([500] * 8)
    assert history.pace(stalled, campaign, 500, TODAY).projected is None
    shrinking = days([510 - i for i in range(8)])
    assert history.pace(shrinking, campaign, 503, TODAY).per_day_7 == -1.0
    assert history.pace(shrinking, campaign, 503, TODAY).projected is None
    done = history.pace(stalled, campaign, 1_000, TODAY)
    assert (done.projected, done.beats_deadline) == (TODAY, True)


def test_without_a_week_of_history_the_pace_is_zero():
    campaign = Campaign(slug="x", goal=1_000)
    pace = history.pace(days([500, 510, 520]), campaign, 520, TODAY)
    assert (pace.per_day_7, pace.per_day_30, pace.projected) == (0.0, 0.0, None)
    assert (pace.beats_deadline, pace.days_to_deadline) == (None, None)

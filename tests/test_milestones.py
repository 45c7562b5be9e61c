"""Milestones: their setting, detection (once, never again after a dip), notices, the CLI."""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from membership.campaigns import goals, milestone_list, milestones
from membership.campaigns.settings import (
    CampaignError,
    add_adjustment,
    create_campaign,
    get_campaign,
    update_campaign,
)
from membership.database import make_engine
from membership.models import Milestone, NotifyDelivery, utcnow
from membership.notify import channels
from tests import stripe_factory as sf

T = int(time.time()) - 60


def adjust(session, delta: int, slug: str = "drive") -> None:
    add_adjustment(session, get_campaign(session, slug), delta, "Sign-ups at the fair", "desk")


def recorded(session, slug: str = "drive") -> dict[str, tuple[int, bool]]:
    """label -> (count at crossing, announced)"""
    drive = get_campaign(session, slug)
    rows = session.scalars(select(Milestone).where(Milestone.campaign_id == drive.id))
    return {row.label: (row.count, row.announced) for row in rows}


def outbox(session) -> list[tuple[str, str | None]]:
    rows = session.scalars(select(NotifyDelivery).order_by(NotifyDelivery.id))
    return [(row.notice_key, row.milestone) for row in rows]


def labels(crossings: list[milestones.Crossing]) -> list[str]:
    return [crossing.label for crossing in crossings]


def with_email_channel(session, slug: str = "drive") -> None:
    channels.add_channel(session, get_campaign(session, slug), "email", "desk@news.example", ())


# --- the setting ------------------------------------------------------------------------------


def test_milestones_are_stored_in_one_spelling(session):
    drive = create_campaign(session, "drive", 25_000, milestones=" 10% , 50%,10000 ")
    assert drive.milestones == "10%,50%,10000"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("0%", "a percentage must be 1% to 1000%"),
        ("1001%", "a percentage must be 1% to 1000%"),
        ("12.5%", "'12.5' is not a whole percentage like 50%"),
        ("%", "'' is not a whole percentage like 50%"),
        ("half", "'half' is not a count like 10000 or a percentage like 50%"),
        ("-5", "'-5' is not a count like 10000"),
        ("0", "a count must be 1 to 1,000,000,000"),
        ("10,000", "write 30000, not 30,000"),
        ("50%,50%", "50% is named twice"),
        ("10000,010000", "write 30000, not 30,000"),
        ("10%,", "'' is not a count like 10000"),
        (",".join(f"{n}%" for n in range(1, 22)), "may be at most 20"),
    ],
)
def test_it_refuses_a_malformed_milestone_naming_it(session, spec, message):
    with pytest.raises(CampaignError) as refused:
        create_campaign(session, "drive", 25_000, milestones=spec)
    assert refused.value.field == "milestones"
    assert message in refused.value.message
    session.rollback()
    assert get_campaign(session, "drive") is None


def test_a_refused_milestone_update_changes_nothing(session):
    create_campaign(session, "drive", 25_000, milestones="50%")
    with pytest.raises(CampaignError):
        update_campaign(session, "drive", milestones="50%,lots", title="Renamed")
    session.rollback()
    drive = get_campaign(session, "drive")
    assert (drive.milestones, drive.title) == ("50%", "drive")


def test_percentages_are_of_the_first_goal_rounded_up_and_goals_are_always_milestones(session):
    drive = create_campaign(
        session, "drive", 25_001, stretch_goals="30000", milestones="10%,50%,1000%,7"
    )
    marks = [(mark.label, mark.threshold) for mark in goals.marks(drive)]
    assert marks == [
        ("7", 7),
        ("10%", 2_501),  # 2,500.1: crossed by the 2,501st member
        ("50%", 12_501),
        ("goal 25001", 25_001),
        ("goal 30000", 30_000),
        ("1000%", 250_010),
    ]


def test_a_milestone_at_a_goals_count_is_that_goal(session):
    drive = create_campaign(session, "drive", 1_000, milestones="100%,1000,50%,500")
    assert [mark.label for mark in goals.marks(drive)] == ["50%", "goal 1000"]


# --- detection --------------------------------------------------------------------------------


def test_a_crossing_fires_once(session, campaign):
    campaign(goal=100, milestones="50%")
    with_email_channel(session)
    adjust(session, 49)
    assert milestones.detect(session, utcnow()) == []
    adjust(session, 1)
    [crossing] = milestones.detect(session, utcnow())
    assert (crossing.slug, crossing.label, crossing.threshold, crossing.count) == (
        "drive",
        "50%",
        50,
        50,
    )
    assert milestones.detect(session, utcnow()) == []
    adjust(session, 5)
    assert milestones.detect(session, utcnow()) == []
    assert recorded(session) == {"50%": (50, True)}
    assert outbox(session) == [("milestone:50%", "50%")]


def test_a_dip_below_and_a_second_crossing_do_not_fire_again(session, campaign):
    campaign(goal=100, milestones="10")
    with_email_channel(session)
    adjust(session, 10)
    assert labels(milestones.detect(session, utcnow())) == ["10"]
    adjust(session, -3)
    assert milestones.detect(session, utcnow()) == []
    adjust(session, 5)  # 12: above 10 again
    assert milestones.detect(session, utcnow()) == []
    assert outbox(session) == [("milestone:10", "10")]
    assert recorded(session) == {"10": (10, True)}


def test_a_jump_over_several_milestones_records_each_with_its_notice(session, campaign):
    campaign(goal=100, stretch_goals="150", milestones="25%,50%")
    with_email_channel(session)
    adjust(session, 160)
    crossings = milestones.detect(session, utcnow())
    assert labels(crossings) == ["25%", "50%", "goal 100", "goal 150"]
    assert {c.count for c in crossings} == {160}
    assert [key for key, _ in outbox(session)] == [
        "milestone:25%",
        "milestone:50%",
        "milestone:goal 100",
        "milestone:goal 150",
    ]


def test_the_notice_says_what_was_reached_and_what_comes_next(session, campaign):
    campaign(goal=100, stretch_goals="150", title="Drive 2026")
    with_email_channel(session)
    adjust(session, 120)
    [crossing] = milestones.detect(session, utcnow())
    [row] = session.scalars(select(NotifyDelivery))
    assert row.kind == "milestone" and row.milestone == "goal 100"
    assert row.subject == "Drive 2026: the goal of 100 reached"
    assert row.text == "Drive 2026 reached the goal of 100: 120 members now. Next: 150."
    data = json.loads(row.data)
    assert data == {
        "slug": "drive",
        "title": "Drive 2026",
        "label": "goal 100",
        "threshold": 100,
        "count": 120,
        "goal": 150,
        "goals": [100, 150],
        "crossed_at": crossing.crossed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cta_url": "https://news.example/join",
    }


def test_the_crossing_is_recorded_without_any_channel_to_tell(session, campaign):
    campaign(goal=10)
    adjust(session, 10)
    assert labels(milestones.detect(session, utcnow())) == ["goal 10"]
    assert recorded(session) == {"goal 10": (10, True)}
    assert outbox(session) == []


def test_a_channel_hears_only_the_milestones_it_chose(session, campaign):
    campaign(goal=100, milestones="50%")
    channels.add_channel(
        session, get_campaign(session, "drive"), "email", "a@news.example", (), milestones="50%"
    )
    with_email_channel(session)
    adjust(session, 100)
    milestones.detect(session, utcnow())
    heard = session.execute(
        text("SELECT channel_id, milestone FROM notify_delivery ORDER BY id")
    ).all()
    assert sorted(heard) == [(1, "50%"), (2, "50%"), (2, "goal 100")]


def test_milestones_already_passed_when_set_are_recorded_but_not_announced(session, campaign):
    campaign(goal=100, baseline=30, milestones="10%")
    with_email_channel(session)
    assert recorded(session) == {"10%": (30, False)}
    update_campaign(session, "drive", milestones="10%,25,40")
    assert recorded(session) == {"10%": (30, False), "25": (30, False)}
    assert milestones.detect(session, utcnow()) == []
    adjust(session, 10)
    assert labels(milestones.detect(session, utcnow())) == ["40"]
    assert outbox(session) == [("milestone:40", "40")]


def test_lowering_the_goal_below_the_count_announces_nothing(session, campaign):
    campaign(goal=100, baseline=60)
    with_email_channel(session)
    update_campaign(session, "drive", goal=50)
    assert recorded(session) == {"goal 50": (60, False)}
    assert milestones.detect(session, utcnow()) == []
    assert outbox(session) == []


def test_a_campaign_past_its_deadline_is_no_longer_watched(session, campaign):
    campaign(goal=10, starts_on=date(2025, 1, 1), deadline=date(2025, 12, 31))
    adjust(session, 10)
    assert milestones.detect(session, datetime(2026, 1, 1, tzinfo=UTC)) == []
    crossed = milestones.detect(session, datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    assert labels(crossed) == ["goal 10"]


def test_each_campaign_is_detected_on_its_own(session, campaign):
    campaign("one", goal=10)
    campaign("two", goal=20)
    adjust(session, 10, "one")
    adjust(session, 15, "two")
    assert [(c.slug, c.label) for c in milestones.detect(session, utcnow())] == [("one", "goal 10")]


def test_a_webhook_delivery_records_the_milestone_it_carries_the_count_across(
    session, campaign, deliver
):
    campaign(goal=3, milestones="2")
    with_email_channel(session)
    after_each = [set(), {"2"}, {"2", "goal 3"}]
    for n in range(3):
        event = sf.checkout_event(f"cs_{n}", T, customer=f"cus_{n}", subscription=f"sub_{n}")
        assert deliver(event).status_code == 200
        session.rollback()
        assert set(recorded(session)) == after_each[n]
    assert recorded(session) == {"2": (2, True), "goal 3": (3, True)}
    assert outbox(session) == [("milestone:2", "2"), ("milestone:goal 3", "goal 3")]


def test_a_failed_detection_still_answers_the_delivery_200(session, campaign, deliver, caplog):
    campaign(goal=1)
    # The crossings' table out of reach: detection fails, the delivery must not.
    session.execute(text("ALTER TABLE milestone RENAME TO milestone_away"))
    session.commit()
    try:
        event = sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1")
        with caplog.at_level(logging.ERROR, logger="membership.web.webhooks"):
            response = deliver(event)
    finally:
        session.rollback()
        session.execute(text("ALTER TABLE milestone_away RENAME TO milestone"))
        session.commit()
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "applied"
    assert "milestone detection failed after event_id=evt_" in caplog.text
    # The worker's next detection records it.
    assert labels(milestones.detect(session, utcnow())) == ["goal 1"]


def test_a_setting_written_past_the_rules_leaves_the_figures_served(client, session, campaign):
    campaign(goal=10, baseline=4)
    session.execute(text("UPDATE campaign SET stretch_goals = '5,x', milestones = 'lots'"))
    session.commit()
    body = client.get("/api/campaigns/drive").get_json()
    assert (body["count"], body["goal"], body["goals"]) == (
        4,
        10,
        [{"goal": 10, "reached_at": None}],
    )
    assert milestones.detect(session, utcnow()) == []


def test_the_next_applied_delivery_records_what_an_adjustment_crossed(session, campaign, deliver):
    campaign(goal=1)
    # The count reaches the goal by an adjustment in the admin, which detects nothing itself.
    adjust(session, 1)
    event = sf.checkout_event("cs_x", T, customer="cus_x", subscription="sub_x")
    assert deliver(event).status_code == 200  # applied: detects
    session.rollback()
    assert set(recorded(session)) == {"goal 1"}


# --- the listing and the CLI ------------------------------------------------------------------


def test_the_listing_shows_each_milestone_its_crossing_and_deliveries(session, campaign):
    campaign(goal=100, milestones="50%")
    with_email_channel(session)
    adjust(session, 60)
    milestones.detect(session, utcnow())
    entries = milestone_list.entries(session, get_campaign(session, "drive"))
    assert [(e.label, e.threshold, e.count, e.current) for e in entries] == [
        ("50%", 50, 60, True),
        ("goal 100", 100, None, True),
    ]
    [delivery] = entries[0].deliveries
    assert delivery.channel.startswith("#1 email: desk@news.example")
    assert delivery.status == "pending"
    update_campaign(session, "drive", milestones="")
    entries = milestone_list.entries(session, get_campaign(session, "drive"))
    assert [(e.label, e.current) for e in entries] == [("50%", False), ("goal 100", True)]


def test_the_cli_sets_stretch_goals_and_milestones(runner, session):
    result = runner.invoke(
        args=[
            "campaign",
            "create",
            "drive",
            "--goal",
            "100",
            "--stretch-goals",
            "150,200",
            "--milestones",
            "10%,50",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "goals 100 > 150 > 200" in result.output
    drive = get_campaign(session, "drive")
    assert (drive.stretch_goals, drive.milestones) == ("150,200", "10%,50")
    result = runner.invoke(args=["campaign", "update", "drive", "--stretch-goals", ""])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert get_campaign(session, "drive").stretch_goals == ""


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--stretch-goals", "90", "stretch_goals: must each be above the goal (100); 90 is not"),
        ("--stretch-goals", "200,150", "stretch_goals: must go up"),
        ("--milestones", "5%,abc", "milestones: 'abc' is not a count"),
        ("--milestones", "2000%", "milestones: 2000%: a percentage must be 1% to 1000%"),
    ],
)
def test_the_cli_refuses_malformed_goals_and_milestones(runner, session, option, value, message):
    assert runner.invoke(args=["campaign", "create", "drive", "--goal", "100"]).exit_code == 0
    result = runner.invoke(args=["campaign", "update", "drive", option, value])
    assert result.exit_code == 2
    assert message in result.output
    session.expire_all()
    drive = get_campaign(session, "drive")
    assert (drive.stretch_goals, drive.milestones) == ("", "")


def test_the_cli_adjustment_records_its_crossings_and_lists_them(runner, session):
    runner.invoke(args=["campaign", "create", "drive", "--goal", "100", "--milestones", "50%"])
    result = runner.invoke(args=["campaign", "adjust", "drive", "--delta", "60", "--reason", "x"])
    assert result.exit_code == 0, result.output
    assert "drive: crossed 50% at 60" in result.output
    result = runner.invoke(args=["campaign", "milestones", "drive"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["50%", "50", "crossed"]
    assert lines[0].endswith("UTC at 60")
    assert lines[1].split() == ["goal", "100", "100", "not", "yet"]


def test_the_cli_milestones_command_can_detect_first(runner, session, campaign):
    campaign(goal=10)
    adjust(session, 12)
    result = runner.invoke(args=["campaign", "milestones", "drive", "--detect"])
    assert result.exit_code == 0, result.output
    assert "drive: crossed goal 10 at 12" in result.output
    assert "not yet" not in result.output


def test_the_milestones_of_an_unknown_campaign_are_refused(runner):
    result = runner.invoke(args=["campaign", "milestones", "nope"])
    assert result.exit_code == 2
    assert "no campaign called 'nope'" in result.output


def test_crossed_at_is_the_detectors_time(session, campaign):
    campaign(goal=10)
    adjust(session, 10)
    at = utcnow() - timedelta(minutes=5)
    [crossing] = milestones.detect(session, at)
    session.rollback()
    [row] = session.scalars(select(Milestone))
    assert row.crossed_at == crossing.crossed_at == at


def test_detectors_racing_on_one_crossing_record_it_once(db_url, session, campaign):
    campaign(goal=10, milestones="50%")
    with_email_channel(session)
    adjust(session, 10)
    engine = make_engine(db_url)
    start = threading.Barrier(6)

    def race() -> list[str]:
        with Session(engine) as own:
            start.wait()
            return labels(milestones.detect(own, utcnow()))

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: race(), range(6)))
    engine.dispose()
    assert sorted(label for found in results for label in found) == ["50%", "goal 10"]
    assert sorted(outbox(session)) == [("milestone:50%", "50%"), ("milestone:goal 10", "goal 10")]

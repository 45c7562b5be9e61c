"""Stretch goals: their settings, and the public figures as the count crosses each goal."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from membership.campaigns import goals, milestones, progress, public_fields
from membership.campaigns.settings import (
    CampaignError,
    add_adjustment,
    create_campaign,
    get_campaign,
    update_campaign,
)
from membership.models import utcnow
from tests import stripe_factory as sf

T = int(time.time()) - 60


def adjust(session, delta: int) -> None:
    add_adjustment(session, get_campaign(session, "drive"), delta, "Sign-ups at the fair", "desk")


def figures(client) -> dict:
    response = client.get("/api/campaigns/drive")
    assert response.status_code == 200
    return response.get_json()


def shown(body: dict) -> tuple:
    return body["count"], body["goal"], body["percent"], body["remaining"], body["status"]


# --- settings ---------------------------------------------------------------------------------


def test_stretch_goals_are_stored_in_one_spelling(session):
    drive = create_campaign(session, "drive", 25_000, stretch_goals=" 30000 ,35000 ")
    assert drive.stretch_goals == "30000,35000"
    assert goals.goals(drive) == [25_000, 30_000, 35_000]


def test_a_campaign_has_no_stretch_goal_by_default(session):
    drive = create_campaign(session, "drive", 25_000)
    assert drive.stretch_goals == "" and drive.milestones == ""
    assert goals.goals(drive) == [25_000]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("25000", "must each be above the goal (25,000); 25,000 is not"),
        ("20000,30000", "must each be above the goal (25,000); 20,000 is not"),
        ("30000,30000", "must go up: 30,000 comes after 30,000"),
        ("35000,30000", "must go up: 30,000 comes after 35,000"),
        ("30,000", "write 30000, not 30,000"),
        ("30000,", "'' is not a whole number above zero"),
        ("thirty thousand", "'thirty thousand' is not a whole number above zero"),
        ("-30000", "'-30000' is not a whole number above zero"),
        ("3e4", "'3e4' is not a whole number above zero"),
        ("0", "must each be from 1 to 1,000,000,000"),
        ("1000000001", "must each be from 1 to 1,000,000,000"),
        (",".join(str(30_000 + n) for n in range(11)), "may be at most 10"),
    ],
)
def test_it_refuses_stretch_goals_that_do_not_go_up_from_the_goal(session, text, message):
    with pytest.raises(CampaignError) as refused:
        create_campaign(session, "drive", 25_000, stretch_goals=text)
    assert refused.value.field == "stretch_goals"
    assert message in refused.value.message
    assert get_campaign(session, "drive") is None


def test_raising_the_goal_past_a_stretch_goal_is_refused_and_changes_nothing(session):
    create_campaign(session, "drive", 25_000, stretch_goals="30000")
    with pytest.raises(CampaignError) as refused:
        update_campaign(session, "drive", goal=30_000)
    assert refused.value.field == "stretch_goals"
    session.rollback()
    assert get_campaign(session, "drive").goal == 25_000


def test_the_goal_and_its_stretch_goals_can_move_together(session):
    create_campaign(session, "drive", 25_000, stretch_goals="30000")
    drive = update_campaign(session, "drive", goal=40_000, stretch_goals="45000,50000")
    assert goals.goals(drive) == [40_000, 45_000, 50_000]


def test_an_empty_text_clears_the_stretch_goals(session):
    create_campaign(session, "drive", 25_000, stretch_goals="30000")
    assert update_campaign(session, "drive", stretch_goals="").stretch_goals == ""


def test_an_update_that_names_no_stretch_goals_keeps_them(session):
    create_campaign(session, "drive", 25_000, stretch_goals="30000")
    assert update_campaign(session, "drive", title="Renamed").stretch_goals == "30000"


def test_the_target_is_the_first_goal_neither_met_nor_recorded():
    assert goals.target([10, 15, 20], 0, ()) == 10
    assert goals.target([10, 15, 20], 10, ()) == 15
    assert goals.target([10, 15, 20], 17, ()) == 20
    assert goals.target([10, 15, 20], 25, ()) == 20
    # A recorded goal stays behind the count that dips below it again.
    assert goals.target([10, 15, 20], 9, {10}) == 15
    assert goals.target([10, 15, 20], 9, {10, 15, 20}) == 20


# --- the public figures -----------------------------------------------------------------------


def test_goal_and_goals_follow_the_count_across_every_goal(client, campaign, session):
    campaign(goal=10, stretch_goals="15,20", baseline=8)
    body = figures(client)
    assert shown(body) == (8, 10, 80.0, 2, "active")
    assert body["goals"] == [
        {"goal": 10, "reached_at": None},
        {"goal": 15, "reached_at": None},
        {"goal": 20, "reached_at": None},
    ]

    adjust(session, 3)  # 11: the goal is met; the stretch goal of 15 is the target
    assert shown(figures(client)) == (11, 15, 73.3, 4, "active")
    crossed = milestones.detect(session, utcnow())
    assert [c.label for c in crossed] == ["goal 10"]
    body = figures(client)
    reached = body["goals"][0]["reached_at"]
    assert reached == crossed[0].crossed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [g["reached_at"] for g in body["goals"][1:]] == [None, None]

    adjust(session, 10)  # 21: past the last goal
    milestones.detect(session, utcnow())
    body = figures(client)
    assert shown(body) == (21, 20, 105.0, 0, "reached")
    assert all(g["reached_at"] for g in body["goals"])
    assert body["goals"][0]["reached_at"] == reached  # recorded once, never moved


def test_a_dip_below_a_reached_goal_keeps_the_stretch_goal_as_the_target(client, campaign, session):
    campaign(goal=10, stretch_goals="15", baseline=9)
    adjust(session, 2)
    assert [c.label for c in milestones.detect(session, utcnow())] == ["goal 10"]
    adjust(session, -3)  # 8: below the goal it reached
    body = figures(client)
    assert shown(body) == (8, 15, 53.3, 7, "active")
    assert body["goals"][0]["reached_at"] is not None


def test_the_count_past_the_goal_is_reached_with_or_without_a_record(client, campaign, session):
    campaign(goal=10, baseline=4)
    adjust(session, 8)
    assert shown(figures(client)) == (12, 10, 120.0, 0, "reached")


def test_a_campaign_without_stretch_goals_shows_exactly_what_it_did(client, campaign, deliver):
    campaign(goal=3)
    for n in range(2):
        event = sf.checkout_event(f"cs_{n}", T, customer=f"cus_{n}", subscription=f"sub_{n}")
        assert deliver(event).status_code == 200
    body = figures(client)
    assert shown(body) == (2, 3, 66.7, 1, "active")
    assert body["goals"] == [{"goal": 3, "reached_at": None}]


def test_a_webhook_that_carries_the_count_past_a_goal_records_when(client, campaign, deliver):
    campaign(goal=2, stretch_goals="4")
    for n in range(3):
        event = sf.checkout_event(f"cs_{n}", T, customer=f"cus_{n}", subscription=f"sub_{n}")
        assert deliver(event).status_code == 200
    body = figures(client)
    assert shown(body) == (3, 4, 75.0, 1, "active")
    assert body["goals"][0]["reached_at"] is not None
    assert body["goals"][1]["reached_at"] is None


def test_a_goal_reached_moves_the_etag(client, campaign, session):
    campaign(goal=10, stretch_goals="15", baseline=9)
    adjust(session, 1)
    before = client.get("/api/campaigns/drive")
    assert before.get_json()["goals"][0]["reached_at"] is None
    [crossing] = milestones.detect(session, utcnow())
    after = client.get("/api/campaigns/drive")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.get_json()["goals"][0]["reached_at"] is not None
    assert after.get_json()["updated_at"] == crossing.crossed_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_goal_already_passed_when_set_counts_as_reached_from_then(client, campaign):
    campaign(goal=10, stretch_goals="15", baseline=12)
    body = figures(client)
    assert shown(body) == (12, 15, 80.0, 3, "active")
    assert body["goals"][0]["reached_at"] is not None


def test_with_a_stretch_goal_ahead_the_drive_is_active_then_ended_after_the_deadline(
    session, campaign
):
    campaign(goal=10, stretch_goals="20", starts_on=date(2025, 1, 1), deadline=date(2025, 12, 31))
    drive = get_campaign(session, "drive")
    at = lambda *args: datetime(*args, tzinfo=UTC)  # noqa: E731
    assert goals.status(drive, 20, 12, at(2025, 6, 1)) == "active"
    assert goals.status(drive, 20, 12, at(2026, 1, 1)) == "ended"
    assert goals.status(drive, 20, 20, at(2026, 1, 1)) == "reached"
    assert goals.status(drive, 20, 25, at(2024, 6, 1)) == "upcoming"
    assert goals.status(drive, 10, 9, at(2025, 6, 1)) == "active"


def test_every_public_field_is_described_and_goals_come_right_after_goal():
    for name, schema in public_fields.FIELDS:
        assert schema.get("description"), name
    names = list(public_fields.NAMES)
    assert names[names.index("goal") + 1] == "goals"
    assert {"next", "past"} <= set(public_fields.WORDS["required"])


def test_the_openapi_document_describes_goals(client):
    document = client.get("/api/openapi.json").get_json()
    schema = document["paths"]["/api/campaigns/{slug}"]["get"]["responses"]["200"]
    properties = schema["content"]["application/json"]["schema"]["properties"]
    assert properties["goals"]["items"]["required"] == ["goal", "reached_at"]
    assert "stretch goal" in properties["goal"]["description"]


def test_progress_counts_the_same_figure_detect_compares(session, campaign):
    campaign(goal=10, baseline=3)
    adjust(session, 2)
    drive = get_campaign(session, "drive")
    now = utcnow()
    assert progress.count_now(session, drive, now) == progress.compute(session, drive, now).count

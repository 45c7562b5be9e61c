"""Stretch goals and milestones in the admin: the settings form and the milestones page."""

from __future__ import annotations

import html as html_lib

import pytest

from membership.campaigns import milestones
from membership.campaigns.settings import add_adjustment, get_campaign
from membership.database import db
from membership.models import utcnow
from membership.notify import channels
from tests.admin.conftest import audit_rows, post_form
from tests.admin.test_campaigns import VALID, campaigns_stored


def test_the_form_offers_stretch_goals_and_milestones(admin):
    page = admin.get("/admin/campaigns/new").get_data(as_text=True)
    assert 'name="stretch_goals"' in page and 'name="milestones"' in page
    assert '<label for="f-stretch_goals">Stretch goals</label>' in page


def test_stretch_goals_and_milestones_are_saved_and_shown_back(admin, admin_app, client):
    form = {**VALID, "stretch_goals": "30000, 35000", "milestones": "10%, 50%, 10000"}
    assert post_form(admin, "/admin/campaigns/new", form).status_code == 302
    public = client.get("/api/campaigns/members-2026").get_json()
    assert public["goal"] == 25_000
    assert [g["goal"] for g in public["goals"]] == [25_000, 30_000, 35_000]
    page = admin.get("/admin/campaigns/members-2026/edit").get_data(as_text=True)
    assert 'value="30000,35000"' in page and 'value="10%,50%,10000"' in page

    edit = {**VALID, "stretch_goals": "", "milestones": "50%"}
    assert post_form(admin, "/admin/campaigns/members-2026/edit", edit).status_code == 302
    public = client.get("/api/campaigns/members-2026").get_json()
    assert public["goals"] == [{"goal": 25_000, "reached_at": None}]
    [entry] = [r for r in audit_rows(admin_app) if r.action == "campaign.updated"]
    assert "milestones" in entry.detail and "stretch_goals" in entry.detail


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("stretch_goals", "20000", "must each be above the goal (25,000); 20,000 is not"),
        ("stretch_goals", "35000, 30000", "must go up: 30,000 comes after 35,000"),
        ("stretch_goals", "30,000", "write 30000, not 30,000"),
        ("milestones", "50%, lots", "'lots' is not a count like 10000 or a percentage like 50%"),
        ("milestones", "5000%", "5000%: a percentage must be 1% to 1000%"),
        ("milestones", "50%,50%", "50% is named twice"),
    ],
)
def test_a_malformed_goal_or_milestone_is_shown_next_to_its_field(
    admin, admin_app, field, value, message
):
    response = post_form(admin, "/admin/campaigns/new", {**VALID, field: value})
    assert response.status_code == 422
    page = html_lib.unescape(response.get_data(as_text=True))
    assert f'id="e-{field}"' in page
    assert message in page
    assert f'value="{value}"' in page  # what was typed stays
    assert campaigns_stored(admin_app) == 0


def test_raising_the_goal_past_the_stretch_goals_is_refused_on_edit(admin, client):
    form = {**VALID, "stretch_goals": "30000"}
    post_form(admin, "/admin/campaigns/new", form)
    response = post_form(admin, "/admin/campaigns/members-2026/edit", {**form, "goal": "40000"})
    assert response.status_code == 422
    assert 'id="e-stretch_goals"' in response.get_data(as_text=True)
    assert client.get("/api/campaigns/members-2026").get_json()["goal"] == 25_000


def test_the_milestones_page_lists_crossings_and_their_deliveries(admin, admin_app, campaign):
    campaign(goal=100, stretch_goals="150", milestones="50%")
    with admin_app.app_context():
        drive = get_campaign(db.session, "drive")
        channels.add_channel(db.session, drive, "email", "desk@news.example", ())
        add_adjustment(db.session, drive, 60, "Sign-ups at the fair", "desk")
        milestones.detect(db.session, utcnow())
    page = admin.get("/admin/campaigns/drive/milestones")
    assert page.status_code == 200
    body = html_lib.unescape(page.get_data(as_text=True))
    rows = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    assert [row.split('<th scope="row">', 1)[1].split("<", 1)[0] for row in rows] == [
        "50%",
        "goal 100",
        "goal 150",
    ]
    assert "desk@news.example" in rows[0] and "<strong>pending</strong>" in rows[0]
    assert ">60<" in rows[0]
    assert "not yet" in rows[1] and "not yet" in rows[2]
    overview = admin.get("/admin/campaigns/drive").get_data(as_text=True)
    assert 'href="/admin/campaigns/drive/milestones"' in overview
    assert "Goals 100, then 150." in overview


def test_the_campaigns_page_names_its_goals_and_when_each_was_reached(admin, campaign):
    campaign(goal=10, stretch_goals="15", baseline=12)
    overview = admin.get("/admin/campaigns/drive").get_data(as_text=True)
    goals_line = overview.split("Goals ", 1)[1].split(".\n", 1)[0]
    assert goals_line.startswith("10 (reached ") and goals_line.endswith("), then 15")


def test_a_milestone_passed_when_set_says_nobody_was_told(admin, campaign):
    campaign(goal=100, baseline=60, milestones="50%")
    body = admin.get("/admin/campaigns/drive/milestones").get_data(as_text=True)
    assert "already passed when set; not announced" in body


def test_the_milestones_page_needs_a_login(client, admin_app, campaign):
    campaign()
    response = client.get("/admin/campaigns/drive/milestones")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_an_unknown_campaigns_milestones_are_404(admin):
    assert admin.get("/admin/campaigns/nope/milestones").status_code == 404

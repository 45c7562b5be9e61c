"""GET /admin/, /admin/campaigns/<slug> and its summary.json; the webhook-health banner."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

from membership.database import db
from membership.models import Event, utcnow
from tests import stripe_factory as sf


def signup(deliver, n: int, created: int | None = None):
    created = created or int(time.time())
    event = sf.checkout_event(f"cs_{n}", created, customer=f"cus_{n}", subscription=f"sub_{n}")
    assert deliver(event).status_code == 200


def test_the_overview_lists_each_campaign_with_its_figures(admin, campaign, deliver):
    campaign("drive", goal=100, baseline=10)
    campaign("spring", goal=50, title="Spring drive")
    signup(deliver, 1)
    html = admin.get("/admin/").get_data(as_text=True)
    assert "Membership drive" in html and "Spring drive" in html
    assert '<dd data-field="count">11</dd>' in html
    assert '<dd data-field="percent">11.0%</dd>' in html
    assert '<dd data-field="remaining">89</dd>' in html


def test_the_overview_without_campaigns_points_to_creating_one(admin):
    html = admin.get("/admin/").get_data(as_text=True)
    assert "No campaigns yet" in html
    assert 'href="/admin/campaigns/new"' in html


def test_a_campaign_page_shows_count_goal_pace_projection_and_deadline(admin, campaign, deliver):
    today = utcnow().date()
    campaign(
        "drive",
        goal=25_000,
        baseline=12_340,
        starts_on=today - timedelta(days=40),
        deadline=today + timedelta(days=10),
    )
    for n in range(5):
        signup(deliver, n)
    html = admin.get("/admin/campaigns/drive").get_data(as_text=True)
    assert '<dd data-field="count">12,345</dd>' in html
    assert '<dd data-field="goal">25,000</dd>' in html
    assert '<dd data-field="days_to_deadline">10</dd>' in html
    assert 'data-summary-url="/admin/campaigns/drive/summary.json"' in html
    assert "Goal reached at the 7-day pace" in html


def test_the_summary_json_has_the_figures_and_is_never_cached(admin, campaign, deliver):
    today = utcnow().date()
    campaign("drive", goal=100, starts_on=today - timedelta(days=60), deadline=today + timedelta(5))
    for n in range(7):
        signup(deliver, n)
    response = admin.get("/admin/campaigns/drive/summary.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert data["count"] == 7
    assert data["goal"] == 100
    assert data["percent"] == 7.0
    assert data["remaining"] == 93
    assert data["days_to_deadline"] == 5
    # Seven members joined today: one a day over the last 7 days, net.
    assert data["per_day_7"] == 1.0
    assert data["projected"] == (today + timedelta(days=93)).isoformat()
    assert data["beats_deadline"] is False
    assert data["display"]["count"] == "7"
    assert data["display"]["projected"].endswith("after the deadline")


def test_the_summary_follows_the_public_count(admin, campaign, deliver, client):
    campaign("drive", goal=100)
    assert admin.get("/admin/campaigns/drive/summary.json").get_json()["count"] == 0
    signup(deliver, 1)
    public = client.get("/api/campaigns/drive").get_json()["count"]
    assert admin.get("/admin/campaigns/drive/summary.json").get_json()["count"] == public == 1


def test_an_unknown_campaign_is_a_404(admin):
    assert admin.get("/admin/campaigns/nope").status_code == 404
    assert admin.get("/admin/campaigns/nope/summary.json").status_code == 404


def test_the_charts_are_server_rendered_svg_with_text_alternatives(admin, campaign, deliver):
    today = utcnow().date()
    campaign("drive", goal=100, starts_on=today - timedelta(days=20), deadline=today + timedelta(9))
    signup(deliver, 1, int(time.time()) - 3 * 86400)
    signup(deliver, 2)
    html = admin.get("/admin/campaigns/drive").get_data(as_text=True)
    assert html.count('<svg class="chart"') == 2
    assert '<polyline class="count"' in html
    assert '<line class="target"' in html  # the straight line to the goal by the deadline
    assert '<rect class="joined"' in html
    assert "<desc" in html and "2 members on" in html
    assert "<script" not in html.split("</head>")[1]


def test_the_chart_handles_a_campaign_that_starts_today_and_has_no_deadline(admin, campaign):
    campaign("drive", goal=100, starts_on=utcnow().date())
    html = admin.get("/admin/campaigns/drive").get_data(as_text=True)
    assert '<circle class="count-dot"' in html
    assert '<line class="target"' not in html


def test_an_upcoming_campaign_shows_its_figures(admin, campaign):
    campaign("drive", goal=100, starts_on=date.today() + timedelta(days=30))
    response = admin.get("/admin/campaigns/drive")
    assert response.status_code == 200
    assert '<dd data-field="status">upcoming</dd>' in response.get_data(as_text=True)


def test_the_banner_says_when_no_webhook_has_arrived(admin, campaign):
    campaign()
    html = admin.get("/admin/").get_data(as_text=True)
    assert 'class="banner"' in html
    assert "No webhook from Stripe has arrived yet" in html


def test_no_banner_while_stripe_delivers(admin, campaign, deliver):
    campaign()
    signup(deliver, 1)
    assert 'class="banner"' not in admin.get("/admin/").get_data(as_text=True)


def test_the_banner_says_when_stripe_has_been_quiet_too_long(admin, admin_app, campaign, deliver):
    campaign()
    signup(deliver, 1)
    with admin_app.app_context():
        event = db.session.query(Event).one()
        event.received_at = utcnow() - timedelta(hours=30)
        db.session.commit()
    html = admin.get("/admin/events").get_data(as_text=True)
    assert "No webhook from Stripe for 30 hours" in html
    admin_app.config["ADMIN_QUIET_HOURS"] = 48
    assert 'class="banner"' not in admin.get("/admin/").get_data(as_text=True)


def test_the_banner_says_when_failures_pile_up(admin, admin_app):
    now = utcnow()
    with admin_app.app_context():
        for n in range(5):
            db.session.add(
                Event(
                    source="stripe",
                    id=f"evt_fail_{n}",
                    type="invoice.paid",
                    created=now,
                    livemode=False,
                    outcome="failed",
                    detail="RuntimeError: boom",
                    payload=json.dumps({"id": f"evt_fail_{n}"}),
                )
            )
        db.session.commit()
    html = admin.get("/admin/audit").get_data(as_text=True)
    assert "5 webhook events failed in the last 24 hours" in html
    admin_app.config["ADMIN_FAILURE_ALERT"] = 6
    assert "failed in the last 24 hours" not in admin.get("/admin/").get_data(as_text=True)


def test_the_page_loads_its_script_and_stylesheet_from_the_admin_static_folder(admin, campaign):
    campaign()
    html = admin.get("/admin/campaigns/drive").get_data(as_text=True)
    assert '<script src="/admin/static/admin.js" defer></script>' in html
    assert '<link rel="stylesheet" href="/admin/static/admin.css">' in html

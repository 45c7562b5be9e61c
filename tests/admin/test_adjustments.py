"""GET/POST /admin/campaigns/<slug>/adjustments: members added or removed by hand."""

from __future__ import annotations

from sqlalchemy import func, select

from membership.database import db
from membership.models import Adjustment
from tests.admin.conftest import audit_rows, post_form
from tests.conftest import count_of

URL = "/admin/campaigns/drive/adjustments"


def adjustments_stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Adjustment))


def test_an_adjustment_changes_the_public_count(admin, campaign):
    campaign(baseline=100)
    assert count_of(admin) == 100
    response = post_form(
        admin, URL, {"direction": "add", "members": "40", "reason": "Sign-ups at the book fair"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == URL
    assert count_of(admin) == 140
    post_form(admin, URL, {"direction": "remove", "members": "15", "reason": "Duplicates"})
    assert count_of(admin) == 125


def test_adjustments_are_listed_with_who_and_when(admin, campaign):
    campaign()
    post_form(admin, URL, {"direction": "add", "members": "1,200", "reason": "Partner drive"})
    post_form(admin, URL, {"direction": "remove", "members": "3", "reason": "Test sign-ups"})
    html = admin.get(URL).get_data(as_text=True)
    assert html.index("Test sign-ups") < html.index("Partner drive")  # newest first
    assert '<td class="num">+1200</td>' in html
    assert '<td class="num">-3</td>' in html
    assert "<td>editor</td>" in html
    assert " UTC</td>" in html
    assert "Total so far: <strong>+1197</strong>" in html
    assert "added" in admin.get("/admin/audit").get_data(as_text=True)


def test_an_adjustment_without_a_reason_is_refused_and_not_stored(admin, admin_app, campaign):
    campaign()
    response = post_form(admin, URL, {"direction": "add", "members": "5", "reason": "   "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="e-reason"' in html and "is required" in html
    assert adjustments_stored(admin_app) == 0
    assert count_of(admin) == 0


def test_a_zero_negative_or_non_numeric_change_is_refused(admin, admin_app, campaign):
    campaign()
    for members in ("0", "-5", "lots", "", "2.5"):
        response = post_form(admin, URL, {"direction": "add", "members": members, "reason": "x"})
        assert response.status_code == 422, members
        assert 'id="e-members"' in response.get_data(as_text=True)
    too_many = post_form(admin, URL, {"direction": "add", "members": "10" * 6, "reason": "x"})
    assert too_many.status_code == 422
    assert "at most" in too_many.get_data(as_text=True)
    assert adjustments_stored(admin_app) == 0


def test_an_unknown_direction_is_refused(admin, admin_app, campaign):
    campaign()
    response = post_form(admin, URL, {"direction": "double", "members": "5", "reason": "x"})
    assert response.status_code == 422
    assert adjustments_stored(admin_app) == 0


def test_the_adjustment_is_audited_with_its_reason(admin, admin_app, campaign):
    campaign()
    post_form(admin, URL, {"direction": "add", "members": "7", "reason": "Festival stand"})
    [entry] = [r for r in audit_rows(admin_app) if r.action == "adjustment.added"]
    assert entry.actor == "editor"
    assert entry.detail == "drive: +7 (Festival stand)"


def test_adjustments_of_an_unknown_campaign_are_a_404(admin):
    assert admin.get("/admin/campaigns/nope/adjustments").status_code == 404
    response = post_form(
        admin, "/admin/campaigns/nope/adjustments", {"members": "1", "reason": "x"}
    )
    assert response.status_code == 404

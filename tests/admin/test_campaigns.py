"""GET/POST /admin/campaigns/new and /admin/campaigns/<slug>/edit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from membership.database import db
from membership.models import Campaign, CampaignCopy
from membership.web.embed import widget_integrity
from tests.admin.conftest import audit_rows, post_form

VALID = {
    "slug": "members-2026",
    "title": "Membership drive 2026",
    "goal": "25000",
    "starts_on": "2026-01-01",
    "deadline": "2026-12-31",
    "rule": "active",
    "baseline": "1200",
    "cta_url": "https://news.example/join",
    "locale": "en",
    "headline_en": "Quality journalism takes work.",
    "message_en": "Help us reach 25,000 members.",
    "cta_label_en": "Become a member",
    "headline_uk": "Якісна журналістика — це праця.",
    "message_uk": "Допоможіть нам досягти 25 000 членів.",
    "cta_label_uk": "Стати членом",
}


def campaigns_stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Campaign))


def test_a_campaign_is_created_with_copy_in_english_and_ukrainian(admin, admin_app, client):
    response = post_form(admin, "/admin/campaigns/new", VALID)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/campaigns/members-2026/edit"
    public = client.get("/api/campaigns/members-2026").get_json()
    assert public["count"] == 1200
    assert public["goal"] == 25000
    assert public["deadline"] == "2026-12-31"
    assert public["headline"] == VALID["headline_en"]
    assert public["translations"]["uk"]["cta_label"] == "Стати членом"
    [entry] = [r for r in audit_rows(admin_app) if r.action == "campaign.created"]
    assert "members-2026" in entry.detail


def test_the_new_campaign_form_has_every_setting_and_a_csrf_token(admin):
    html = admin.get("/admin/campaigns/new").get_data(as_text=True)
    for name in (*VALID, "csrf_token"):
        assert f'name="{name}"' in html, name
    assert '<label for="f-goal">' in html


def check_refused(admin, admin_app, changes: dict, field: str, message: str) -> None:
    before = campaigns_stored(admin_app)
    response = post_form(admin, "/admin/campaigns/new", {**VALID, **changes})
    assert response.status_code == 422, changes
    html = response.get_data(as_text=True)
    assert "Nothing was saved" in html
    assert f'id="e-{field}"' in html, (field, html[-3000:])
    assert message in html, message
    assert campaigns_stored(admin_app) == before
    # The form keeps what was typed.
    typed = changes.get("cta_label_en", VALID["cta_label_en"])
    assert f'value="{typed}"' in html


def test_validation_errors_are_shown_next_to_the_field_and_nothing_is_stored(admin, admin_app):
    check_refused(admin, admin_app, {"goal": "0"}, "goal", "must be a whole number above zero")
    check_refused(admin, admin_app, {"goal": "many"}, "goal", "must be a whole number")
    check_refused(admin, admin_app, {"goal": ""}, "goal", "is required")
    check_refused(
        admin, admin_app, {"deadline": "2025-12-31"}, "deadline", "must not be before the start"
    )
    check_refused(admin, admin_app, {"starts_on": "2026-13-01"}, "starts_on", "must be a date")
    check_refused(
        admin, admin_app, {"cta_url": "javascript:alert(1)"}, "cta_url", "http:// or https://"
    )
    check_refused(admin, admin_app, {"slug": "Bad Slug"}, "slug", "lowercase letters")
    check_refused(admin, admin_app, {"title": "   "}, "title", "is required")
    check_refused(
        admin, admin_app, {"headline_uk": "х" * 201}, "headline_uk", "at most 200 characters"
    )
    check_refused(
        admin, admin_app, {"message_en": "x" * 501}, "message_en", "at most 500 characters"
    )
    check_refused(admin, admin_app, {"baseline": "-5"}, "baseline", "from 0 to")
    check_refused(admin, admin_app, {"rule": "everyone"}, "rule", "must be")


@pytest.mark.parametrize("char", ["\x0b", "\x01", "\x1b", "\ufffe"])
def test_a_control_character_in_the_campaigns_text_is_refused_naming_the_field(
    admin, admin_app, char
):
    refusal = f"must not contain invisible control characters (U+{ord(char):04X})"
    for field in ("title", "headline_en", "message_en", "cta_label_en", "cta_url"):
        text = f"https://news.example/jo{char}in" if field == "cta_url" else f"Drive{char}2026"
        check_refused(admin, admin_app, {field: text}, field, refusal)


def test_a_call_to_action_url_with_spaces_inside_is_refused(admin, admin_app):
    check_refused(
        admin,
        admin_app,
        {"cta_url": "https://news.example/join us"},
        "cta_url",
        "must not contain spaces",
    )


def test_a_control_character_in_the_other_languages_copy_is_refused_before_saving(admin, admin_app):
    check_refused(
        admin,
        admin_app,
        {"headline_uk": "Разом\x0b до мети"},
        "headline_uk",
        "must not contain invisible control characters (U+000B)",
    )


def test_an_edit_with_a_control_character_stores_nothing(admin, admin_app, client):
    post_form(admin, "/admin/campaigns/new", VALID)
    bad = {**VALID, "goal": "30000", "title": "Membership\x1b drive"}
    response = post_form(admin, "/admin/campaigns/members-2026/edit", bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="e-title"' in html and "must not contain invisible control characters" in html
    public = client.get("/api/campaigns/members-2026").get_json()
    assert (public["goal"], public["title"]) == (25000, VALID["title"])


def test_a_slug_in_use_is_refused(admin, admin_app, campaign):
    campaign("members-2026")
    check_refused(admin, admin_app, {}, "slug", "already exists")


def test_settings_are_edited_and_the_change_is_audited(admin, admin_app, client):
    post_form(admin, "/admin/campaigns/new", VALID)
    edit = {**VALID, "goal": "30000", "message_uk": "Нове повідомлення.", "deadline": ""}
    response = post_form(admin, "/admin/campaigns/members-2026/edit", edit)
    assert response.status_code == 302
    public = client.get("/api/campaigns/members-2026").get_json()
    assert public["goal"] == 30000
    assert public["deadline"] is None
    assert public["translations"]["uk"]["message"] == "Нове повідомлення."
    [entry] = [r for r in audit_rows(admin_app) if r.action == "campaign.updated"]
    assert "goal" in entry.detail and "deadline" in entry.detail and "message_uk" in entry.detail


def test_an_invalid_edit_stores_nothing(admin, admin_app, client):
    post_form(admin, "/admin/campaigns/new", VALID)
    bad = {**VALID, "goal": "30000", "cta_url": "ftp://news.example", "headline_uk": "Нове"}
    response = post_form(admin, "/admin/campaigns/members-2026/edit", bad)
    assert response.status_code == 422
    assert 'id="e-cta_url"' in response.get_data(as_text=True)
    public = client.get("/api/campaigns/members-2026").get_json()
    assert public["goal"] == 25000
    assert public["translations"]["uk"]["headline"] == VALID["headline_uk"]


def test_switching_the_main_language_moves_the_copy(admin, admin_app, client):
    post_form(admin, "/admin/campaigns/new", VALID)
    post_form(admin, "/admin/campaigns/members-2026/edit", {**VALID, "locale": "uk"})
    public = client.get("/api/campaigns/members-2026").get_json()
    assert public["locale"] == "uk"
    assert public["headline"] == VALID["headline_uk"]
    assert public["translations"] == {
        "en": {
            "headline": VALID["headline_en"],
            "message": VALID["message_en"],
            "cta_label": VALID["cta_label_en"],
        }
    }
    with admin_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CampaignCopy)) == 1


def test_the_edit_page_previews_the_real_widget_and_offers_the_embed_code(admin, campaign):
    campaign("drive")
    html = admin.get("/admin/campaigns/drive/edit").get_data(as_text=True)
    assert '<iframe class="preview" src="/embed/drive?lang=en&amp;v=' in html
    assert '<iframe class="preview" src="/embed/drive?lang=uk&amp;v=' in html
    assert "&lt;membership-progress campaign=&#34;drive&#34;&gt;" in html
    assert widget_integrity() in html
    assert "http://localhost/embed/drive" in html
    assert "http://localhost/api/campaigns/drive/badge.svg" in html
    # Script, pinned script, iframe, SVG badge; then the email snippet and the share link.
    assert html.count('class="copy" data-copy="snippet-') == 6
    assert 'data-copy="snippet-email"' in html and 'data-copy="snippet-share"' in html


def test_the_edit_form_is_filled_with_the_stored_settings(admin, campaign):
    campaign("drive", goal=1234, baseline=7)
    html = admin.get("/admin/campaigns/drive/edit").get_data(as_text=True)
    assert 'name="goal" type="number" value="1234"' in html
    assert 'name="baseline" type="number" value="7"' in html
    assert 'value="https://news.example/join"' in html


def test_campaign_text_is_escaped(admin, campaign):
    campaign("drive", title="<img src=x onerror=alert(1)>")
    for url in ("/admin/", "/admin/campaigns/drive", "/admin/campaigns/drive/edit"):
        html = admin.get(url).get_data(as_text=True)
        assert "<img src=x" not in html, url
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, url


def test_an_unknown_campaign_cannot_be_edited(admin):
    assert admin.get("/admin/campaigns/nope/edit").status_code == 404
    assert post_form(admin, "/admin/campaigns/nope/edit", VALID).status_code == 404

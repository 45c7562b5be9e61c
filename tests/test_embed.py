"""The script routes and the iframe page: /widget.js, /widget.<digest>.js and /embed/<slug>."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from membership.web import embed
from tests.test_badge import FORBIDDEN, stored_before_the_rule

NBSP = "\u00a0"
WIDGET = Path(__file__).resolve().parent.parent / "static" / "widget.js"


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    # Until create_app registers the embed blueprint itself.
    if "embed" not in app.blueprints:
        app.register_blueprint(embed.bp)
    return app.test_client()


def test_it_serves_the_widget_with_a_short_cache(web: FlaskClient) -> None:
    response = web.get("/widget.js")
    assert response.status_code == 200
    assert response.data == WIDGET.read_bytes()
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    again = web.get("/widget.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_it_serves_the_hashed_widget_as_immutable_with_a_matching_sri_hash(
    app: Flask, web: FlaskClient
) -> None:
    with app.test_request_context():
        url = embed.hashed_widget_url()
        integrity = embed.widget_integrity()
    assert re.fullmatch(r"/widget\.[0-9a-f]{16}\.js", url)
    response = web.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    expected = "sha384-" + base64.b64encode(hashlib.sha384(response.data).digest()).decode()
    assert integrity == expected


def test_an_old_widget_digest_is_not_found(web: FlaskClient) -> None:
    assert web.get("/widget.0123456789abcdef.js").status_code == 404


def test_the_snippets_name_the_campaign_and_the_pinned_build() -> None:
    snippets = embed.embed_snippets("drive", "https://members.example/")
    assert snippets["script"] == (
        '<script src="https://members.example/widget.js" async></script>\n'
        '<membership-progress campaign="drive"></membership-progress>'
    )
    assert embed.widget_integrity() in snippets["script_pinned"]
    assert 'src="https://members.example/embed/drive"' in snippets["iframe"]
    assert "https://members.example/api/campaigns/drive/badge.svg" in snippets["badge"]


def test_the_embed_page_shows_the_numbers_without_javascript(
    web: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=12_345, headline="Quality journalism takes work.")
    response = web.get("/embed/drive")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en"' in html
    assert "<b>12,345</b> out of 25,000" in html
    assert '<progress max="25000" value="12345"' in html
    assert 'aria-valuetext="12,345 members out of 25,000"' in html
    assert "Quality journalism takes work." in html
    assert 'href="https://news.example/join"' in html
    assert '<script src="/embed-resize.js" defer></script>' in html
    assert "onload" not in html and "<script>" not in html  # no inline script at all


def test_the_embed_page_formats_numbers_for_ukrainian(web: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    html = web.get("/embed/drive?lang=uk").get_data(as_text=True)
    assert '<html lang="uk"' in html
    assert f"<b>12{NBSP}345</b> з 25{NBSP}000" in html
    assert f'aria-valuetext="12{NBSP}345 учасників з 25{NBSP}000"' in html


def test_the_embed_page_falls_back_to_the_campaign_locale(web: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=100, baseline=21, locale="uk")
    assert '<html lang="uk"' in web.get("/embed/drive?lang=xx").get_data(as_text=True)


def test_any_site_may_frame_the_embed_page_and_nothing_else_runs_there(
    web: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=1)
    response = web.get("/embed/drive")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    # The inline stylesheet is allowed by its hash, which must be the hash of what is served.
    css = re.search(r"<style>(.*?)</style>", response.get_data(as_text=True), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert "X-Frame-Options" not in response.headers


def test_the_embed_page_escapes_campaign_text(web: FlaskClient, campaign: Any) -> None:
    campaign(
        "drive",
        goal=100,
        baseline=1,
        headline='<script>alert("x")</script>',
        title='A "title" & more',
    )
    html = web.get("/embed/drive").get_data(as_text=True)
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "A &#34;title&#34; &amp; more" in html


def test_the_embed_page_never_links_a_script_url() -> None:
    # Campaign settings refuse such a link; the page does not rely on that alone.
    model = embed._view_model({"count": 1, "goal": 2, "cta_url": "javascript:alert(1)"}, "en")
    assert model["cta_url"] == ""


@pytest.mark.parametrize("char", FORBIDDEN)
def test_the_embed_page_drops_control_characters_an_old_row_holds(
    app: Flask, web: FlaskClient, campaign: Any, char: str
) -> None:
    campaign("drive", goal=100, baseline=1)
    stored_before_the_rule(
        app,
        title=f"Drive{char}",
        headline=f"Head{char}line",
        message=f"Mes{char}sage",
        cta_label=f"Join{char}",
    )
    html = web.get("/embed/drive").get_data(as_text=True)
    assert char not in html
    assert "<title>Drive</title>" in html
    assert "Headline" in html and "Message" in html
    assert '<a class="cta" href="https://news.example/join"' in html and ">Join</a>" in html


def test_the_embed_page_shows_the_button_of_an_old_row_whose_link_has_spaces_around_it(
    app: Flask, web: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=100, baseline=1)
    stored_before_the_rule(app, cta_url="  https://news.example/join\n")
    html = web.get("/embed/drive").get_data(as_text=True)
    assert '<a class="cta" href="https://news.example/join" target="_blank"' in html


def test_the_embed_page_drops_control_characters_from_a_last_good_copy() -> None:
    # Figures kept on disk by an older version are shown during an outage without recounting.
    figures = {"count": 1, "goal": 2, "title": "Dri\x0bve", "headline": "\ufffeHi", "cta_url": ""}
    model = embed._view_model(figures, "en")
    assert (model["label"], model["p"]["headline"]) == ("Drive", "Hi")


def test_the_embed_page_is_cacheable(web: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=100, baseline=1)
    first = web.get("/embed/drive")
    assert first.headers["Cache-Control"].startswith("public, max-age=60")
    again = web.get("/embed/drive", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_embed_page_of_a_reached_goal_says_so(web: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=100, baseline=100)
    html = web.get("/embed/drive").get_data(as_text=True)
    assert "<b>100</b> out of 100" in html
    assert '<progress max="100" value="100"' in html
    assert "Goal reached — thank you!" in html
    assert 'class="mark"' not in html


def mark_rule(response: Any) -> str | None:
    """The page's own rule placing the goal mark, from its inline stylesheet."""
    css = re.search(r"<style>(.*?)</style>", response.get_data(as_text=True), re.S).group(1)
    found = re.search(r"\.mark\{inset-inline-start:([\d.]+)%\}$", css)
    return found and found.group(1)


def test_past_the_goal_the_page_runs_the_bar_past_it_and_marks_it(
    web: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=100, baseline=125)
    response = web.get("/embed/drive")
    html = response.get_data(as_text=True)
    assert "<b>125</b> out of 100" in html
    # The scale is the count: a full bar, the goal marked at 100 / 125 of it.
    assert '<progress max="125" value="125"' in html
    assert 'aria-valuetext="125 members out of 100. 25 past the goal — thank you!"' in html
    assert '<span class="mark" aria-hidden="true"></span>' in html
    assert mark_rule(response) == "80"
    assert '<p class="message">25 past the goal — thank you!</p>' in html


def test_a_stretch_goal_page_names_the_next_goal_in_english_and_ukrainian(
    web: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=26_000, stretch_goals="30000,35000")
    english = web.get("/embed/drive")
    html = english.get_data(as_text=True)
    assert "<b>26,000</b> out of 30,000" in html
    assert '<progress max="30000" value="26000"' in html
    assert '<p class="message">Goal of 25,000 reached! Next: 30,000</p>' in html
    assert mark_rule(english) == "83.3"
    ukrainian = web.get("/embed/drive?lang=uk")
    html = ukrainian.get_data(as_text=True)
    assert f"<b>26{NBSP}000</b> з 30{NBSP}000" in html
    assert f"Мету в 25{NBSP}000 досягнуто! Наступна мета — 30{NBSP}000" in html
    assert (
        f'aria-valuetext="26{NBSP}000 учасників з 30{NBSP}000. '
        f'Мету в 25{NBSP}000 досягнуто! Наступна мета — 30{NBSP}000"'
    ) in html
    # The stylesheet with the page's own rule is still the one its CSP allows.
    css = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in ukrainian.headers["Content-Security-Policy"]


def test_the_page_of_figures_without_goals_reads_them_as_one_goal() -> None:
    # A last good copy kept on disk before stretch goals: no `goals` at all.
    figures = {"count": 150, "goal": 100, "status": "reached", "cta_url": ""}
    model = embed._view_model(figures, "en")
    assert (model["share"], model["mark"], model["scale"]) == (1.0, 100 / 150, 150)
    assert model["message"] == "50 past the goal — thank you!"
    below = embed._view_model({**figures, "count": 50, "status": "active"}, "en")
    assert (below["share"], below["mark"], below["scale"]) == (0.5, None, 100)


def test_an_unknown_campaign_has_an_empty_embed_page(web: FlaskClient) -> None:
    response = web.get("/embed/no-such-drive")
    assert response.status_code == 404
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert not re.search(r"\d", response.get_data(as_text=True).split("<body>")[1])


def test_the_resize_script_is_served(web: FlaskClient) -> None:
    response = web.get("/embed-resize.js")
    assert response.status_code == 200
    assert b"membership-progress:height" in response.data


def test_the_page_uses_the_campaigns_words_in_the_asked_language(client, campaign, app):
    from membership.campaigns.settings import get_campaign, set_copy
    from membership.database import db

    campaign("drive", goal=100)
    with app.app_context():
        set_copy(
            db.session,
            get_campaign(db.session, "drive"),
            "uk",
            headline="Разом до мети",
            message="Долучайтеся",
            cta_label="Приєднатися",
        )
    ukrainian = client.get("/embed/drive?lang=uk").get_data(as_text=True)
    assert "Разом до мети" in ukrainian and "Приєднатися" in ukrainian
    english = client.get("/embed/drive?lang=en").get_data(as_text=True)
    assert "Разом до мети" not in english


def test_the_page_drops_control_characters_from_old_copy_in_another_language(client, campaign, app):
    from membership.database import db
    from membership.models import Campaign, CampaignCopy

    campaign("drive", goal=100)
    with app.app_context():
        drive = db.session.query(Campaign).filter_by(slug="drive").one()
        db.session.add(
            CampaignCopy(
                campaign_id=drive.id,
                locale="uk",
                headline="Разом\x1b до мети",
                message="Долу\x01чайтеся",
                cta_label="Приєднатися\ufffe",
            )
        )
        db.session.commit()
    ukrainian = client.get("/embed/drive?lang=uk").get_data(as_text=True)
    assert "Разом до мети" in ukrainian and "Долучайтеся" in ukrainian
    assert ">Приєднатися</a>" in ukrainian

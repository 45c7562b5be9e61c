"""GET /api/campaigns/<slug>/badge.svg: the bar and numbers as an image."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from membership.database import db
from membership.models import Campaign, utcnow
from membership.web import embed

NBSP = "\u00a0"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    if "embed" not in app.blueprints:
        app.register_blueprint(embed.bp)
    return app.test_client()


# Characters XML 1.0 forbids, as an old row may hold them (stored before the rule refused them).
FORBIDDEN = ["\x0b", "\x01", "\x1b", "\ufffe"]


def stored_before_the_rule(app: Flask, slug: str = "drive", **values: Any) -> None:
    """Write campaign text straight to its row, past the rules, as an older version could."""
    with app.app_context():
        db.session.execute(
            update(Campaign).where(Campaign.slug == slug).values(updated_at=utcnow(), **values)
        )
        db.session.commit()


def texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def bars(svg: bytes) -> dict[str, ET.Element]:
    """The badge's bar: its track, fill (if any) and goal mark (if any), by role."""
    root = ET.fromstring(svg)
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("x") != "0.5"]  # not the card
    found = {"track": rects[0]}
    for rect in rects[1:]:
        found["mark" if rect.get("class") == "mark" else "fill"] = rect
    return found


def geometry(rect: ET.Element) -> tuple[float, float, float, float]:
    return tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def test_it_draws_the_numbers_and_the_bar(web: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=25_000, baseline=12_345, title="Membership drive 2025")
    response = web.get("/api/campaigns/drive/badge.svg")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert texts(response.data) == ["Membership drive 2025", "12,345 out of 25,000"]
    root = ET.fromstring(response.data)
    assert root.get("aria-label") == "Membership drive 2025: 12,345 members out of 25,000"
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("y") == "64"]
    track, fill = (float(r.get("width")) for r in bars)
    assert fill == pytest.approx(track * 12_345 / 25_000, abs=0.1)


def test_it_formats_for_ukrainian(web: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    svg = web.get("/api/campaigns/drive/badge.svg?lang=uk").data
    assert texts(svg)[1] == f"12{NBSP}345 з 25{NBSP}000"


def test_the_bar_is_capped_but_the_count_is_not(web: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=100, baseline=150)
    svg = web.get("/api/campaigns/drive/badge.svg").data
    drawn = bars(svg)
    assert drawn["track"].get("width") == drawn["fill"].get("width")
    assert texts(svg)[1:] == ["150 out of 100", "50 past the goal — thank you!"]


def test_an_empty_drive_draws_no_fill(web: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=100, baseline=0)
    root = ET.fromstring(web.get("/api/campaigns/drive/badge.svg").data)
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("y") == "64"]) == 1


def test_all_campaign_text_is_escaped(web: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=100, baseline=1, title='<script>alert(1)</script> & "friends"')
    svg = web.get("/api/campaigns/drive/badge.svg").data
    assert b"<script" not in svg
    root = ET.fromstring(svg)  # still well-formed XML
    assert texts(svg)[0] == '<script>alert(1)</script> & "friends"'
    assert root.find(f"{SVG}title").text.startswith("<script>")


def test_a_long_title_is_cut_to_fit(web: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=100, baseline=1, title="A" * 120)
    title = texts(web.get("/api/campaigns/drive/badge.svg").data)[0]
    assert len(title) == embed.BADGE_TITLE_CHARS
    assert title.endswith("…")


def test_it_is_cacheable_and_answers_304(web: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=100, baseline=1)
    first = web.get("/api/campaigns/drive/badge.svg")
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    assert first.headers["ETag"]
    again = web.get(
        "/api/campaigns/drive/badge.svg", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.data == b""


def test_it_may_run_nothing_when_opened_directly(web: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=100, baseline=1)
    response = web.get("/api/campaigns/drive/badge.svg")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_unknown_campaign_has_no_badge(web: FlaskClient) -> None:
    assert web.get("/api/campaigns/no-such-drive/badge.svg").status_code == 404


@pytest.mark.parametrize("char", FORBIDDEN)
def test_a_title_stored_with_a_control_character_still_makes_a_well_formed_badge(
    app: Flask, web: FlaskClient, campaign: Any, char: str
) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    stored_before_the_rule(app, title=f"Membership{char} drive{char}")
    response = web.get("/api/campaigns/drive/badge.svg")
    assert response.status_code == 200
    root = ET.fromstring(response.data)  # raises ParseError if the XML is not well-formed
    assert texts(response.data)[0] == "Membership drive"
    assert root.get("aria-label") == "Membership drive: 12,345 members out of 25,000"
    assert char.encode() not in response.data


def test_a_badge_title_of_only_control_characters_falls_back_to_the_label(
    app: Flask, web: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=100, baseline=1)
    stored_before_the_rule(app, title="\x0b\x01")
    assert texts(web.get("/api/campaigns/drive/badge.svg").data)[0] == "Membership drive"


def test_a_stretch_goal_as_the_target_marks_the_goal_reached(
    web: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=26_000, stretch_goals="30000,35000")
    svg = web.get("/api/campaigns/drive/badge.svg").data
    assert texts(svg)[1:] == ["26,000 out of 30,000", "Goal of 25,000 reached! Next: 30,000"]
    drawn = bars(svg)
    x, y, width, height = geometry(drawn["track"])
    assert geometry(drawn["fill"])[2] == pytest.approx(width * 26_000 / 30_000, abs=0.1)
    mark_x, mark_y, mark_width, mark_height = geometry(drawn["mark"])
    # Centred on the goal reached, on the target's scale, and standing out of the bar.
    assert mark_x + mark_width / 2 == pytest.approx(x + width * 25_000 / 30_000, abs=0.1)
    assert mark_y < y and mark_y + mark_height > y + height
    # The note sits between the count line and the bar, inside the badge's unchanged height.
    root = ET.fromstring(svg)
    note = [t for t in root.iter(f"{SVG}text")][2]
    assert 44 < float(note.get("y")) < y
    assert (root.get("height"), root.get("viewBox")) == ("92", "0 0 400 92")
    assert root.get("aria-label") == (
        "Membership drive: 26,000 members out of 30,000. Goal of 25,000 reached! Next: 30,000"
    )


def test_past_the_last_goal_the_bar_runs_full_and_marks_where_the_goal_was(
    web: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=31_250, stretch_goals="30000")
    svg = web.get("/api/campaigns/drive/badge.svg?lang=uk").data
    assert texts(svg)[1:] == [f"31{NBSP}250 з 30{NBSP}000", f"На 1{NBSP}250 понад мету — дякуємо!"]
    drawn = bars(svg)
    x, _, width, _ = geometry(drawn["track"])
    assert geometry(drawn["fill"])[2] == width
    mark_x, _, mark_width, _ = geometry(drawn["mark"])
    # The bar's scale is the count: the last goal sits at 30,000 / 31,250 = 96% of it.
    assert mark_x + mark_width / 2 == pytest.approx(x + width * 0.96, abs=0.1)


def test_a_drive_below_its_only_goal_has_no_mark_and_no_note(
    web: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=24_999, stretch_goals="30000")
    svg = web.get("/api/campaigns/drive/badge.svg").data
    assert "mark" not in bars(svg)
    assert texts(svg) == ["Membership drive", "24,999 out of 25,000"]

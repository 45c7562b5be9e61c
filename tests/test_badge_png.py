"""GET /api/campaigns/<slug>/badge.png: the badge as a PNG for email, and what picture.py draws."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageChops, ImageDraw, ImageFont

from membership import create_app
from membership.campaigns import picture
from membership.campaigns.adjustments import add_adjustment
from membership.campaigns.settings import create_campaign, get_campaign
from membership.database import db
from membership.web import embed, images
from tests.conftest import SECRET
from tests.test_public_outage import UNREACHABLE, break_database

NBSP = "\u00a0"
BADGE = "/api/campaigns/drive/badge.png"


@pytest.fixture(autouse=True)
def nothing_drawn_yet() -> None:
    images._drawn.cache_clear()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()  # raises if the data is truncated or corrupt
    return image.convert("RGB")


def badge(client: FlaskClient, query: str = "", path: str = BADGE) -> Image.Image:
    response = client.get(path + query)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    return decoded(response.data)


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a, b).getbbox() is None


def drawn(card: picture.Card, scale: int = 1) -> Image.Image:
    return decoded(picture.badge(card, scale))


def bar_row(image: Image.Image, scale: int = 1) -> list[tuple[int, int, int]]:
    """The pixels along the middle of the bar, from its left end to its right end."""
    x, y, width, height = (v * scale for v in picture.BADGE_BAR)
    middle = y + height // 2
    return [image.getpixel((x + i, middle)) for i in range(width)]


def fill_end(image: Image.Image, scale: int = 1) -> int:
    """How many pixels of the bar, from its left end, are filled."""
    row = bar_row(image, scale)
    filled = [i for i, pixel in enumerate(row) if pixel == picture.FILL]
    assert filled == list(range(len(filled))), "the fill is not one run from the left end"
    return len(filled)


def runs(row: list[tuple[int, int, int]]) -> list[tuple[tuple[int, int, int], int]]:
    """The row as (colour, how many pixels) runs, left to right."""
    found: list[tuple[tuple[int, int, int], int]] = []
    for pixel in row:
        if found and found[-1][0] == pixel:
            found[-1] = (pixel, found[-1][1] + 1)
        else:
            found.append((pixel, 1))
    return found


def add_members(app: Flask, delta: int) -> None:
    with app.app_context():
        campaign = get_campaign(db.session, "drive")
        add_adjustment(db.session, campaign, delta, "Sign-ups at the book fair", "tests")


def test_it_is_a_png_of_the_badge_size_at_1x_and_2x(client: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    assert badge(client).size == (400, 104)
    assert badge(client, "?scale=1").size == (400, 104)
    assert badge(client, "?scale=2").size == (800, 208)


@pytest.mark.parametrize("scale", ["3", "0", "-2", "2.0", "two", ""])
def test_any_other_scale_is_the_1x_badge_not_an_error(
    client: FlaskClient, campaign: Any, scale: str
) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    assert same_pixels(badge(client, f"?scale={scale}"), badge(client))


def test_it_shows_the_campaigns_figures(client: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=25_000, baseline=12_345, title="Membership drive 2025")
    known = picture.Card(
        lang="en",
        title="Membership drive 2025",
        count="12,345",
        of_goal="out of 25,000",
        note="Help us reach our goal.",
        fill=12_345 / 25_000,
    )
    for scale in (1, 2):
        served = badge(client, f"?scale={scale}")
        assert same_pixels(served, drawn(known, scale))
        # One digit off is another picture: the comparison can tell figures apart.
        other = picture.Card(**{**known.__dict__, "count": "12,346"})
        assert not same_pixels(served, drawn(other, scale))


@pytest.mark.parametrize("baseline", [1_000, 12_345, 20_000, 24_990])
def test_the_fill_ends_where_the_count_puts_it(
    client: FlaskClient, campaign: Any, baseline: int
) -> None:
    campaign("drive", goal=25_000, baseline=baseline)
    for scale in (1, 2):
        width = picture.BADGE_BAR[2] * scale
        assert fill_end(badge(client, f"?scale={scale}"), scale) == round(width * baseline / 25_000)


def test_the_fill_moves_on_when_members_join(
    app: Flask, client: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=1_000, baseline=250)
    before = fill_end(badge(client))
    add_members(app, 250)
    after = fill_end(badge(client))
    assert (before, after) == (round(368 * 0.25), round(368 * 0.5))


def test_an_empty_drive_has_no_fill(client: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=100, baseline=0)
    assert fill_end(badge(client)) == 0
    assert set(bar_row(badge(client))) == {picture.TRACK}


def test_past_the_goal_the_bar_runs_on_and_marks_where_the_goal_was(
    client: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=100, baseline=150)
    image = badge(client)
    row = bar_row(image)
    goal_at = round(368 * 100 / 150)
    assert row[goal_at] == picture.MARK
    assert {row[0], row[goal_at - 5], row[goal_at + 5], row[-1]} == {picture.FILL}
    assert set(row) == {picture.FILL, picture.MARK}


def test_on_the_way_to_a_stretch_goal_the_reached_goal_is_marked(
    client: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=27_000, stretch_goals="30000,35000")
    fill, mark = round(368 * 27 / 30), round(368 * 25 / 30)  # the bar now runs to 30,000
    assert runs(bar_row(badge(client))) == [
        (picture.FILL, mark - 1),
        (picture.MARK, 2),
        (picture.FILL, fill - mark - 1),
        (picture.TRACK, 368 - fill),
    ]
    for scale in (1, 2):
        row = bar_row(badge(client, f"?scale={scale}"), scale)
        assert row[round(368 * scale * 25 / 30)] == picture.MARK


def test_past_the_last_stretch_goal_the_full_bar_marks_where_it_was(
    client: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=40_000, stretch_goals="30000,35000")
    row = bar_row(badge(client))
    assert set(row) == {picture.FILL, picture.MARK}
    marks = [i for i, pixel in enumerate(row) if pixel == picture.MARK]
    at = round(368 * 35_000 / 40_000)  # the bar's scale is now the count
    assert marks == [at - 1, at]


def test_it_formats_for_ukrainian(client: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=25_000, baseline=12_345, title="Членська кампанія")
    known = picture.Card(
        lang="uk",
        title="Членська кампанія",
        count=f"12{NBSP}345",
        of_goal=f"з 25{NBSP}000",
        note="Help us reach our goal.",  # the campaign has no Ukrainian message of its own
        fill=12_345 / 25_000,
    )
    assert same_pixels(badge(client, "?lang=uk"), drawn(known))
    assert same_pixels(badge(client, "?lang=uk-UA&scale=2"), drawn(known, 2))


def test_a_campaign_in_ukrainian_says_so_without_asking(client: FlaskClient, campaign: Any) -> None:
    campaign("drive", goal=25_000, baseline=12_345, locale="uk")
    assert same_pixels(badge(client), badge(client, "?lang=uk"))
    assert not same_pixels(badge(client), badge(client, "?lang=en"))


def test_an_unknown_language_falls_back_to_the_campaigns_own(
    client: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    assert same_pixels(badge(client, "?lang=xx"), badge(client, "?lang=en"))


def title_strip(image: Image.Image) -> Image.Image:
    """The badge's title line, inside the border."""
    return image.crop((8, 6, 392, 31))


def test_cyrillic_letters_are_drawn_as_the_font_draws_them(
    client: FlaskClient, campaign: Any
) -> None:
    title = "Членська кампанія"
    campaign("drive", goal=25_000, baseline=12_345, title=title)
    served = title_strip(badge(client))
    # The bundled font's own rendering of the same title, where the badge puts it.
    font = ImageFont.truetype(str(picture.BOLD_FONT), 15, layout_engine=ImageFont.Layout.BASIC)
    expected = Image.new("RGB", picture.BADGE_SIZE, picture.WHITE)
    ImageDraw.Draw(expected).text((16, 26), title, font=font, fill=picture.INK, anchor="ls")
    assert same_pixels(served, title_strip(expected))


def test_distinct_cyrillic_letters_make_distinct_pictures(app: Flask, client: FlaskClient) -> None:
    # Missing glyphs would all be the same empty box: every title below would look alike.
    titles = ["ЖЖЖЖ", "ЩЩЩЩ", "ЄЄЄЄ", "ЇЇЇЇ", "ФФФФ"]
    with app.app_context():
        for n, title in enumerate(titles):
            create_campaign(db.session, f"drive-{n}", 100, title=title, baseline=1)
    strips = [
        title_strip(badge(client, path=f"/api/campaigns/drive-{n}/badge.png"))
        for n in range(len(titles))
    ]
    for n, strip in enumerate(strips):
        assert strip.getbbox() is not None
        for other in strips[n + 1 :]:
            assert not same_pixels(strip, other)


def test_an_unknown_campaign_gets_a_neutral_picture(client: FlaskClient) -> None:
    response = client.get("/api/campaigns/no-such-drive/badge.png")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    image = decoded(response.data)
    assert same_pixels(image, drawn(picture.neutral("en")))
    assert set(bar_row(image)) == {picture.TRACK}  # no fill, no figures


def test_a_slug_that_cannot_exist_gets_the_neutral_picture_too(client: FlaskClient) -> None:
    response = client.get("/api/campaigns/NOT_A_SLUG/badge.png?scale=2&lang=uk")
    assert response.status_code == 200
    assert same_pixels(decoded(response.data), drawn(picture.neutral("uk"), 2))


def test_it_asks_proxies_to_revalidate_and_answers_304(
    app: Flask, client: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=1_000, baseline=250)
    first = client.get(BADGE)
    assert first.headers["Cache-Control"] == "no-cache"
    assert first.headers["Content-Type"] == "image/png"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    etag = first.headers["ETag"]
    again = client.get(BADGE, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["Cache-Control"] == "no-cache"
    add_members(app, 1)
    changed = client.get(BADGE, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert client.get(BADGE + "?scale=2").headers["ETag"] not in (etag, changed.headers["ETag"])


def test_each_picture_is_drawn_once_until_the_figures_change(
    app: Flask, client: FlaskClient, campaign: Any
) -> None:
    campaign("drive", goal=1_000, baseline=250)
    for _ in range(5):
        client.get(BADGE)
    assert (images._drawn.cache_info().misses, images._drawn.cache_info().hits) == (1, 4)
    add_members(app, 1)
    client.get(BADGE)
    assert images._drawn.cache_info().misses == 2


@pytest.fixture
def outage_app(db_url: str, tmp_path: Any) -> Iterator[Flask]:
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "TESTING": True,
            "PROGRESS_CACHE_SECONDS": 0,
            "STRIPE_WEBHOOK_SECRETS": (SECRET,),
            "PROGRESS_LAST_GOOD_DIR": str(tmp_path / "last-good"),
        }
    )
    with app.app_context():
        create_campaign(db.session, "drive", 25_000, title="Drive", baseline=12_345)
    yield app
    app.extensions["database.engine"].dispose()


def worker_started_during_the_outage(tmp_path: Any, last_good: str = "last-good") -> Flask:
    return create_app(
        {
            "DATABASE_URL": UNREACHABLE,
            "TESTING": True,
            "STRIPE_WEBHOOK_SECRETS": (SECRET,),
            "PROGRESS_LAST_GOOD_DIR": str(tmp_path / last_good),
        }
    )


def test_while_the_database_is_down_it_shows_the_last_good_figures(
    outage_app: Flask, tmp_path: Any
) -> None:
    client = outage_app.test_client()
    good = badge(client)
    assert fill_end(good) == round(368 * 12_345 / 25_000)
    break_database(outage_app)
    assert same_pixels(badge(client), good)
    assert same_pixels(badge(worker_started_during_the_outage(tmp_path).test_client()), good)


def test_with_the_database_down_and_nothing_kept_it_is_still_a_picture(tmp_path: Any) -> None:
    client = worker_started_during_the_outage(tmp_path, "nothing-kept").test_client()
    assert client.get("/api/campaigns/drive").status_code == 503  # the JSON may say so
    assert same_pixels(badge(client), drawn(picture.neutral("en")))


# What the pictures say and draw for the progress JSON, by the SVG badge's bar rule.

FIGURES = {
    "slug": "drive",
    "title": "Drive",
    "status": "active",
    "message": "Help us reach our goal.",
    "headline": "",
    "cta_label": "",
    "translations": {},
}


def shown(figures: dict[str, Any], lang: str) -> picture.Card:
    return picture.card(figures, lang, *embed.bar_shares(figures))


def test_a_reached_goal_is_marked_and_named_on_the_way_to_the_next() -> None:
    goals = [{"goal": 25_000, "reached_at": "2026-11-01T10:00:00Z"}, {"goal": 30_000}]
    card = shown({**FIGURES, "count": 27_000, "goal": 30_000, "goals": goals}, "en")
    assert (card.count, card.of_goal) == ("27,000", "out of 30,000")
    assert (card.fill, card.mark) == (pytest.approx(0.9), pytest.approx(25_000 / 30_000))
    assert card.note == "Goal of 25,000 reached! Next: 30,000"
    row = bar_row(drawn(card))
    assert row[round(368 * 25 / 30)] == picture.MARK
    assert fill_end(drawn(picture.Card(**{**card.__dict__, "mark": None}))) == round(368 * 0.9)


def test_past_the_last_stretch_goal_it_says_how_far_in_ukrainian() -> None:
    goals = [
        {"goal": 25_000, "reached_at": "2026-11-01T10:00:00Z"},
        {"goal": 30_000, "reached_at": "2026-11-20T10:00:00Z"},
    ]
    figures = {**FIGURES, "count": 32_000, "goal": 30_000, "goals": goals, "status": "reached"}
    card = shown(figures, "uk")
    assert (card.fill, card.mark) == (1.0, pytest.approx(30_000 / 32_000))
    assert card.note == f"На 2{NBSP}000 понад мету — дякуємо!"


def test_figures_from_before_stretch_goals_have_one_goal() -> None:
    # A last good copy kept on disk before stretch goals has no `goals`.
    card = shown({**FIGURES, "count": 40, "goal": 100}, "en")
    assert (card.fill, card.mark, card.note) == (0.4, None, "Help us reach our goal.")


def test_an_ended_drive_says_so_under_the_bar() -> None:
    card = shown({**FIGURES, "count": 40, "goal": 100, "status": "ended"}, "en")
    assert card.note == "This drive has ended. Thank you!"

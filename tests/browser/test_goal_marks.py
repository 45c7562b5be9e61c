"""Stretch goals and counts past the goal as readers see them in Chromium: the widget, the iframe
page and the SVG badge mark the goal reached on the bar, and run the bar past the last goal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

NBSP = "\u00a0"
pytestmark = pytest.mark.slow

FILL = (179, 38, 30)  # #b3261e, the bar's colour everywhere
WIDGET_TRACK = (223, 223, 223)  # the widget's translucent #8884 over a white page
WIDGET_MARK = (240, 212, 210)  # the widget's #fffc mark over the fill
BADGE_MARK = (26, 26, 26)  # the badge's #1a1a1a mark


def snippet(api: Any, slug: str, attrs: str = "") -> str:
    return (
        f'<script src="{api.origin}/widget.js" async></script>'
        f'<membership-progress campaign="{slug}"{attrs}></membership-progress>'
    )


def settled(page: Any, index: int = 0) -> None:
    """Wait until the index-th widget has its data and its bar has finished growing."""
    page.wait_for_function(
        "(i) => { const el = document.querySelectorAll('membership-progress')[i];"
        " const fill = el && el.shadowRoot && el.shadowRoot.querySelector('.fill');"
        " return fill && fill.getBoundingClientRect().width > 0 && !fill.getAnimations().length }",
        arg=index,
    )


def widget(page: Any, index: int = 0) -> dict[str, Any]:
    """What the index-th widget shows: its texts, its bar's ARIA and the boxes of its parts."""
    return page.evaluate(
        """(i) => {
          const el = document.querySelectorAll('membership-progress')[i];
          const root = el.shadowRoot;
          const box = (part) => {
            const r = root.querySelector('.' + part).getBoundingClientRect();
            return { x: r.x, y: r.y, width: r.width, height: r.height };
          };
          const bar = root.querySelector('[role=progressbar]');
          return {
            count: root.querySelector('.count').textContent,
            message: root.querySelector('.message').textContent,
            aria: Object.fromEntries([...bar.attributes].map((a) => [a.name, a.value])),
            widget: box('widget'), bar: box('bar'), fill: box('fill'), mark: box('mark'),
          };
        }""",
        index,
    )


EMBED_TRACK = (230, 230, 230)  # the iframe page's and the badge's #e6e6e6


def pixel(shot: Path, x: float, y: float) -> tuple[int, int, int]:
    with Image.open(shot) as image:
        return image.convert("RGB").getpixel((int(x), int(y)))


def row(shot: Path, y: float, x0: float, x1: float, *colours: tuple[int, int, int]) -> list[int]:
    """The x of every pixel of the screenshot's row y, between x0 and x1, in one of colours."""
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        return [
            x
            for x in range(int(x0), int(x1) + 1)
            if any(near(rgb.getpixel((x, int(y))), colour) for colour in colours)
        ]


def near(colour: tuple[int, int, int], expected: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def ink_centre(shot: Path, y: float, x0: float, x1: float) -> float:
    """The centre of the dark ink on row y (weighted by darkness: an edge may be anti-aliased),
    in pixel coordinates where pixel x spans x to x + 1."""
    with Image.open(shot) as image:
        grey = image.convert("L")
        ink = {x: 255 - grey.getpixel((x, int(y))) for x in range(int(x0), int(x1) + 1)}
    assert sum(ink.values()) > 255, "no ink on this row"
    return sum((x + 0.5) * v for x, v in ink.items()) / sum(ink.values())


def mark_share(shown: dict[str, Any]) -> float:
    """Where the mark's left edge sits along the bar, from 0 (start) to 1 (end)."""
    return (shown["mark"]["x"] - shown["bar"]["x"]) / shown["bar"]["width"]


def assert_clean(page: Any) -> None:
    assert page.evaluate("window.__csp") == []


def test_the_widget_marks_the_goal_reached_and_names_the_next(
    api: Any, host: Any, page: Any, campaign: Any, tmp_path: Path
) -> None:
    campaign("drive", goal=25_000, baseline=26_000, stretch_goals="30000,35000")
    campaign("plain", goal=25_000, baseline=12_000)
    campaign("exact", goal=25_000, baseline=30_000, stretch_goals="30000")
    body = snippet(api, "drive") + snippet(api, "plain") + snippet(api, "exact")
    page.goto(host.page("/stretch", body))
    for i in range(3):
        settled(page, i)
    shown = widget(page)
    assert shown["count"] == "26,000 out of 30,000"
    assert shown["message"] == "Goal of 25,000 reached! Next: 30,000"
    assert shown["aria"]["aria-valuemax"] == "30000"
    assert shown["aria"]["aria-valuenow"] == "26000"
    # The mark is inside the progressbar, so the value text names the goal reached too.
    assert shown["aria"]["aria-valuetext"] == (
        "26,000 members out of 30,000. Goal of 25,000 reached! Next: 30,000"
    )
    # The target's scale: filled to 26,000 of 30,000, the goal reached marked at 25,000.
    bar = shown["bar"]
    assert shown["fill"]["width"] == pytest.approx(bar["width"] * 26 / 30, abs=1)
    assert mark_share(shown) == pytest.approx(25 / 30, abs=1 / bar["width"])
    assert shown["mark"]["y"] == bar["y"] and shown["mark"]["height"] == bar["height"]
    # A mark changes nothing in the widget's height (same as a campaign without one).
    assert shown["widget"]["height"] == widget(page, 1)["widget"]["height"]
    assert "mark" not in json.dumps(widget(page, 1)["aria"])
    # No goal to mark: the mark is outside the bar, so hidden by its overflow. So too at exactly
    # the last goal, which says "reached".
    for i in (1, 2):
        assert widget(page, i)["mark"]["x"] + 3 <= widget(page, i)["bar"]["x"], i
    assert widget(page, 2)["message"] == "Goal reached — thank you!"

    shot = tmp_path / "widget-stretch.png"
    page.screenshot(path=str(shot))
    middle = bar["y"] + bar["height"] / 2
    mark_x = shown["mark"]["x"] + shown["mark"]["width"] / 2
    assert near(pixel(shot, mark_x, middle), WIDGET_MARK)
    assert near(pixel(shot, mark_x - 6, middle), FILL)
    assert near(pixel(shot, mark_x + 6, middle), FILL)  # 25,000 < 26,000: still filled
    assert near(pixel(shot, bar["x"] + bar["width"] * 0.95, middle), WIDGET_TRACK)
    assert_clean(page)


def test_past_the_last_goal_the_widget_runs_the_bar_to_its_end_and_marks_the_goal(
    api: Any, host: Any, page: Any, campaign: Any, tmp_path: Path
) -> None:
    campaign("drive", goal=25_000, baseline=31_250, stretch_goals="30000")
    page.goto(host.page("/past", snippet(api, "drive")))
    settled(page)
    shown = widget(page)
    assert shown["count"] == "31,250 out of 30,000"
    assert shown["message"] == "1,250 past the goal — thank you!"
    # The scale is the count, so aria-valuenow never exceeds aria-valuemax.
    assert shown["aria"]["aria-valuemax"] == shown["aria"]["aria-valuenow"] == "31250"
    assert shown["aria"]["aria-valuetext"].endswith(". 1,250 past the goal — thank you!")
    bar = shown["bar"]
    # Where the last goal was: 30,000 of 31,250 is 96% of the bar; the fill runs to the end.
    assert mark_share(shown) == pytest.approx(0.96, abs=1 / bar["width"])
    assert shown["fill"]["width"] >= bar["width"]

    shot = tmp_path / "widget-past.png"
    page.screenshot(path=str(shot))
    middle = bar["y"] + bar["height"] / 2
    mark_x = shown["mark"]["x"] + shown["mark"]["width"] / 2
    assert near(pixel(shot, mark_x, middle), WIDGET_MARK)
    assert near(pixel(shot, bar["x"] + bar["width"] - 8, middle), FILL)  # past the mark: filled
    assert near(pixel(shot, bar["x"] + bar["width"] * 0.5, middle), FILL)
    assert_clean(page)


def test_the_widget_says_it_in_ukrainian_and_mirrors_the_mark_right_to_left(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=26_000, stretch_goals="30000")
    body = f'<div dir="rtl">{snippet(api, "drive")}</div>'
    page.goto(host.page("/uk", body, lang="uk"))
    settled(page)
    shown = widget(page)
    assert shown["count"] == f"26{NBSP}000 з 30{NBSP}000"
    assert shown["message"] == f"Мету в 25{NBSP}000 досягнуто! Наступна мета — 30{NBSP}000"
    bar, mark = shown["bar"], shown["mark"]
    # Right to left the bar fills from the right: the mark's right edge sits 25/30 from it.
    from_right = (bar["x"] + bar["width"] - (mark["x"] + mark["width"])) / bar["width"]
    assert from_right == pytest.approx(25 / 30, abs=1 / bar["width"])
    assert shown["fill"]["x"] + shown["fill"]["width"] == pytest.approx(bar["x"] + bar["width"])


def test_an_answer_without_goals_is_read_as_one_goal(
    api: Any, host: Any, page: Any, campaign: Any, app: Any
) -> None:
    # A cached answer from before stretch goals: no `goals`, and words without next or past.
    campaign("drive", goal=25_000, baseline=26_000)
    old = app.test_client().get("/api/campaigns/drive").get_json()
    old.pop("goals", None)
    for words in old["words"].values():
        words.pop("next", None)
        words.pop("past", None)
    host.pages["/api/campaigns/old"] = (json.dumps(old), {"Content-Type": "application/json"})
    page.goto(host.page("/old", snippet(api, "old", f' api="{host.origin}/"')))
    settled(page)
    shown = widget(page)
    assert shown["count"] == "26,000 out of 25,000"
    assert shown["message"] == "Goal reached — thank you!"  # its own words: no "past" to say
    assert mark_share(shown) == pytest.approx(25 / 26, abs=1 / shown["bar"]["width"])
    assert_clean(page)


def test_the_iframe_page_and_the_badge_mark_the_goal_reached(
    api: Any, host: Any, page: Any, campaign: Any, tmp_path: Path
) -> None:
    campaign("drive", goal=25_000, baseline=26_000, stretch_goals="30000,35000")
    body = (
        f'<iframe src="{api.origin}/embed/drive?lang=uk" title="Membership drive" width="600" '
        'height="260"></iframe>'
        f'<iframe src="{api.origin}/embed/drive" title="Membership drive" width="600" '
        'height="260"></iframe>'
        f'<img src="{api.origin}/api/campaigns/drive/badge.svg" alt="" width="400" height="92">'
    )
    csp = (
        f"default-src 'none'; style-src 'self'; frame-src {api.origin}; img-src {api.origin}; "
        f"script-src {api.origin}"
    )
    page.goto(host.page("/frames", body, csp=csp))
    ukrainian, english = page.frame_locator("iframe").nth(0), page.frame_locator("iframe").nth(1)
    assert ukrainian.locator(".message").text_content() == (
        f"Мету в 25{NBSP}000 досягнуто! Наступна мета — 30{NBSP}000"
    )
    assert english.locator(".message").text_content() == "Goal of 25,000 reached! Next: 30,000"
    progress = english.get_by_role("progressbar", name="Membership drive")
    assert progress.get_attribute("max") == "30000"
    bar = english.locator("progress").bounding_box()
    mark = english.locator(".mark").bounding_box()
    assert (mark["x"] - bar["x"]) / bar["width"] == pytest.approx(25 / 30, abs=1 / bar["width"])
    assert mark["y"] == bar["y"]

    page.wait_for_function("() => document.querySelector('img').complete")
    badge = page.locator("img").bounding_box()
    shot = tmp_path / "embeds-stretch.png"
    page.screenshot(path=str(shot), full_page=True)
    # In the screenshot, along the middle of the iframe's bar: the bar's pixels (fill, mark,
    # track) and, among them, the mark's 3 pixels at 25/30 of the bar and the fill up to 26/30.
    middle = bar["y"] + bar["height"] / 2
    span = (bar["x"] - 8, bar["x"] + bar["width"] + 8)
    drawn = row(shot, middle, *span, FILL, WIDGET_MARK, EMBED_TRACK)
    start, width = drawn[0], drawn[-1] - drawn[0] + 1
    assert width == pytest.approx(bar["width"], abs=1)
    marked = row(shot, middle, *span, WIDGET_MARK)
    assert len(marked) == 3 and marked[-1] - marked[0] == 2
    assert (marked[0] - start) / width == pytest.approx(25 / 30, abs=1.5 / width)
    filled = row(shot, middle, *span, FILL, WIDGET_MARK)
    assert (filled[-1] + 1 - start) / width == pytest.approx(26 / 30, abs=1.5 / width)
    # The badge: its bar is 368 wide from x 16 (y 68 to 78); its dark mark stands out above
    # it, centred on 25/30 of the bar, and the fill reaches 26/30.
    left = badge["x"] + 16
    assert (ink_centre(shot, badge["y"] + 66, left, left + 368) - left) / 368 == (
        pytest.approx(25 / 30, abs=1 / 368)
    )
    filled = row(shot, badge["y"] + 73, badge["x"], badge["x"] + 400, FILL, BADGE_MARK)
    assert (filled[-1] + 1 - left) / 368 == pytest.approx(26 / 30, abs=1.5 / 368)
    assert_clean(page)


def test_a_forced_colours_reader_still_sees_the_mark_on_the_fill(
    api: Any, host: Any, page: Any, campaign: Any, tmp_path: Path
) -> None:
    campaign("drive", goal=25_000, baseline=26_000, stretch_goals="30000")
    page.emulate_media(forced_colors="active")
    page.goto(host.page("/hc", snippet(api, "drive")))
    settled(page)
    shown = widget(page)
    shot = tmp_path / "widget-forced-colours.png"
    page.screenshot(path=str(shot))
    middle = shown["bar"]["y"] + shown["bar"]["height"] / 2
    mark_x = shown["mark"]["x"] + shown["mark"]["width"] / 2
    on_mark, on_fill = pixel(shot, mark_x, middle), pixel(shot, mark_x - 6, middle)
    assert sum(abs(a - b) for a, b in zip(on_mark, on_fill, strict=True)) > 200

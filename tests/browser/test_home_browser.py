"""The home page in Chromium: the real widget shows each campaign's count under the page's CSP."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def context_options() -> dict[str, Any]:
    # Tall enough that both bars are seen, so both grow (a bar grows once a reader sees it).
    return {"viewport": {"width": 800, "height": 1300}}


def count_line(page: Any, index: int) -> str:
    return page.evaluate(
        "(i) => document.querySelectorAll('membership-progress')[i]"
        ".shadowRoot.querySelector('.count').textContent",
        index,
    )


def test_the_home_page_shows_the_live_count_of_every_campaign(
    api: Any, page: Any, campaign: Any, artifacts: Any
) -> None:
    campaign(
        "members",
        goal=25_000,
        baseline=12_345,
        title="Membership drive 2026",
        headline="Quality journalism takes work — and a community that cares.",
        message="Help us reach 25,000 members by the end of 2026.",
    )
    campaign(
        "kampaniia",
        goal=1_000,
        baseline=421,
        title="Членська кампанія",
        headline="Незалежна журналістика тримається на читачах.",
        message="Допоможіть нам зібрати 1 000 членів.",
        cta_label="Стати членом",
        locale="uk",
    )
    page.goto(api.origin + "/")
    for i in range(2):
        page.wait_for_function(
            "(i) => document.querySelectorAll('membership-progress')[i]"
            ".shadowRoot.querySelector('.widget.active')",
            arg=i,
        )
    # Sorted by slug: kampaniia, then members; each in its campaign's language.
    assert count_line(page, 0) == "421 з 1\u00a0000"
    assert count_line(page, 1) == "12,345 out of 25,000"
    # The page's own CSP (script, figures, stylesheet by hash) let everything through.
    assert page.evaluate("window.__csp") == []
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []
    # The page reserves the widget's height: nothing moved when the figures arrived.
    assert page.evaluate("window.__shifts") == []
    # Only the API was asked, once per campaign: the page itself carries no figures.
    assert api.controls.hits == {"/api/campaigns/kampaniia": 1, "/api/campaigns/members": 1}
    # Both bars grew (each reader-visible widget says so once), then stopped moving.
    page.wait_for_function(
        "() => window.__events.filter(e => e.type === 'membership-progress:shown').length === 2"
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('membership-progress')].every(el =>"
        " !el.shadowRoot.querySelector('.fill').getAnimations().length)"
    )
    page.screenshot(path=str(artifacts / "home.png"), full_page=True)


def test_without_javascript_the_home_page_shows_the_badge(
    api: Any, browser: Any, campaign: Any
) -> None:
    campaign("members", goal=25_000, baseline=12_345, title="Membership drive 2026")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(api.origin + "/")
        badge = page.locator("membership-progress img")
        badge.wait_for()
        assert badge.get_attribute("src") == "/api/campaigns/members/badge.svg"
        # The image really loaded (img-src 'self' allows it) and has the badge's size.
        page.wait_for_function("() => document.querySelector('membership-progress img').complete")
        assert page.evaluate("document.querySelector('membership-progress img').naturalWidth") > 0
        assert badge.bounding_box()["height"] == 92
    finally:
        context.close()

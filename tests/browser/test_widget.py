"""The widget on a publisher's page: another origin, a strict CSP, the real app behind it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

NBSP = "\u00a0"
pytestmark = pytest.mark.slow

ARTICLE = "".join(
    f"<p>Paragraph {i} of the article. The council met on Tuesday to discuss the budget, and "
    "residents asked why the library closes early on weekdays. The answer, it turns out, has a "
    "long history that begins with a 1998 funding decision nobody now remembers.</p>"
    for i in range(40)
)


def snippet(api: Any, slug: str = "drive", attrs: str = "", inner: str = "") -> str:
    """The public snippet, exactly as a publisher pastes it."""
    return (
        f'<script src="{api.origin}/widget.js" async></script>'
        f'<membership-progress campaign="{slug}"{attrs}>{inner}</membership-progress>'
    )


def shadow(page: Any, part: str, index: int = 0) -> Any:
    """textContent of a part inside the index-th widget's shadow root."""
    return page.evaluate(
        "([part, i]) => document.querySelectorAll('membership-progress')[i]"
        ".shadowRoot.querySelector('.' + part).textContent",
        [part, index],
    )


def wait_for_state(page: Any, state: str, index: int = 0) -> None:
    page.wait_for_function(
        "([state, i]) => { const el = document.querySelectorAll('membership-progress')[i];"
        " return el && el.shadowRoot && el.shadowRoot.querySelector('.widget.' + state) }",
        arg=[state, index],
    )


def bar_attributes(page: Any, index: int = 0) -> dict[str, str]:
    return page.evaluate(
        "(i) => Object.fromEntries([...document.querySelectorAll('membership-progress')[i]"
        ".shadowRoot.querySelector('[role=progressbar]').attributes].map(a => [a.name, a.value]))",
        index,
    )


def assert_clean(page: Any) -> None:
    assert page.evaluate("window.__csp") == []
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []


def test_it_shows_the_real_numbers_on_a_strict_csp_page(
    api: Any, host: Any, page: Any, campaign: Any, artifacts: Any
) -> None:
    campaign(
        "drive",
        goal=25_000,
        baseline=12_345,
        title="Membership drive 2025",
        headline="Quality journalism takes work — and a community that cares.",
        message="Help us reach 25,000 members by the end of 2025.",
    )
    url = host.page("/article", "<h1>Council budget</h1><p>Story.</p>" + snippet(api))
    page.goto(url)
    wait_for_state(page, "active")

    assert shadow(page, "count") == "12,345 out of 25,000"
    assert shadow(page, "headline") == "Quality journalism takes work — and a community that cares."
    assert shadow(page, "message") == "Help us reach 25,000 members by the end of 2025."
    assert shadow(page, "cta") == "Become a member"
    cta = page.locator("membership-progress .cta")
    assert cta.get_attribute("href") == "https://news.example/join"
    bar = bar_attributes(page)
    assert bar["role"] == "progressbar"
    assert bar["aria-valuemin"] == "0"
    assert bar["aria-valuemax"] == "25000"
    assert bar["aria-valuenow"] == "12345"
    assert bar["aria-valuetext"] == "12,345 members out of 25,000"
    assert bar["aria-label"] == "Membership drive 2025"
    # The accessibility tree agrees (name and value as a screen reader gets them).
    progressbar = page.get_by_role("progressbar", name="Membership drive 2025")
    assert progressbar.get_attribute("aria-valuenow") == "12345"

    page.wait_for_function(
        "() => window.__events.some(e => e.type === 'membership-progress:shown')"
    )
    shown = page.evaluate("window.__events.find(e => e.type === 'membership-progress:shown')")
    # The detail is the campaign's public JSON (a copy), so analytics gets slug, count and goal.
    detail = shown["detail"]
    assert {k: detail[k] for k in ("slug", "count", "goal", "status")} == {
        "slug": "drive",
        "count": 12345,
        "goal": 25000,
        "status": "active",
    }
    assert_clean(page)
    # The artefact shows the bar in place, after it has grown.
    page.wait_for_function(
        "() => !document.querySelector('membership-progress').shadowRoot"
        ".querySelector('.fill').getAnimations().length"
    )
    page.locator("membership-progress").screenshot(path=str(artifacts / "widget.png"))


def test_it_formats_numbers_and_words_in_ukrainian(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    campaign("tiny", goal=1_000, baseline=21)
    body = snippet(api) + snippet(api, "tiny") + snippet(api, "drive", ' lang="en"')
    page.goto(host.page("/uk", body, lang="uk"))
    for i in range(3):
        wait_for_state(page, "active", i)

    # Chromium's Intl groups Ukrainian digits with U+00A0 NO-BREAK SPACE.
    assert shadow(page, "count", 0) == f"12{NBSP}345 з 25{NBSP}000"
    assert bar_attributes(page, 0)["aria-valuetext"] == f"12{NBSP}345 учасників з 25{NBSP}000"
    assert bar_attributes(page, 1)["aria-valuetext"] == f"21 учасник з 1{NBSP}000"
    # The element's own lang wins over the page's.
    assert shadow(page, "count", 2) == "12,345 out of 25,000"
    assert_clean(page)


def test_it_shows_the_campaigns_own_words_in_the_readers_language(
    api: Any, host: Any, page: Any, campaign: Any, app: Any
) -> None:
    from membership.campaigns.settings import get_campaign, set_copy
    from membership.database import db

    campaign("drive", goal=25_000, baseline=12_345)
    with app.app_context():
        set_copy(
            db.session,
            get_campaign(db.session, "drive"),
            "uk",
            headline="Якісна журналістика потребує праці",
            message="Допоможіть нам",
            cta_label="Стати членом",
        )
    body = snippet(api) + snippet(api, "drive", ' lang="en"')
    page.goto(host.page("/copy", body, lang="uk"))
    wait_for_state(page, "active", 0)
    wait_for_state(page, "active", 1)
    assert shadow(page, "headline", 0) == "Якісна журналістика потребує праці"
    assert shadow(page, "message", 0) == "Допоможіть нам"
    assert shadow(page, "cta", 0) == "Стати членом"
    # English readers get the campaign's own words.
    assert shadow(page, "headline", 1) == "Quality journalism takes work."
    assert_clean(page)


def test_the_campaign_locale_applies_when_the_page_has_no_lang(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=22, locale="uk")
    page.goto(host.page("/nolang", snippet(api), lang=""))
    wait_for_state(page, "active")
    assert shadow(page, "count") == f"22 з 25{NBSP}000"
    assert bar_attributes(page)["aria-valuetext"] == f"22 учасники з 25{NBSP}000"


def test_slow_data_at_the_end_of_an_article_shifts_nothing(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    api.controls.delay = 0.5
    body = (
        f"<h1>Council budget</h1>{ARTICLE}{snippet(api)}"
        "<footer>© The Daily Example. Corrections: desk@news.example</footer>"
    )
    page.goto(host.page("/long", body))
    page.wait_for_function("() => !!customElements.get('membership-progress')")
    # Far below the fold nothing is fetched yet.
    assert api.controls.hits["/api/campaigns/drive"] == 0
    widget = page.locator("membership-progress")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    wait_for_state(page, "loading")
    loading_box = widget.bounding_box()
    # The height docs/embedding.md tells publishers to reserve: 15em + 2px of the widget's font.
    font_size = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('membership-progress')).fontSize)"
    )
    assert loading_box["height"] == pytest.approx(15 * font_size + 2, abs=0.5)
    # Even before its numbers arrive, the bar has an accessible name.
    assert bar_attributes(page)["aria-label"] == "Membership drive"
    # The skeleton shows no digits at all: never a "0" that is not the real count.
    loading_text = page.evaluate(
        "document.querySelector('membership-progress').shadowRoot.textContent"
    )
    assert not any(ch.isdigit() for ch in loading_text)

    wait_for_state(page, "active")
    page.wait_for_function("() => window.__events.length > 0")  # shown: data landed in view
    assert widget.bounding_box() == loading_box
    assert page.evaluate("window.__shifts") == []
    assert api.controls.hits["/api/campaigns/drive"] == 1
    assert_clean(page)


@pytest.mark.parametrize("context_options", [{"reduced_motion": "reduce"}])
def test_the_bar_is_in_place_at_once_under_reduced_motion(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("drive", goal=1_000, baseline=500)
    page.goto(host.page("/calm", snippet(api)))
    page.wait_for_function("() => window.__events.length > 0")
    fill = page.evaluate(
        "(() => { const f = document.querySelector('membership-progress').shadowRoot"
        ".querySelector('.fill');"
        " return [f.getBoundingClientRect().width / f.parentNode.getBoundingClientRect().width,"
        " f.getAnimations().length] })()"
    )
    assert fill == [0.5, 0]


def test_the_bar_grows_into_place_when_seen(api: Any, host: Any, page: Any, campaign: Any) -> None:
    campaign("drive", goal=1_000, baseline=500)
    page.goto(host.page("/motion", snippet(api)))
    page.wait_for_function("() => window.__events.length > 0")
    transitions = page.evaluate(
        "document.querySelector('membership-progress').shadowRoot.querySelector('.fill')"
        ".getAnimations().map(a => a.transitionProperty)"
    )
    assert transitions == ["width"]


def test_it_says_when_the_goal_is_reached_or_the_drive_has_ended(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("won", goal=25_000, baseline=25_000)
    campaign(
        "over",
        goal=25_000,
        baseline=20_000,
        starts_on=date(2020, 1, 1),
        deadline=date(2020, 12, 31),
    )
    page.goto(host.page("/states", snippet(api, "won") + snippet(api, "over")))
    wait_for_state(page, "reached", 0)
    wait_for_state(page, "ended", 1)
    assert shadow(page, "count", 0) == "25,000 out of 25,000"
    assert shadow(page, "message", 0) == "Goal reached — thank you!"
    assert bar_attributes(page, 0)["aria-valuenow"] == "25000"
    # (Past the goal it says by how much: tests/browser/test_goal_marks.py.)
    assert shadow(page, "count", 1) == "20,000 out of 25,000"
    assert shadow(page, "message", 1) == "This drive has ended. Thank you!"


def test_an_unavailable_api_shows_the_fallback_or_nothing_never_a_zero(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    api.controls.status = 503
    fallback = '<a href="https://news.example/join">Support our journalism</a>'
    page.goto(host.page("/down", snippet(api, inner=fallback) + snippet(api)))
    wait_for_state(page, "error", 0)
    wait_for_state(page, "error", 1)

    visible = page.evaluate("document.body.innerText")
    assert "Support our journalism" in visible
    for bad in ("0", "NaN", "undefined"):
        assert bad not in visible
    # Without fallback content the element takes no room at all.
    assert page.locator("membership-progress").nth(1).bounding_box()["height"] == 0
    assert api.controls.hits["/api/campaigns/drive"] == 1
    assert_clean(page)


def test_an_unknown_campaign_hides_the_widget(api: Any, host: Any, page: Any) -> None:
    page.goto(host.page("/unknown", snippet(api, "no-such-drive")))
    wait_for_state(page, "error")
    assert "0" not in page.evaluate("document.body.innerText")


def test_two_widgets_for_one_campaign_make_one_request(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    api.controls.delay = 0.2
    requests: list[str] = []
    page.on("request", lambda r: "/api/campaigns/" in r.url and requests.append(r.url))
    page.goto(host.page("/twice", snippet(api) + "<p>Text.</p>" + snippet(api)))
    wait_for_state(page, "active", 0)
    wait_for_state(page, "active", 1)
    assert requests == [f"{api.origin}/api/campaigns/drive"]
    assert api.controls.hits["/api/campaigns/drive"] == 1


def test_the_request_is_simple_and_sends_no_cookies(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=1)
    page.context.add_cookies([{"name": "session", "value": "secret", "url": api.origin}])
    seen: list[dict[str, str]] = []
    page.on("request", lambda r: "/api/campaigns/" in r.url and seen.append(r.all_headers()))
    page.goto(host.page("/simple", snippet(api)))
    wait_for_state(page, "active")
    assert len(seen) == 1  # no OPTIONS preflight
    assert "cookie" not in {name.lower() for name in seen[0]}


def test_removing_the_last_element_mid_flight_aborts_the_request(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    api.controls.delay = 1.5
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.failure or ""))
    with page.expect_request(lambda r: "/api/campaigns/drive" in r.url):
        page.goto(host.page("/spa", snippet(api) + snippet(api)))
    # One of the two waiting elements goes: the other still wants the answer.
    page.evaluate("document.querySelector('membership-progress').remove()")
    page.evaluate("() => new Promise(requestAnimationFrame)")  # let the microtask queue drain
    assert failed == []
    # The last one goes: nobody waits any more, so the request stops.
    with page.expect_event("requestfailed"):
        page.evaluate("document.querySelector('membership-progress').remove()")
    assert failed == ["net::ERR_ABORTED"]


def test_moving_an_element_keeps_its_request(api: Any, host: Any, page: Any, campaign: Any) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    api.controls.delay = 0.5
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.failure or ""))
    with page.expect_request(lambda r: "/api/campaigns/drive" in r.url):
        page.goto(host.page("/move", "<aside id=side></aside>" + snippet(api)))
    # An SPA re-parents the widget (a disconnect and a connect in one task).
    page.evaluate(
        "document.getElementById('side').append(document.querySelector('membership-progress'))"
    )
    wait_for_state(page, "active")
    assert failed == []
    assert api.controls.hits["/api/campaigns/drive"] == 1


def test_single_page_apps_can_add_change_and_upgrade_widgets(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    campaign("other", goal=100, baseline=7)
    # A CMS that strips unknown tags: the div form, with server-rendered fallback inside.
    body = (
        f'<script src="{api.origin}/widget.js" async></script>'
        f'<script src="{api.origin}/widget.js" async></script>'  # loaded twice: harmless
        '<div id="cms" data-membership-campaign="drive"><p>12,345 members so far</p></div>'
    )
    page.goto(host.page("/cms", body))
    wait_for_state(page, "active", 0)
    assert shadow(page, "count", 0) == "12,345 out of 25,000"
    # The fallback moved inside the element and stays out of sight while the data shows.
    assert page.locator("#cms membership-progress > p").count() == 1
    assert page.locator("#cms membership-progress > p").is_visible() is False

    # Later, the app changes which campaign the div shows, and adds an element of its own.
    page.evaluate("document.getElementById('cms').dataset.membershipCampaign = 'other'")
    page.wait_for_function(
        "() => document.querySelector('membership-progress').shadowRoot"
        ".querySelector('.count').textContent === '7 out of 100'"
    )
    page.evaluate(
        "(() => { const el = document.createElement('membership-progress');"
        " el.setAttribute('campaign', 'drive'); el.lang = 'uk'; document.body.append(el) })()"
    )
    wait_for_state(page, "active", 1)
    assert shadow(page, "count", 1) == f"12{NBSP}345 з 25{NBSP}000"
    page.evaluate("document.querySelectorAll('membership-progress')[1].lang = 'en'")
    assert shadow(page, "count", 1) == "12,345 out of 25,000"
    assert page.evaluate("window.__csp") == []


def test_the_call_to_action_announces_itself(api: Any, host: Any, page: Any, campaign: Any) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    page.goto(host.page("/cta", snippet(api)))
    wait_for_state(page, "active")
    page.evaluate("window.__preventCta = true")  # the newsroom opens its own checkout
    page.locator("membership-progress .cta").click()
    clicks = page.evaluate(
        "window.__events.filter(e => e.type === 'membership-progress:cta-click')"
        ".map(e => [e.detail.slug, e.detail.count, e.detail.goal])"
    )
    assert clicks == [["drive", 12345, 25000]]
    assert page.url.endswith("/cta")  # preventDefault() kept the reader on the page


def test_a_forced_colours_reader_still_sees_the_bar(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("drive", goal=1_000, baseline=500)
    page.emulate_media(forced_colors="active")
    page.goto(host.page("/hc", snippet(api)))
    page.wait_for_function("() => window.__events.length > 0")
    background = page.evaluate(
        "getComputedStyle(document.querySelector('membership-progress').shadowRoot"
        ".querySelector('.fill')).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")


def test_the_demo_article_works_as_a_publisher_would_paste_it(
    api: Any, host: Any, page: Any, campaign: Any, artifacts: Any
) -> None:
    from pathlib import Path

    demo = Path(__file__).resolve().parents[2] / "demo"
    campaign(
        "members",
        goal=25_000,
        baseline=12_345,
        headline="Quality journalism takes work — and a community that cares.",
        message="Help us reach 25,000 members by the end of 2025.",
    )
    # The demo names the service as `make run` serves it; point it at this test's server.
    html = (demo / "article.html").read_text(encoding="utf-8")
    host.pages["/demo/article.html"] = (html.replace("http://127.0.0.1:5000", api.origin), {})
    host.pages["/demo/article.css"] = (
        (demo / "article.css").read_text(encoding="utf-8"),
        {"Content-Type": "text/css"},
    )
    page.goto(host.origin + "/demo/article.html")
    page.locator("membership-progress").scroll_into_view_if_needed()
    wait_for_state(page, "active")
    assert shadow(page, "count") == "12,345 out of 25,000"
    assert page.frame_locator("iframe").locator(".count").text_content() == (
        f"12{NBSP}345 з 25{NBSP}000"
    )
    page.wait_for_function("() => window.__events.length > 0")
    assert page.evaluate("window.__shifts") == []
    assert_clean(page)
    page.screenshot(path=str(artifacts / "demo.png"), full_page=True)


# Counts the widget's fetches inside the page (before its scripts run), so tests can tell "no
# request" from "a request not seen yet" without waiting on the wall clock.
COUNT_FETCHES = """
window.__fetches = 0;
const realFetch = window.fetch;
window.fetch = (...args) => { window.__fetches++; return realFetch(...args); };
"""
# document.hidden as the widget reads it; visibilityState follows, as in a real tab.
SET_HIDDEN = """(hidden) => {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(document, 'visibilityState', {
    configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_it_refreshes_every_60_to_90_seconds_only_while_the_page_is_visible(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    from membership.campaigns import settings as campaigns
    from membership.database import db

    campaign("drive", goal=25_000, baseline=12_345)
    # The browser's HTTP cache runs on the real clock: make every refresh reach the server.
    api.app.config.update(PROGRESS_MAX_AGE=0, PROGRESS_STALE_WHILE_REVALIDATE=0)
    page.add_init_script(COUNT_FETCHES)
    # The page's timers run on Playwright's fake clock: minutes pass in no time, in steps we choose.
    page.clock.install()
    page.goto(host.page("/refresh", snippet(api)))
    wait_for_state(page, "active")
    assert page.evaluate("window.__fetches") == 1
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)  # Python counts in seconds

    # Not before 60 s: the jitter only ever adds time.
    page.clock.run_for(58_000)
    assert page.evaluate("window.__fetches") == 1

    # By 90 s, exactly one refresh, and the new count shows.
    with api.app.app_context():
        campaigns.update_campaign(db.session, "drive", baseline=12_346)
    page.clock.run_for(32_000)
    assert page.evaluate("window.__fetches") == 2
    page.wait_for_function(
        "() => document.querySelector('membership-progress').shadowRoot"
        ".querySelector('.count').textContent === '12,346 out of 25,000'",
        polling=50,  # the default polls on animation frames, which the paused clock holds back
    )
    assert api.controls.hits["/api/campaigns/drive"] == 2

    # A hidden page asks for nothing, however long it stays hidden.
    page.evaluate(SET_HIDDEN, True)
    for _ in range(4):
        page.clock.run_for(90_000)
    assert page.evaluate("window.__fetches") == 2

    # Visible again: the refreshes resume, still at most one per 60–90 s.
    page.evaluate(SET_HIDDEN, False)
    page.clock.run_for(90_000)
    assert page.evaluate("window.__fetches") == 3
    assert shadow(page, "count") == "12,346 out of 25,000"
    assert_clean(page)


@pytest.mark.parametrize("context_options", [{"color_scheme": "dark"}])
def test_it_follows_a_dark_host_page(api: Any, host: Any, page: Any, campaign: Any) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    # A dark theme the way publishers write it: in their own stylesheet, for prefers-color-scheme.
    host.pages["/dark.css"] = (
        "@media (prefers-color-scheme: dark) { body { background: #121212; color: #eee; } }",
        {"Content-Type": "text/css"},
    )
    body = '<link rel="stylesheet" href="/dark.css">' + snippet(api)
    page.goto(host.page("/dark", body))
    wait_for_state(page, "active")
    colours = page.evaluate(
        "(() => { const root = document.querySelector('membership-progress').shadowRoot;"
        " const css = (sel, prop) => getComputedStyle(root.querySelector(sel))[prop];"
        " return [css('.count', 'color'), css('.cta', 'color'),"
        " css('.bar', 'backgroundColor')] })()"
    )
    # The text takes the page's light colour; the button keeps its contrast; the track is a
    # translucent grey that shows on dark and light pages alike.
    assert colours == ["rgb(238, 238, 238)", "rgb(255, 255, 255)", "rgba(136, 136, 136, 0.267)"]
    assert_clean(page)

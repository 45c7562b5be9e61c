"""The no-JavaScript surfaces in Chromium: the iframe page and the badge on a publisher's page."""

from __future__ import annotations

from typing import Any

import pytest

from membership import i18n

NBSP = "\u00a0"
pytestmark = pytest.mark.slow

LISTEN = """
window.__messages = [];
addEventListener('message', (e) => window.__messages.push({ origin: e.origin, data: e.data }));
"""


def embeds(api: Any, slug: str = "drive", query: str = "") -> str:
    return (
        f'<iframe src="{api.origin}/embed/{slug}{query}" title="Membership drive" width="100%" '
        f'height="260" data-membership-embed></iframe>'
        f'<img src="{api.origin}/api/campaigns/{slug}/badge.svg{query}" '
        'alt="Membership drive progress" width="400" height="92">'
    )


def framing_csp(api: Any) -> str:
    return (
        f"default-src 'none'; style-src 'self'; frame-src {api.origin}; img-src {api.origin}; "
        f"script-src {api.origin}"
    )


@pytest.mark.parametrize("context_options", [{"java_script_enabled": False}])
def test_the_iframe_and_the_badge_show_the_numbers_with_javascript_off(
    api: Any, host: Any, page: Any, campaign: Any, artifacts: Any
) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    page.goto(host.page("/nojs", embeds(api, query="?lang=uk"), lang="uk", csp=framing_csp(api)))
    frame = page.frame_locator("iframe")
    assert frame.locator(".count").text_content() == f"12{NBSP}345 з 25{NBSP}000"
    # A native <progress>: the browser exposes value and max as the bar's ARIA values.
    assert frame.get_by_role("progressbar", name="Membership drive").get_attribute("value") == (
        "12345"
    )
    assert frame.locator(".cta").get_attribute("href") == "https://news.example/join"
    badge = page.locator("img")
    page.wait_for_function("() => document.querySelector('img').complete")
    assert page.evaluate("document.querySelector('img').naturalWidth") == 400
    page.locator("iframe").screenshot(path=str(artifacts / "embed.png"))
    badge.screenshot(path=str(artifacts / "badge.png"))


def test_the_iframe_tells_the_parent_its_height_without_a_violation(
    api: Any, host: Any, page: Any, campaign: Any
) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    page.add_init_script(LISTEN)
    resizer = f'<script src="{api.origin}/embed-resize.js" async></script>'
    page.goto(host.page("/framed", embeds(api) + resizer, csp=framing_csp(api)))
    frame = page.frame_locator("iframe")
    assert frame.locator(".count").text_content() == "12,345 out of 25,000"
    content = page.frames[1]
    # The page reports again whenever its height changes; the latest report is what counts.
    page.wait_for_function(
        "(height) => window.__messages.filter(m => m.data.type === 'membership-progress:height')"
        ".some(m => m.data.height === height)",
        arg=content.evaluate("Math.ceil(document.documentElement.getBoundingClientRect().height)"),
    )
    message = page.evaluate("window.__messages.at(-1)")
    assert message["origin"] == api.origin
    assert message["data"]["campaign"] == "drive"
    frame = content
    # The same script on the publisher's page sizes the iframe to fit, no scrollbar, no inline JS.
    page.wait_for_function(
        "(height) => document.querySelector('iframe').height === String(height)",
        arg=message["data"]["height"],
    )
    assert frame.evaluate("window.__csp") == []
    assert page.evaluate("window.__csp") == []


def test_server_formatting_agrees_with_chromium_intl(page: Any) -> None:
    numbers = [
        0,
        1,
        2,
        4,
        5,
        11,
        12,
        21,
        22,
        25,
        101,
        111,
        999,
        1_000,
        1_234,
        12_345,
        25_000,
        100_000,
        1_234_567,
        1_000_000_000,
    ]
    for lang in i18n.LANGUAGES:
        browser = page.evaluate(
            "([lang, ns]) => ns.map(n => [new Intl.NumberFormat(lang).format(n),"
            " new Intl.PluralRules(lang).select(n)])",
            [lang, numbers],
        )
        server = [[i18n.format_number(n, lang), i18n.plural_category(n, lang)] for n in numbers]
        assert server == browser, lang


@pytest.mark.parametrize(
    "context_options", [{"color_scheme": "dark", "java_script_enabled": False}]
)
def test_the_iframe_has_a_dark_mode(
    api: Any, host: Any, page: Any, campaign: Any, artifacts: Any
) -> None:
    campaign("drive", goal=25_000, baseline=12_345)
    page.goto(host.page("/dark", embeds(api), csp=framing_csp(api)))
    frame = page.frame_locator("iframe")
    assert frame.locator(".count").text_content() == "12,345 out of 25,000"
    colours = frame.locator("html").evaluate(
        "(html) => [getComputedStyle(html).color, getComputedStyle(html).backgroundColor]"
    )
    # Light text on an opaque dark card, so it reads on any page around the iframe.
    assert colours == ["rgb(236, 236, 236)", "rgb(28, 28, 28)"]
    page.locator("iframe").screenshot(path=str(artifacts / "embed-dark.png"))

"""The share card: GET /share/<slug> (Open Graph and Twitter tags, on to the CTA) and its PNG;
and the admin's email and share snippets that point at them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient
from PIL import Image, ImageChops
from sqlalchemy import update

from membership import create_app
from membership.campaigns import picture
from membership.campaigns.adjustments import add_adjustment
from membership.campaigns.settings import create_campaign, get_campaign
from membership.database import db
from membership.models import Campaign, utcnow
from membership.web import images
from tests.conftest import SECRET

PUBLIC = "https://members.example.org"
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def nothing_drawn_yet() -> None:
    images._drawn.cache_clear()


@pytest.fixture
def public_app(db_url: str) -> Iterator[Flask]:
    """The service as deployed at PUBLIC, which every absolute address must start with."""
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "TESTING": True,
            "PROGRESS_CACHE_SECONDS": 0,
            "STRIPE_WEBHOOK_SECRETS": (SECRET,),
            "ENVIRON": {"PUBLIC_URL": PUBLIC},
        }
    )
    with app.app_context():
        create_campaign(
            db.session,
            "drive",
            25_000,
            title="Membership drive 2026",
            baseline=12_345,
            headline="Quality journalism takes work.",
            message="Help us reach 25,000 members.",
            cta_label="Become a member",
            cta_url="https://news.example/join?from=share",
        )
    yield app
    app.extensions["database.engine"].dispose()


@pytest.fixture
def web(public_app: Flask) -> FlaskClient:
    return public_app.test_client()


class Page(HTMLParser):
    """The tags a link preview and a browser read: metas, links, images, anchors, scripts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.refresh: list[str] = []
        self.links: list[tuple[str, str]] = []
        self.anchors: list[str] = []
        self.images: list[dict[str, str]] = []
        self.scripts = 0
        self.html_lang = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.html_lang = found.get("lang", "")
        elif tag == "meta" and found.get("http-equiv", "").lower() == "refresh":
            self.refresh.append(found["content"])
        elif tag == "meta" and ("property" in found or "name" in found):
            key = found.get("property") or found["name"]
            assert key not in self.meta, f"{key} twice"
            self.meta[key] = found["content"]
        elif tag == "link":
            self.links.append((found.get("rel", ""), found.get("href", "")))
        elif tag == "a":
            self.anchors.append(found.get("href", ""))
        elif tag == "img":
            self.images.append(found)
        elif tag == "script":
            self.scripts += 1


def page(client: FlaskClient, path: str = "/share/drive") -> Page:
    response = client.get(path)
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    return Page(response.get_data(as_text=True))


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()
    return image.convert("RGB")


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a, b).getbbox() is None


def fetched(client: FlaskClient, url: str) -> Image.Image:
    """An absolute URL of this service, fetched as the network's crawler would."""
    assert url.startswith(PUBLIC + "/")
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    return decoded(response.data)


def fill_end(image: Image.Image) -> int:
    x, y, width, height = picture.SHARE_BAR
    row = [image.getpixel((x + i, y + height // 2)) for i in range(width)]
    return sum(1 for pixel in row if pixel == picture.FILL)


def test_the_page_has_open_graph_tags_for_its_card(web: FlaskClient) -> None:
    tags = page(web).meta
    assert tags["og:type"] == "website"
    assert tags["og:title"] == "Membership drive 2026"
    assert tags["og:description"] == (
        "12,345 members out of 25,000 — Quality journalism takes work."
    )
    assert tags["og:url"] == f"{PUBLIC}/share/drive"
    image = urlsplit(tags["og:image"])
    assert f"{image.scheme}://{image.netloc}{image.path}" == f"{PUBLIC}/share/drive.png"
    assert parse_qs(image.query)["lang"] == ["en"]
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert tags["og:image:type"] == "image/png"
    assert tags["og:image:alt"] == "Membership drive 2026: 12,345 members out of 25,000"


def test_the_page_has_a_large_twitter_card(web: FlaskClient) -> None:
    tags = page(web).meta
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["twitter:title"] == tags["og:title"]
    assert tags["twitter:description"] == tags["og:description"]
    assert tags["twitter:image"] == tags["og:image"]


def test_its_image_is_the_share_card_with_the_campaigns_figures(web: FlaskClient) -> None:
    image = fetched(web, page(web).meta["og:image"])
    assert image.size == (1200, 630)
    known = picture.Card(
        lang="en",
        title="Membership drive 2026",
        headline="Quality journalism takes work.",
        count="12,345",
        of_goal="out of 25,000",
        note="Help us reach 25,000 members.",
        cta_label="Become a member",
        fill=12_345 / 25_000,
    )
    assert same_pixels(image, decoded(picture.share_card(known)))
    assert fill_end(image) == round(picture.SHARE_BAR[2] * 12_345 / 25_000)


def test_the_image_address_changes_with_the_figures(public_app: Flask, web: FlaskClient) -> None:
    before = page(web).meta["og:image"]
    assert page(web).meta["og:image"] == before  # nothing changed: the same address
    with public_app.app_context():
        campaign = get_campaign(db.session, "drive")
        add_adjustment(db.session, campaign, 5_000, "Sign-ups at the book fair", "tests")
    after = page(web).meta["og:image"]
    assert after != before
    # Social networks keep an image per address: the new one shows the new bar.
    assert fill_end(fetched(web, after)) == round(picture.SHARE_BAR[2] * 17_345 / 25_000)


def test_it_sends_readers_on_to_the_call_to_action_without_a_script(web: FlaskClient) -> None:
    response = web.get("/share/drive")
    found = Page(response.get_data(as_text=True))
    assert found.refresh == ["0; url=https://news.example/join?from=share"]
    assert "https://news.example/join?from=share" in found.anchors
    assert found.scripts == 0
    policy = response.headers["Content-Security-Policy"]
    assert "script-src" not in policy and "unsafe-inline" not in policy
    assert "default-src 'none'" in policy


def test_the_page_shows_the_card_from_this_service(web: FlaskClient) -> None:
    found = page(web)
    (image,) = found.images
    assert image["src"].startswith("/share/drive.png?")
    assert (image["width"], image["height"]) == ("1200", "630")
    assert web.get(image["src"]).status_code == 200


def test_a_call_to_action_that_is_not_http_is_never_followed(
    public_app: Flask, web: FlaskClient
) -> None:
    # Refused when saved now; a row from an older version may still hold one.
    with public_app.app_context():
        create_campaign(db.session, "other", 100, title="Other")
        db.session.execute(
            update(Campaign)
            .where(Campaign.slug == "other")
            .values(cta_url="javascript:alert(1)", updated_at=utcnow())
        )
        db.session.commit()
    found = page(web, "/share/other")
    assert found.refresh == []
    assert not any("javascript" in href for href in found.anchors)


def test_it_speaks_ukrainian_when_asked(web: FlaskClient) -> None:
    found = page(web, "/share/drive?lang=uk")
    assert found.html_lang == "uk"
    assert found.meta["og:description"].startswith(f"12{NBSP}345 учасників з 25{NBSP}000")
    assert found.meta["og:url"] == f"{PUBLIC}/share/drive?lang=uk"
    assert parse_qs(urlsplit(found.meta["og:image"]).query)["lang"] == ["uk"]
    english = fetched(web, page(web).meta["og:image"])
    ukrainian = fetched(web, found.meta["og:image"])
    assert not same_pixels(english, ukrainian)


def test_an_unknown_campaign_has_no_share_page(web: FlaskClient) -> None:
    response = web.get("/share/no-such-drive")
    assert response.status_code == 404
    assert "og:image" not in response.get_data(as_text=True)


def test_the_share_png_follows_the_badges_rules(web: FlaskClient) -> None:
    first = web.get("/share/drive.png")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-cache"
    again = web.get("/share/drive.png", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    unknown = web.get("/share/no-such-drive.png")
    assert unknown.status_code == 200
    assert same_pixels(decoded(unknown.data), decoded(picture.share_card(picture.neutral("en"))))


def snippets(app: Flask) -> dict[str, str]:
    """The admin's snippet partial as the settings page renders it, read back as text."""
    with app.test_request_context("/admin/campaigns/drive"):
        campaign = get_campaign(db.session, "drive")
        html = render_template("admin/_share_snippets.html", campaign=campaign)

    class Snippets(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: dict[str, str] = {}
            self.current: str | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "pre":
                self.current = dict(attrs)["id"] or ""
                self.found[self.current] = ""

        def handle_endtag(self, tag: str) -> None:
            self.current = None

        def handle_data(self, data: str) -> None:
            if self.current:
                self.found[self.current] += data

    parser = Snippets()
    parser.feed(html)
    return parser.found


def test_the_email_snippet_links_the_badge_to_the_call_to_action(
    public_app: Flask, web: FlaskClient
) -> None:
    code = snippets(public_app)["snippet-email"]
    email = Page(code)
    assert email.anchors == ["https://news.example/join?from=share"]
    (image,) = email.images
    assert image["src"] == f"{PUBLIC}/api/campaigns/drive/badge.png?scale=2"
    assert (image["width"], image["height"]) == ("400", "104")
    served = fetched(web, image["src"])
    assert served.size == (800, 208)  # drawn at 2×, shown at 1×: sharp on every screen


def test_the_share_link_is_the_share_page(public_app: Flask, web: FlaskClient) -> None:
    link = snippets(public_app)["snippet-share"]
    assert link == f"{PUBLIC}/share/drive"
    assert page(web, urlsplit(link).path).meta["og:url"] == link


def test_campaign_text_in_the_page_is_escaped(public_app: Flask, web: FlaskClient) -> None:
    with public_app.app_context():
        create_campaign(
            db.session,
            "other",
            100,
            title='"><script>alert(1)</script>',
            cta_url="https://x.example",
        )
    response = web.get("/share/other")
    assert b"<script>" not in response.data
    assert Page(response.get_data(as_text=True)).meta["og:title"] == '"><script>alert(1)</script>'


@pytest.mark.parametrize("path", ["/share/drive", "/share/drive.png"])
def test_no_request_sets_a_cookie(web: FlaskClient, path: str) -> None:
    assert "Set-Cookie" not in web.get(path).headers


def test_the_image_is_drawn_once_for_every_crawler(web: FlaskClient) -> None:
    url = urlsplit(page(web).meta["og:image"])
    for _ in range(3):
        web.get(f"{url.path}?{url.query}")
    info = images._drawn.cache_info()
    assert (info.misses, info.hits) == (1, 2)

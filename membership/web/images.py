"""The pictures of a drive for places without scripts or SVG: newsletters and social posts.

- GET /api/campaigns/<slug>/badge.png   the badge as PNG, for email (?scale=2, ?lang=)
- GET /share/<slug>.png                  the 1200×630 share card (?lang=)
- GET /share/<slug>                      a page with Open Graph and Twitter card tags showing
                                         that card, which sends readers on to the CTA

The figures come from progress_cache.load_progress(), as for the SVG badge and the iframe page.
An email client must never get an error status for an image, and an image proxy should ask
again on every open: so the PNGs are always 200 (the last good figures while the database is
down, a neutral picture for a campaign we cannot show), `no-cache` with an ETag. Drawing costs
milliseconds, so each worker keeps the PNGs of the last cards it drew (see _drawn).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from .. import i18n
from ..campaigns import picture
from .embed import PAGE_CACHE, bar_shares, conditional, inline_css
from .progress_cache import ProgressUnavailable, load_progress

bp = Blueprint("images", __name__)

SHARE_CSS = Path(__file__).resolve().parents[1] / "templates" / "share" / "share.css"
# Enough for every campaign in a few languages and both scales, with room for figures moving
# during a busy newsletter send; the oldest cards go first.
CACHED_PICTURES = 256


@dataclass(frozen=True)
class Png:
    body: bytes
    etag: str


@lru_cache(maxsize=CACHED_PICTURES)
def _drawn(kind: str, shown: picture.Card, scale: int) -> Png:
    """The PNG of a card, drawn once per worker for each (kind, card, scale): the card holds
    every figure and word drawn, so a new count, goal or copy is a new entry."""
    body = picture.badge(shown, scale) if kind == "badge" else picture.share_card(shown)
    return Png(body=body, etag=hashlib.sha256(body).hexdigest()[:32])


def _figures(slug: str) -> dict[str, Any] | None:
    """The campaign's public figures (the last good ones while the database is down), or None
    for one we cannot show: unknown, or the database down with nothing kept."""
    try:
        progress = load_progress(slug)
    except ProgressUnavailable:
        return None
    return progress if progress and progress.get("goal") else None


def _card(slug: str) -> picture.Card:
    progress = _figures(slug)
    lang = i18n.pick_language(request.args.get("lang"), progress and progress.get("locale"))
    return picture.neutral(lang) if progress is None else _shown(progress, lang)


def _shown(progress: dict[str, Any], lang: str) -> picture.Card:
    # The bar by the SVG badge's rule (the widget's too): one picture of the drive everywhere.
    return picture.card(progress, lang, *bar_shares(progress))


def _png_response(png: Png) -> ResponseReturnValue:
    response = Response(png.body, content_type="image/png")
    response.set_etag(png.etag)
    # Revalidate on every open: email image proxies otherwise keep the first figures for good.
    # The ETag makes that a 304 while nothing changed.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response.make_conditional(request)


@bp.get("/api/campaigns/<slug>/badge.png")
def badge_png(slug: str) -> ResponseReturnValue:
    # Any other scale is the 1× picture: a mistyped URL in a sent newsletter still shows one.
    scale = 2 if request.args.get("scale") == "2" else 1
    return _png_response(_drawn("badge", _card(slug), scale))


@bp.get("/share/<slug>.png")
def share_png(slug: str) -> ResponseReturnValue:
    return _png_response(_drawn("share", _card(slug), 1))


def public_root() -> str:
    """The service's public origin for absolute URLs, as in the embed code: PUBLIC_URL when
    set, else the address this request came to."""
    return (current_app.config.get("PUBLIC_URL") or request.url_root).rstrip("/")


def _cta_url(progress: dict[str, Any]) -> str:
    url = str(progress.get("cta_url") or "").strip()
    # Only http(s): a stored javascript: link must never become a link or a refresh.
    return url if url.lower().startswith(("https://", "http://")) else ""


@bp.get("/share/<slug>")
def share_page(slug: str) -> ResponseReturnValue:
    progress = load_progress(slug)
    asked = request.args.get("lang")
    lang = i18n.pick_language(asked, progress and progress.get("locale"))
    css, css_hash = inline_css(SHARE_CSS)
    if progress is None or not progress.get("goal"):
        body = render_template("share/missing.html", lang=lang, css=Markup(css))
        response = Response(body, status=404, content_type="text/html; charset=utf-8")
        response.headers["Cache-Control"] = "public, max-age=30"
    else:
        body = render_template("share/page.html", css=Markup(css), **_share_view(progress, lang))
        response = conditional(Response(body, content_type="text/html; charset=utf-8"), PAGE_CACHE)
    # The page only shows its card and links on; the refresh is a meta tag, not a script.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; img-src 'self'; style-src {css_hash}; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )
    return response


def _share_view(progress: dict[str, Any], lang: str) -> dict[str, Any]:
    shown = _shown(progress, lang)
    slug = progress["slug"]
    query = f"?lang={lang}" if request.args.get("lang") else ""
    # The picture's address changes with what it shows (v=): social networks keep an image
    # per URL, so a post shared later shows the bar as it is then.
    version = hashlib.sha256(repr(shown).encode()).hexdigest()[:12]
    root = public_root()
    value_text = i18n.value_text(int(progress["count"]), int(progress["goal"]), lang)
    return {
        "lang": lang,
        "card": shown,
        "page_url": f"{root}/share/{slug}{query}",
        "image_url": f"{root}/share/{slug}.png?lang={lang}&v={version}",
        "image_path": f"/share/{slug}.png?lang={lang}&v={version}",
        "image_width": picture.SHARE_SIZE[0],
        "image_height": picture.SHARE_SIZE[1],
        "description": " — ".join(part for part in (value_text, shown.headline) if part),
        "alt": f"{shown.title}: {value_text}",
        "cta_url": _cta_url(progress),
        "cta_label": shown.cta_label or shown.title,
    }


@bp.app_template_global()
def share_snippets(slug: str, cta_url: str, title: str) -> dict[str, str]:
    """The admin's copy-paste code: the email badge linked to the CTA, and the share link."""
    root = public_root()
    link = _cta_url({"cta_url": cta_url}) or f"{root}/share/{slug}"
    width, height = picture.BADGE_SIZE
    # The 2× picture at 1× size: sharp on high-density screens, and mail clients that ignore
    # srcset still get one image.
    alt = str(Markup.escape(f"{title}: membership drive progress"))
    return {
        "email": (
            f'<a href="{Markup.escape(link)}"><img src="{root}/api/campaigns/{slug}/badge.png'
            f'?scale=2" width="{width}" height="{height}" alt="{alt}" '
            'style="display:block;border:0;max-width:100%;height:auto"></a>'
        ),
        "share": f"{root}/share/{slug}",
    }

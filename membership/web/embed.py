"""The embeddable surfaces: the widget script, the iframe page and the SVG badge (blueprint).

- GET /widget.js                   the custom element; short cache so fixes reach every page soon
- GET /widget.<digest>.js          the same bytes pinned by content: immutable, for use with SRI
- GET /embed/<slug>                server-rendered page for an <iframe>; works with JavaScript off
- GET /embed-resize.js             the iframe page's only script: it posts its height to the parent
- GET /api/campaigns/<slug>/badge.svg  the bar and numbers as an image (newsletters, <noscript>)

The figures come from progress_cache.load_progress(), so the iframe page and the badge show
what the JSON API shows. The scripts are files in static/ (widget.js is built from widget.src.js
and committed); they are read once per change of the file and served from memory.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from .. import i18n
from ..campaigns.settings import printable
from .progress_cache import load_progress

bp = Blueprint("embed", __name__)

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
EMBED_CSS = Path(__file__).resolve().parents[1] / "templates" / "embed" / "embed.css"

SCRIPT_TYPE = "text/javascript; charset=utf-8"
SHORT_CACHE = "public, max-age=300"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
# The figures change by the minute; these pages are cheap to make, and the ETag saves the bytes.
PAGE_CACHE = "public, max-age=60, stale-while-revalidate=60"

BADGE_WIDTH = 400
BADGE_HEIGHT = 92  # as drawn by templates/embed/badge.svg
BADGE_BAR_X = 16
BADGE_BAR_WIDTH = BADGE_WIDTH - 2 * BADGE_BAR_X
BADGE_TITLE_CHARS = 44  # SVG text does not wrap: longer titles are cut with an ellipsis
BADGE_NOTE_CHARS = 58  # the same for the line that names the next goal or how far past it is
# Where the badge's lines and bar sit: a bar with a goal marked on it (a stretch goal is the
# target, or the count is past the last goal) makes room for a line that says so, in the same
# height as before, so that an <img> pasted with width and height keeps its shape.
BADGE_LAYOUT = {"title_y": 28, "count_y": 52, "bar_y": 64, "bar_height": 12}
BADGE_MARKED_LAYOUT = {"title_y": 24, "count_y": 44, "note_y": 60, "bar_y": 68, "bar_height": 10}
# The campaign's words: shown through printable() (the last good copy on disk may predate it).
TEXT_FIELDS = ("title", "headline", "message", "cta_label", "cta_url")


@dataclass(frozen=True)
class Asset:
    body: bytes
    digest: str  # short hex content hash for the immutable URL
    integrity: str  # Subresource Integrity value, "sha384-..."


_assets: dict[Path, tuple[int, Asset]] = {}


def load_asset(path: Path) -> Asset:
    """The file's bytes and hashes, re-read only when its mtime changes (a deploy or a rebuild)."""
    mtime = path.stat().st_mtime_ns
    cached = _assets.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    body = path.read_bytes()
    sha384 = hashlib.sha384(body).digest()
    asset = Asset(
        body=body,
        digest=hashlib.sha256(body).hexdigest()[:16],
        integrity="sha384-" + base64.b64encode(sha384).decode("ascii"),
    )
    _assets[path] = (mtime, asset)
    return asset


def widget_asset() -> Asset:
    return load_asset(STATIC_DIR / "widget.js")


def widget_integrity() -> str:
    """The SRI value to publish next to the hashed URL (README, admin embed-code page)."""
    return widget_asset().integrity


def hashed_widget_url(external: bool = False) -> str:
    """The content-hashed, immutable widget URL (needs an app or request context)."""
    return url_for("embed.widget_hashed", digest=widget_asset().digest, _external=external)


def embed_snippets(slug: str, base_url: str) -> dict[str, str]:
    """Copy-paste code for a campaign, for the admin page: base_url is the service's public root."""
    base = base_url.rstrip("/")
    asset = widget_asset()
    return {
        "script": (
            f'<script src="{base}/widget.js" async></script>\n'
            f'<membership-progress campaign="{slug}"></membership-progress>'
        ),
        "script_pinned": (
            f'<script src="{base}/widget.{asset.digest}.js" integrity="{asset.integrity}" '
            'crossorigin="anonymous" async></script>\n'
            f'<membership-progress campaign="{slug}"></membership-progress>'
        ),
        "iframe": (
            f'<iframe src="{base}/embed/{slug}" title="Membership drive" width="100%" '
            'height="210" loading="lazy" data-membership-embed></iframe>'
        ),
        "badge": (
            f'<img src="{base}/api/campaigns/{slug}/badge.svg" '
            f'alt="Membership drive progress" width="{BADGE_WIDTH}" height="{BADGE_HEIGHT}">'
        ),
    }


def _script_response(asset: Asset, cache_control: str) -> ResponseReturnValue:
    response = Response(asset.body, content_type=SCRIPT_TYPE)
    response.set_etag(asset.digest)
    response.headers["Cache-Control"] = cache_control
    # Publishers load it cross-origin, with `integrity` (so CORS is needed) and possibly under
    # Cross-Origin-Embedder-Policy (so CORP is needed).
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)


@bp.get("/widget.js")
def widget() -> ResponseReturnValue:
    return _script_response(widget_asset(), SHORT_CACHE)


@bp.get("/widget.<digest>.js")
def widget_hashed(digest: str) -> ResponseReturnValue:
    asset = widget_asset()
    # Only the current build is kept: an old digest would fail its page's SRI check anyway.
    if digest != asset.digest:
        return Response("no such widget build\n", status=404, content_type="text/plain")
    return _script_response(asset, IMMUTABLE_CACHE)


@bp.get("/embed-resize.js")
def resize_script() -> ResponseReturnValue:
    return _script_response(load_asset(STATIC_DIR / "embed-resize.js"), SHORT_CACHE)


def inline_css(path: Path) -> tuple[str, str]:
    """A page's stylesheet and its CSP hash: inline saves a request, the hash keeps the
    page's CSP strict (no 'unsafe-inline'). The iframe page and the home page use it."""
    css = path.read_text(encoding="utf-8")
    return css, css_source_hash(css)


def css_source_hash(css: str) -> str:
    """The CSP source that allows exactly this inline stylesheet."""
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def conditional(response: Response, cache_control: str) -> ResponseReturnValue:
    """A public page's caching: the home page, the iframe page and the badge."""
    # A strong ETag of the exact bytes: readers' browsers and CDNs revalidate with a 304.
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.headers["Cache-Control"] = cache_control
    return response.make_conditional(request)


def _view_model(progress: dict[str, Any], lang: str) -> dict[str, Any]:
    """What the iframe page and the badge show, formatted on the server as the widget would."""
    # The campaign's words in this language if it has them, else its own.
    progress = {**progress, **(progress.get("translations") or {}).get(lang, {})}
    progress.update({field: printable(progress.get(field) or "") for field in TEXT_FIELDS})
    count, goal = progress["count"], progress["goal"]
    share, mark = bar_shares(progress)
    message = i18n.status_message(progress, lang)
    value_text = i18n.value_text(count, goal, lang)
    cta_url = progress["cta_url"].strip()  # a row stored as " https://…" keeps its button
    return {
        "p": progress,
        "lang": lang,
        "count": i18n.format_number(count, lang),
        "goal": i18n.format_number(goal, lang),
        "of": i18n.COPY[lang]["of"],
        "out_of": i18n.out_of(count, goal, lang),
        # As in the widget: the mark is inside the bar, so the bar's value text names it too.
        "value_text": f"{value_text}. {message}" if mark else value_text,
        "label": progress.get("title") or i18n.COPY[lang]["label"],
        "message": message,
        "share": share,
        "mark": mark,
        # The bar's scale (<progress max>): the goal, or the count once past the last goal.
        "scale": max(count, goal),
        # Only http(s): a stored javascript: link must never become clickable.
        "cta_url": cta_url if cta_url.lower().startswith(("https://", "http://")) else "",
    }


def bar_shares(progress: dict[str, Any]) -> tuple[float, float | None]:
    """How much of the bar is filled and where a goal is marked on it (0 to 1, or None), by the
    widget's rule (static/widget.src.js): past the last goal the bar is full and marks the goal
    at goal/count, as the Guardian's ticker runs past its goal; with a stretch goal as the
    target, it marks the goal last reached on the target's scale."""
    count, goal = progress["count"], progress["goal"]
    if goal <= 0:
        return 0.0, None
    if i18n.is_past_goal(progress):
        return 1.0, goal / count
    reached = i18n.reached_goal(progress)
    return min(max(count / goal, 0.0), 1.0), (reached / goal if reached else None)


def _percent(share: float) -> str:
    """A share as a CSS or SVG length in %, to a tenth: "83.3"."""
    return f"{round(share * 100, 1):g}"


@bp.get("/embed/<slug>")
def embed_page(slug: str) -> ResponseReturnValue:
    progress = load_progress(slug)
    css, css_hash = inline_css(EMBED_CSS)
    lang = i18n.pick_language(request.args.get("lang"), progress and progress.get("locale"))
    if progress is None or not progress.get("goal"):
        body = render_template("embed/missing.html", lang=lang, css=Markup(css))
        response = Response(body, status=404, content_type="text/html; charset=utf-8")
        response.headers["Cache-Control"] = "public, max-age=30"
    else:
        model = _view_model(progress, lang)
        if model["mark"]:
            # The page's one figure in its stylesheet: where the mark sits (no style attributes,
            # which the CSP would refuse). The hash covers it, so each page has its own.
            css += ".mark{inset-inline-start:" + _percent(model["mark"]) + "%}"
            css_hash = css_source_hash(css)
        body = render_template("embed/page.html", css=Markup(css), **model)
        response = conditional(Response(body, content_type="text/html; charset=utf-8"), PAGE_CACHE)
    # The one route any site may frame. Nothing else may run or load here: our stylesheet (by
    # hash) and our resize script.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src {css_hash}; script-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors *"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


def _cut(text: str, chars: int) -> str:
    """SVG text does not wrap: a longer line is cut with an ellipsis."""
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


@bp.get("/api/campaigns/<slug>/badge.svg")
def badge(slug: str) -> ResponseReturnValue:
    progress = load_progress(slug)
    if progress is None or not progress.get("goal"):
        response = Response("no such campaign\n", status=404, content_type="text/plain")
        response.headers["Cache-Control"] = "public, max-age=30"
        return response
    lang = i18n.pick_language(request.args.get("lang"), progress.get("locale"))
    model = _view_model(progress, lang)
    mark = model["mark"]
    # Jinja autoescapes .svg templates: every campaign text is escaped as XML.
    body = render_template(
        "embed/badge.svg",
        title=_cut(model["label"], BADGE_TITLE_CHARS),
        note=_cut(model["message"], BADGE_NOTE_CHARS) if mark else "",
        width=BADGE_WIDTH,
        bar_x=BADGE_BAR_X,
        bar_width=BADGE_BAR_WIDTH,
        fill_width=f"{round(BADGE_BAR_WIDTH * model['share'], 1):g}",
        # The mark's 2 units are centred on the goal.
        mark_x=f"{round(BADGE_BAR_X + BADGE_BAR_WIDTH * mark - 1, 1):g}" if mark else "",
        **(BADGE_MARKED_LAYOUT if mark else BADGE_LAYOUT),
        **model,
    )
    response = Response(body, content_type="image/svg+xml; charset=utf-8")
    # Opened directly, an SVG is a document: let it run and load nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return conditional(response, PAGE_CACHE)

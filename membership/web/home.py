"""GET /: the service's own page: what it is, its campaigns with live bars, where to go next.

The bars are the real widget (/widget.js and <membership-progress>), with the badge image inside
<noscript> for readers without JavaScript. The page holds campaign slugs and titles only, no
figures and nothing personal, so it is cached like the iframe page. The list of campaigns lives
only in the database: without it the page answers a short, uncached 503 (the widgets on an
article would still get the last good figures from the API).
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from ..campaigns import settings as campaigns
from ..database import db
from . import embed

bp = Blueprint("home", __name__)
log = logging.getLogger(__name__)

HOME_CSS = Path(__file__).resolve().parents[1] / "templates" / "home" / "home.css"
# The publisher's article `make run` serves from demo/ on another origin (the Makefile's
# DEMO_PORT), linked only in development: elsewhere nothing listens there.
DEMO_ARTICLE_URL = "http://localhost:8000/article.html"


def _csp(css_hash: str) -> str:
    # Our widget script, its requests for figures, the badge in <noscript> and this stylesheet
    # (by hash); nothing else may load, and no other site may frame the page.
    return (
        f"default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; "
        f"style-src {css_hash}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    try:
        found = campaigns.list_campaigns(db.session)
    except SQLAlchemyError as exc:
        log.warning("home page: database unavailable (%s)", type(exc).__name__)
        response = Response(
            "The list of campaigns is unavailable for a moment; please retry.\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response.headers["Retry-After"] = "30"
        response.headers["Cache-Control"] = "no-store"
        return response
    shown = [
        {"slug": c.slug, "title": campaigns.printable(c.title), "locale": c.locale} for c in found
    ]
    development = current_app.config["MEMBERSHIP_ENV"] == "development"
    css, css_hash = embed.inline_css(HOME_CSS)
    body = render_template(
        "home/index.html",
        css=Markup(css),
        campaigns=shown,
        demo_article_url=DEMO_ARTICLE_URL if development else None,
        badge_size=(embed.BADGE_WIDTH, embed.BADGE_HEIGHT),
    )
    response = Response(body, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = _csp(css_hash)
    return embed.conditional(response, embed.PAGE_CACHE)

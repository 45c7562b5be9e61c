"""GET /api/campaigns/<slug> (the public, cacheable progress JSON) and GET /api/openapi.json.

The figures, their cache and what is served while the database is down are progress_cache.py's;
this blueprint answers with them: caching headers, a strong ETag and 304s, a wildcard CORS origin.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_cors import CORS

from . import openapi, progress_cache

bp = Blueprint("public", __name__)
# Public figures for any page: a wildcard origin and no Vary: Origin, so one cached copy at
# a CDN serves every publisher's site.
CORS(bp, send_wildcard=True, vary_header=False, methods=["GET", "HEAD"])

# A stale answer is cached briefly, so fresh figures return soon after the database does.
STALE_CACHE_CONTROL = "public, max-age=5"


def _not_found() -> ResponseReturnValue:
    response = jsonify(error="no such campaign")
    response.status_code = 404
    # Short, so a campaign created a moment later shows soon, yet a flood of made-up slugs
    # is absorbed by the CDN.
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


@bp.get("/api/openapi.json")
def openapi_document() -> ResponseReturnValue:
    response = jsonify(openapi.document())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/api/campaigns/<slug>")
def campaign_progress(slug: str) -> ResponseReturnValue:
    entry = progress_cache.rendered(slug)
    if entry is None:
        return _not_found()
    config = current_app.config
    response = Response(entry.body, mimetype="application/json")
    response.set_etag(entry.etag)
    if entry.stale:
        response.headers["Cache-Control"] = STALE_CACHE_CONTROL
    else:
        response.headers["Cache-Control"] = (
            f"public, max-age={config['PROGRESS_MAX_AGE']}, "
            f"stale-while-revalidate={config['PROGRESS_STALE_WHILE_REVALIDATE']}, "
            f"stale-if-error={config['PROGRESS_STALE_IF_ERROR']}"
        )
    # 304 for a matching If-None-Match; HEAD drops the body. Werkzeug does both.
    return response.make_conditional(request)

"""GET /api/campaigns/<slug>: the public, cacheable progress JSON.

Each worker keeps the rendered body and ETag of every campaign it served. For
PROGRESS_CACHE_SECONDS it serves them without touching the database; after that one cheap
query tells whether the ledger or the campaign changed, and only then is the count redone.
So the read path never counts rows per request, and a new sign-up still shows within seconds.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_cors import CORS
from sqlalchemy import select

from . import progress
from .campaigns import SLUG
from .database import db
from .ledger import LEDGER_ROW
from .models import Campaign, LedgerState, utcnow

bp = Blueprint("public", __name__)
# Public figures for any page: a wildcard origin and no Vary: Origin, so one cached copy at
# a CDN serves every publisher's site.
CORS(bp, send_wildcard=True, vary_header=False, methods=["GET", "HEAD"])


@dataclass(frozen=True)
class Rendered:
    progress: progress.Progress
    body: bytes
    etag: str
    ledger_version: int
    campaign_updated_at: datetime
    checked_at: float  # time.monotonic() of the last check against the database


class ProgressCache:
    """Rendered progress per campaign slug, for one worker process."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[str, Rendered] = {}
        self._lock = threading.Lock()

    def get(self, slug: str) -> Rendered | None:
        now = utcnow()
        entry = self._entries.get(slug)
        if (
            entry is not None
            and time.monotonic() - entry.checked_at < self.ttl
            and now < entry.progress.valid_until
        ):
            return entry
        session = db.session
        row = session.execute(
            select(Campaign, LedgerState.version)
            .join(LedgerState, LedgerState.id == LEDGER_ROW)
            .where(Campaign.slug == slug)
        ).first()
        if row is None:
            self._entries.pop(slug, None)
            session.rollback()
            return None
        campaign, version = row
        if (
            entry is not None
            and entry.ledger_version == version
            and entry.campaign_updated_at == campaign.updated_at
            and now < entry.progress.valid_until
        ):
            entry = _replace_checked(entry)
        else:
            figures = progress.compute(session, campaign, now)
            body = json.dumps(figures.public(), ensure_ascii=False, separators=(",", ":"))
            encoded = body.encode()
            entry = Rendered(
                progress=figures,
                body=encoded,
                etag=hashlib.sha256(encoded).hexdigest()[:32],
                ledger_version=version,
                campaign_updated_at=campaign.updated_at,
                checked_at=time.monotonic(),
            )
        session.rollback()  # end the read transaction; a long one would pin a snapshot
        with self._lock:
            self._entries[slug] = entry
        return entry


def _replace_checked(entry: Rendered) -> Rendered:
    return Rendered(
        progress=entry.progress,
        body=entry.body,
        etag=entry.etag,
        ledger_version=entry.ledger_version,
        campaign_updated_at=entry.campaign_updated_at,
        checked_at=time.monotonic(),
    )


def _cache() -> ProgressCache:
    cache = current_app.extensions.get("progress_cache")
    if cache is None:
        cache = ProgressCache(current_app.config["PROGRESS_CACHE_SECONDS"])
        current_app.extensions["progress_cache"] = cache
    return cache


def load_progress(slug: str) -> dict[str, Any] | None:
    """The public figures of a campaign, or None; for server-rendered surfaces."""
    if not SLUG.fullmatch(slug):
        return None
    entry = _cache().get(slug)
    return entry.progress.public() if entry else None


def _not_found() -> ResponseReturnValue:
    response = jsonify(error="no such campaign")
    response.status_code = 404
    # Short, so a campaign created a moment later shows soon, yet a flood of made-up slugs
    # is absorbed by the CDN.
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


@bp.get("/api/campaigns/<slug>")
def campaign_progress(slug: str) -> ResponseReturnValue:
    if not SLUG.fullmatch(slug):
        return _not_found()
    entry = _cache().get(slug)
    if entry is None:
        return _not_found()
    config = current_app.config
    response = Response(entry.body, mimetype="application/json")
    response.set_etag(entry.etag)
    response.headers["Cache-Control"] = (
        f"public, max-age={config['PROGRESS_MAX_AGE']}, "
        f"stale-while-revalidate={config['PROGRESS_STALE_WHILE_REVALIDATE']}, "
        f"stale-if-error={config['PROGRESS_STALE_IF_ERROR']}"
    )
    # 304 for a matching If-None-Match; HEAD drops the body. Werkzeug does both.
    return response.make_conditional(request)

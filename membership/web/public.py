"""GET /api/campaigns/<slug>: the public, cacheable progress JSON.

Each worker keeps the rendered body and ETag of every campaign it served. For
PROGRESS_CACHE_SECONDS it serves them without touching the database; after that one cheap
query tells whether the ledger or the campaign changed, and only then is the count redone.
So the read path never counts rows per request, and a new sign-up still shows within seconds.

When the database cannot be reached, the last good figures are served, marked
``"stale": true``, rather than failing the widget on every article page: from this worker's
memory, or from the copy on disk (PROGRESS_LAST_GOOD_DIR) that every worker rewrites each time
it counts a campaign afresh, so a worker that starts during an outage has figures too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_cors import CORS
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ServiceUnavailable

from .. import i18n
from ..campaigns import progress
from ..campaigns.settings import SLUG
from ..database import db
from ..models import LEDGER_ROW, Campaign, LedgerState, utcnow

bp = Blueprint("public", __name__)
# Public figures for any page: a wildcard origin and no Vary: Origin, so one cached copy at
# a CDN serves every publisher's site.
CORS(bp, send_wildcard=True, vary_header=False, methods=["GET", "HEAD"])
log = logging.getLogger(__name__)

# A stale answer is cached briefly, so fresh figures return soon after the database does.
STALE_CACHE_CONTROL = "public, max-age=5"

# The cache's two clocks, named once so that tests move them instead of sleeping: the cache
# period runs on the monotonic clock, the figures are counted as of the wall clock.
clock = time.monotonic
wall_clock = utcnow


class ProgressUnavailable(ServiceUnavailable):
    description = "progress is temporarily unavailable; please retry"


@dataclass(frozen=True)
class Rendered:
    figures: dict[str, Any]  # the public JSON, as a dict
    body: bytes
    etag: str
    stale: bool
    valid_until: datetime
    ledger_version: int
    campaign_updated_at: datetime | None
    checked_at: float  # clock() at the last check against the database


def render(figures: dict[str, Any], *, stale: bool, **state: Any) -> Rendered:
    figures = {**figures, "stale": stale}
    body = json.dumps(figures, ensure_ascii=False, separators=(",", ":")).encode()
    return Rendered(
        figures=figures,
        body=body,
        etag=hashlib.sha256(body).hexdigest()[:32],
        stale=stale,
        checked_at=clock(),
        **state,
    )


class ProgressCache:
    """Rendered progress per campaign slug, for one worker process."""

    def __init__(self, ttl_seconds: float, last_good_dir: Path | None = None) -> None:
        self.ttl = ttl_seconds
        self.last_good_dir = last_good_dir
        self._entries: dict[str, Rendered] = {}
        self._lock = threading.Lock()

    def get(self, slug: str) -> Rendered | None:
        """The figures of ``slug``, None for no such campaign; ProgressUnavailable if the
        database is down and no figures were ever seen."""
        now = wall_clock()
        entry = self._entries.get(slug)
        # Within the cache period, serve what we have; stale figures too, so that during an
        # outage each worker tries the database once per period, not on every request.
        if (
            entry is not None
            and clock() - entry.checked_at < self.ttl
            and (entry.stale or now < entry.valid_until)
        ):
            return entry
        try:
            fresh = self._refresh(slug, entry, now)
        except SQLAlchemyError as exc:
            log.warning(
                "progress slug=%s database unavailable (%s): serving stale figures",
                slug,
                type(exc).__name__,
            )
            _end_transaction()
            fresh = self._stale(slug, entry)
        with self._lock:
            if fresh is None:
                self._entries.pop(slug, None)
            else:
                self._entries[slug] = fresh
        return fresh

    def _refresh(self, slug: str, entry: Rendered | None, now: datetime) -> Rendered | None:
        session = db.session
        row = session.execute(
            select(Campaign, LedgerState.version)
            .join(LedgerState, LedgerState.id == LEDGER_ROW)
            .where(Campaign.slug == slug)
        ).first()
        if row is None:
            session.rollback()
            return None
        campaign, version = row
        if (
            entry is not None
            and not entry.stale
            and entry.ledger_version == version
            and entry.campaign_updated_at == campaign.updated_at
            and now < entry.valid_until
        ):
            session.rollback()
            return replace(entry, checked_at=clock())
        figures = progress.compute(session, campaign, now)
        session.rollback()  # end the read transaction; a long one would pin a snapshot
        rendered = render(
            figures.public(),
            stale=False,
            valid_until=figures.valid_until,
            ledger_version=version,
            campaign_updated_at=campaign.updated_at,
        )
        self._keep_last_good(slug, rendered)
        return rendered

    def _stale(self, slug: str, entry: Rendered | None) -> Rendered:
        figures = entry.figures if entry is not None else self._read_last_good(slug)
        if figures is None:
            raise ProgressUnavailable(retry_after=30)
        return render(
            figures,
            stale=True,
            valid_until=wall_clock(),
            ledger_version=-1,
            campaign_updated_at=None,
        )

    def _path(self, slug: str) -> Path | None:
        return self.last_good_dir / f"{slug}.json" if self.last_good_dir else None

    def _keep_last_good(self, slug: str, rendered: Rendered) -> None:
        """Keep the figures on disk, for a worker that starts while the database is down."""
        path = self._path(slug)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            temporary.write_bytes(json.dumps(rendered.figures).encode())
            os.replace(temporary, path)  # atomic: a reader sees the old or the new file
        except OSError as exc:
            log.warning("progress slug=%s could not keep last good figures: %s", slug, exc)

    def _read_last_good(self, slug: str) -> dict[str, Any] | None:
        path = self._path(slug)
        try:
            figures = json.loads(path.read_bytes()) if path else None
        except (OSError, ValueError):
            return None
        # The widget's words come from this code, not the file: one written by an older
        # version may lack them, and the widget would show nothing without them.
        return {**figures, "words": i18n.COPY} if isinstance(figures, dict) else None


def _end_transaction() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.invalidate()


def _cache() -> ProgressCache:
    cache = current_app.extensions.get("progress_cache")
    if cache is None:
        last_good = current_app.config["PROGRESS_LAST_GOOD_DIR"]
        cache = ProgressCache(
            current_app.config["PROGRESS_CACHE_SECONDS"], Path(last_good) if last_good else None
        )
        current_app.extensions["progress_cache"] = cache
    return cache


def load_progress(slug: str) -> dict[str, Any] | None:
    """The public figures of a campaign, or None; for server-rendered surfaces.

    Raises ProgressUnavailable (a 503) when the database is down and nothing is cached.
    """
    if not SLUG.fullmatch(slug):
        return None
    entry = _cache().get(slug)
    return entry.figures if entry else None


def _not_found() -> ResponseReturnValue:
    response = jsonify(error="no such campaign")
    response.status_code = 404
    # Short, so a campaign created a moment later shows soon, yet a flood of made-up slugs
    # is absorbed by the CDN.
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


@bp.get("/api/openapi.json")
def openapi_document() -> ResponseReturnValue:
    from .openapi import document

    response = jsonify(document())
    response.headers["Cache-Control"] = "public, max-age=3600"
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

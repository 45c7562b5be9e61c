"""Each worker's cache of every campaign's rendered progress JSON and ETag.

The figures that the JSON API, the iframe page and the badge show all come from here
(rendered, load_progress), so the three always agree.

For PROGRESS_CACHE_SECONDS a worker serves what it rendered without touching the database;
after that one cheap query (progress.versions) tells whether the ledger or the campaign changed,
and only then is the count redone. So the read path never counts rows per request, and a new
sign-up still shows within seconds.

When the database cannot be reached, the last good figures are served, marked
``"stale": true``, rather than failing the widget on every article page: from this worker's
memory, or from the copy on disk (PROGRESS_LAST_GOOD_DIR, see campaigns/last_good.py) that every
worker rewrites each time it counts a campaign afresh, so a worker that starts during an outage
has figures too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ServiceUnavailable

from .. import metrics
from ..campaigns import last_good, progress
from ..campaigns.settings import SLUG
from ..database import db
from ..models import utcnow

log = logging.getLogger(__name__)

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
    versions: progress.Versions | None  # what fresh figures were counted from; None if stale
    checked_at: float  # clock() at the last check against the database


def render(
    figures: dict[str, Any],
    *,
    stale: bool,
    valid_until: datetime,
    versions: progress.Versions | None,
) -> Rendered:
    # Fresh figures already carry "stale": false, so the key keeps its place in the body.
    figures = {**figures, "stale": stale}
    body = json.dumps(figures, ensure_ascii=False, separators=(",", ":")).encode()
    return Rendered(
        figures=figures,
        body=body,
        etag=hashlib.sha256(body).hexdigest()[:32],
        stale=stale,
        valid_until=valid_until,
        versions=versions,
        checked_at=clock(),
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
        if entry is not None and self._servable(entry, now):
            metrics.progress_cache_hit()
            return entry
        metrics.progress_cache_miss()
        try:
            fresh = self._refresh(slug, entry, now)
        except SQLAlchemyError as exc:
            log.warning(
                "progress slug=%s database unavailable (%s): serving stale figures",
                slug,
                type(exc).__name__,
            )
            end_transaction()
            fresh = self._stale(slug, entry)
        with self._lock:
            if fresh is None:
                self._entries.pop(slug, None)
            else:
                self._entries[slug] = fresh
        return fresh

    def peek(self, slug: str) -> Rendered | None:
        """The figures of ``slug`` if they may be served without asking the database; None
        when get() would have to (or for a campaign this worker has not seen)."""
        entry = self._entries.get(slug)
        if entry is not None and self._servable(entry, wall_clock()):
            return entry
        return None

    def slugs(self) -> list[str]:
        return sorted(self._entries)

    def _servable(self, entry: Rendered, now: datetime) -> bool:
        # Within the cache period, serve what we have; stale figures too, so that during an
        # outage each worker tries the database once per period, not on every request.
        return clock() - entry.checked_at < self.ttl and (entry.stale or now < entry.valid_until)

    def _refresh(self, slug: str, entry: Rendered | None, now: datetime) -> Rendered | None:
        session = db.session
        found = progress.versions(session, slug)
        if found is None:
            session.rollback()
            return None
        campaign, versions = found
        if (
            entry is not None
            and not entry.stale
            and entry.versions == versions
            and now < entry.valid_until
        ):
            session.rollback()
            return replace(entry, checked_at=clock())
        figures = progress.compute(session, campaign, now)
        session.rollback()  # end the read transaction; a long one would pin a snapshot
        rendered = render(
            figures.public(), stale=False, valid_until=figures.valid_until, versions=versions
        )
        if self.last_good_dir is not None:
            last_good.keep(self.last_good_dir, slug, rendered.figures)
        return rendered

    def _stale(self, slug: str, entry: Rendered | None) -> Rendered:
        if entry is not None:
            figures: dict[str, Any] | None = entry.figures
        elif self.last_good_dir is not None:
            figures = last_good.read(self.last_good_dir, slug)
        else:
            figures = None
        if figures is None:
            raise ProgressUnavailable(retry_after=30)
        return render(figures, stale=True, valid_until=wall_clock(), versions=None)


def end_transaction() -> None:
    """End the session's transaction after a database error, whatever state it is in."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.invalidate()


def cache_of(app: Flask) -> ProgressCache:
    """This worker's cache for ``app``; the WSGI fast path reads it outside any context."""
    cache = app.extensions.get("progress_cache")
    if cache is None:
        last_good_dir = app.config["PROGRESS_LAST_GOOD_DIR"]
        cache = ProgressCache(
            app.config["PROGRESS_CACHE_SECONDS"],
            Path(last_good_dir) if last_good_dir else None,
        )
        app.extensions["progress_cache"] = cache
    return cache


def _cache() -> ProgressCache:
    return cache_of(current_app._get_current_object())  # type: ignore[attr-defined]


def cached_slugs() -> list[str]:
    """The campaigns this worker holds figures for (what /metrics shows when the database is
    down)."""
    return _cache().slugs()


def rendered(slug: str) -> Rendered | None:
    """The rendered figures of a campaign (body, ETag, stale or not), or None for no such one.

    Raises ProgressUnavailable (a 503) when the database is down and nothing is kept.
    """
    if not SLUG.fullmatch(slug):
        return None  # never a query, nor a cache entry, for a slug that cannot exist
    return _cache().get(slug)


def load_progress(slug: str) -> dict[str, Any] | None:
    """The public figures of a campaign, or None; for server-rendered surfaces.

    Raises ProgressUnavailable (a 503) when the database is down and nothing is kept.
    """
    entry = rendered(slug)
    return entry.figures if entry else None

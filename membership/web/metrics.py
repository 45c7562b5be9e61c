"""GET /metrics: the Prometheus text format, for whoever holds METRICS_TOKEN.

404 while METRICS_TOKEN is unset (the route does not exist for the world), 401 without an
``Authorization: Bearer`` token, 403 for a wrong one; every answer ``Cache-Control: no-store``.
The counters are membership/metrics.py's; the campaign counts, each source's last event and
the notification backlog are read here, at scrape time.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from .. import metrics
from ..config_values import ConfigError
from ..database import db
from ..models import Campaign, Event, NotifyDelivery, utcnow
from . import progress_cache

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)

# The webhook sources whose silence an operator alerts on; imports arrive when a person runs
# them, so their age says nothing.
WEBHOOK_SOURCES = ("stripe", "paypal", "patreon")
LOG_FORMATS = ("text", "json")
MINIMUM_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class Settings:
    metrics_token: str | None
    log_format: str
    multiprocess_dir: str | None


def settings(config: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> Settings:
    """METRICS_TOKEN, LOG_FORMAT and PROMETHEUS_MULTIPROC_DIR, checked; app config first.

    Tests set them in the app's config; elsewhere the environment is read, so the settings
    work before (and after) config.py names them.
    """

    def value(name: str) -> str:
        if name in config:
            return str(config[name] or "").strip()
        if config.get("MEMBERSHIP_ENV") == "test":
            return ""  # a developer's shell must not change what the tests see
        return environ.get(name, "").strip()

    token = value("METRICS_TOKEN") or None
    if token is not None and (len(token) < MINIMUM_TOKEN_LENGTH or token.split()[0] != token):
        raise ConfigError(
            f"METRICS_TOKEN must be at least {MINIMUM_TOKEN_LENGTH} characters without spaces "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    log_format = value("LOG_FORMAT").lower() or "text"
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    directory = environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip() or None
    if directory is not None and not Path(directory).is_dir():
        raise ConfigError(
            f"PROMETHEUS_MULTIPROC_DIR={directory!r} is not a directory; gunicorn.conf.py "
            "creates it, other processes need it to exist"
        )
    return Settings(token, log_format, directory)


def init_app(app: Flask, checked: Settings) -> None:
    app.extensions["metrics_settings"] = checked
    app.extensions["metrics_last_events"] = LastEvents()
    app.register_blueprint(bp)


def _answer(body: Any, status: int, **headers: str) -> ResponseReturnValue:
    response = body if isinstance(body, Response) else jsonify(error=body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers)
    return response


@bp.get("/metrics")
def scrape() -> ResponseReturnValue:
    token: str | None = current_app.extensions["metrics_settings"].metrics_token
    if token is None:
        return _answer("not found", 404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return _answer("a bearer token is required", 401, **{"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _answer("wrong token", 403)
    body = metrics.exposition(scrape_families)
    return _answer(Response(body, content_type=metrics.CONTENT_TYPE), 200)


def scrape_families() -> Iterator[Any]:
    """The figures read at scrape time: cheap reads of the cache and of indexed columns."""
    now = utcnow()
    session = db.session
    try:
        slugs = list(session.scalars(select(Campaign.slug).order_by(Campaign.slug)))
        last = current_app.extensions["metrics_last_events"].read(session, now)
        ages = [
            ({"source": source}, metrics.age_seconds(now, last[source]))
            for source in WEBHOOK_SOURCES
            if last.get(source) is not None
        ]
        backlog = _outbox_backlog(session)
        session.rollback()
        database_up = 1.0
    except SQLAlchemyError as exc:
        log.warning("metrics: database unavailable (%s); cached figures only", type(exc).__name__)
        progress_cache.end_transaction()
        slugs, ages, backlog, database_up = progress_cache.cached_slugs(), [], None, 0.0
    counts = []
    for slug in slugs:
        try:
            entry = progress_cache.rendered(slug)
        except progress_cache.ProgressUnavailable:
            continue
        if entry is not None:
            counts.append(({"campaign": slug}, float(entry.figures["count"])))
    yield metrics.gauge(
        "membership_campaign_count", "Each campaign's public count, as the API shows it.", counts
    )
    yield metrics.gauge(
        "membership_source_last_event_age_seconds",
        "Seconds since the last event was received from each webhook source.",
        ages,
    )
    if backlog is not None:
        yield metrics.gauge(
            "membership_outbox_backlog",
            "Milestone notices waiting in the outbox to be delivered.",
            [({}, float(backlog))],
        )
    yield metrics.gauge(
        "membership_metrics_database_up",
        "1 when this scrape could read the database, 0 when it could not.",
        [({}, database_up)],
    )


class LastEvents:
    """When each webhook source's last event arrived, kept per worker between scrapes.

    The first scrape reads each source's latest event (every row of a source, by the primary
    key); later ones only what arrived since the previous scrape, by the received_at index, so
    a scrape stays cheap with millions of events in the ledger.
    """

    # Rows are stamped by every host's clock: look a little further back than the last read.
    MARGIN = timedelta(minutes=5)

    def __init__(self) -> None:
        self.seen: dict[str, datetime | None] = {}
        self.read_at: datetime | None = None
        self._lock = threading.Lock()

    def read(self, session: Any, now: datetime) -> dict[str, datetime | None]:
        with self._lock:
            if self.read_at is None:
                latest = select(func.max(Event.received_at))
                for source in WEBHOOK_SOURCES:
                    self.seen[source] = session.scalar(latest.where(Event.source == source))
            else:
                recent = (
                    select(Event.source, func.max(Event.received_at))
                    .where(Event.received_at >= self.read_at - self.MARGIN)
                    .group_by(Event.source)
                )
                for source, received_at in session.execute(recent):
                    before = self.seen.get(source)
                    if source in WEBHOOK_SOURCES and (before is None or received_at > before):
                        self.seen[source] = received_at
            self.read_at = now
            return dict(self.seen)


def _outbox_backlog(session: Any) -> int:
    pending = select(func.count()).select_from(NotifyDelivery)
    return int(session.scalar(pending.where(NotifyDelivery.status == "pending")) or 0)

"""PUT /api/sources/<source>/memberships/<external_id>: another system's membership, stored.

Thin: check the source, the bearer token and the body's type, hand the body to
sources.api.receive, answer. The answers are the caller's retry contract: 200 with the outcome
(applied, ignored, duplicate) and the membership now; 404 for a source no token was ever made
for; 401 (with WWW-Authenticate) without a live token, 403 with another source's; 415 for a
body that is not application/json, 413 over MAX_CONTENT_LENGTH, 400 for a body that is not
JSON, 422 naming the field at fault, 409 for a membership that is another member's, 429 over
the rate limit; 503 when the database could not store it (nothing was written: retry), 500
when it was stored as failed (replayable). Nothing is stored for any 4xx.
"""

from __future__ import annotations

import hashlib
import logging

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import SQLAlchemyError

from ..campaigns import milestones
from ..database import db
from ..ledger.store import StorageError
from ..models import utcnow
from ..sources.api import receive, tokens, translate
from ..sources.payloads import NotAnEvent, load
from .admin import limiter

bp = Blueprint("api_sources", __name__)
log = logging.getLogger(__name__)
DEFAULT_RATE_LIMIT = "600 per minute"
BEARER = "Bearer "


def _rate_limit() -> str:
    return current_app.config.get("API_SOURCES_RATE_LIMIT") or DEFAULT_RATE_LIMIT


def _caller() -> str:
    """Who the rate limit counts: the token presented (by its digest), else the address."""
    presented = _presented()
    if presented:
        return "token:" + hashlib.sha256(presented.encode("utf-8")).hexdigest()[:32]
    return "address:" + get_remote_address()


def _presented() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[: len(BEARER)].lower() != BEARER.lower():
        return None
    return header[len(BEARER) :].strip() or None


def _error(status: int, message: str, **fields: object) -> ResponseReturnValue:
    return jsonify(error=message, **fields), status


@bp.put("/api/sources/<source>/memberships/<external_id>")
@limiter.limit(_rate_limit, key_func=_caller)
def put_membership(source: str, external_id: str) -> ResponseReturnValue:
    session = db.session
    try:
        known = translate.is_api_source(source) and tokens.known_source(session, source)
    except SQLAlchemyError:
        log.exception("membership API: could not read the tokens")
        return _error(503, "could not check the token; please retry")
    if not known:
        return _error(404, f"no membership API source {source!r}")
    verdict = tokens.check(session, source, _presented())
    if verdict == tokens.Verdict.REFUSED:
        response = jsonify(error="a live bearer token of this source is required")
        response.headers["WWW-Authenticate"] = f'Bearer realm="{source}"'
        return response, 401
    if verdict == tokens.Verdict.OTHER_SOURCE:
        return _error(403, f"this token is not one of {source}'s")
    if request.mimetype != "application/json":
        return _error(415, "expected an application/json body")
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH this raises 413
    try:
        body = load(raw.decode("utf-8"))
    except (UnicodeDecodeError, NotAnEvent):
        return _error(400, "the body is not JSON (UTF-8)", field="body")
    config = current_app.config
    try:
        received = receive.receive(
            session, source, external_id, body, config["IDENTITY_KEY"], utcnow()
        )
    except translate.BadBody as exc:
        return _error(422, exc.message, field=exc.field)
    except receive.Conflict as exc:
        return _error(409, str(exc), field="member")
    except StorageError:
        log.exception("membership API: not stored source=%s id=%s", source, external_id)
        response = jsonify(error="could not store the membership; please retry")
        response.headers["Retry-After"] = "5"
        return response, 503
    log.info(
        "membership API source=%s membership=%s event_id=%s outcome=%s",
        source,
        received.membership,
        received.event_id,
        received.outcome,
    )
    if received.outcome == "failed":
        return jsonify(received.answer() | {"error": "processing failed"}), 500
    if received.outcome == "applied":
        _detect_milestones(received.event_id)
    return jsonify(received.answer()), 200


def _detect_milestones(event_id: str) -> None:
    """As after a webhook (webhooks._detect_milestones): after the commit, and a failure only
    logged, since the notify worker catches up."""
    try:
        milestones.detect(db.session, utcnow())
    except Exception:
        log.exception("milestone detection failed after event_id=%s", event_id)
        try:
            db.session.rollback()
        except SQLAlchemyError:
            db.session.invalidate()

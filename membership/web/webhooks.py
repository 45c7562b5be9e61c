"""POST /webhooks/stripe: verify, parse, hand the event to the ledger, answer.

Status codes are the provider's retry contract: 2xx means "stored, do not send again";
anything else makes Stripe retry with back-off for up to three days. So 4xx is kept for
deliveries that can never succeed as sent (not signed, or not an event at all), and 5xx for
"could not store it now" or "stored as failed": a genuine event the rules cannot read yet is
kept, not bounced.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from ..database import db
from ..ledger.store import Event, Outcome, StorageError, Translate, record_event
from ..sources.payloads import NotAnEvent
from ..sources.stripe.envelope import parse
from ..sources.stripe.signature import BadSignature, verify_signature
from ..sources.stripe.translate import Settings, translator

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)


def _refuse(status: int, message: str, **fields: object) -> ResponseReturnValue:
    log.warning(
        "webhook refused status=%s reason=%r %s",
        status,
        message,
        " ".join(f"{k}={v}" for k, v in fields.items()),
    )
    return jsonify(error=message), status


@bp.post("/webhooks/stripe")
def stripe_webhook() -> ResponseReturnValue:
    config = current_app.config
    secrets: tuple[str, ...] = config["STRIPE_WEBHOOK_SECRETS"]
    if not secrets:
        log.error("webhook refused: STRIPE_WEBHOOK_SECRET is not configured; Stripe will retry")
        return jsonify(error="webhook signing secret is not configured"), 503
    if request.mimetype != "application/json":
        return _refuse(415, "expected an application/json body")
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH this raises 413
    header = request.headers.get("Stripe-Signature", "")
    if not header:
        return _refuse(400, "missing Stripe-Signature header")
    try:
        payload = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _refuse(400, "body is not UTF-8")
    try:
        verify_signature(payload, header, secrets)
    except BadSignature as exc:
        return _refuse(400, "invalid signature", detail=str(exc))
    try:
        # Not JSON, nested too deep, or not shaped like an event: not an event at all.
        event = parse(payload)
    except NotAnEvent as exc:
        return _refuse(400, str(exc))
    return _record(event, translator(Settings.from_config(config)))


def _record(event: Event, translate: Translate) -> ResponseReturnValue:
    """Store a verified event and answer as the provider's retry contract asks."""
    try:
        result = record_event(db.session, event, translate)
    except StorageError:
        log.exception("webhook not stored source=%s event_id=%s", event.source, event.id)
        return jsonify(error="could not store the event; please retry", id=event.id), 503
    line = "webhook source=%s event_id=%s type=%s livemode=%s outcome=%s detail=%r"
    args = (event.source, event.id, event.type, event.livemode, result.outcome, result.detail)
    if result.outcome == Outcome.FAILED:
        log.error(line, *args)
        return jsonify(id=event.id, outcome=result.outcome, error="processing failed"), 500
    log.info(line, *args)
    return jsonify(id=event.id, outcome=result.outcome, detail=result.detail), 200

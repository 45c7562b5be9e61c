"""POST /webhooks/stripe: verify, then hand the event to the ledger.

Status codes are Stripe's retry contract: 2xx means "stored, do not send again"; anything else
makes Stripe retry with back-off for up to three days. So 4xx is kept for deliveries that can
never succeed as sent (not signed, or not an event at all), and 5xx for "could not store it
now" or "stored as failed": a genuine event the rules cannot read yet is kept, not bounced.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import stripe
from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from ..database import db
from ..ledger import store as ledger
from ..sources.stripe.events import InvalidEvent, load, parse_envelope

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)

# Stripe's own default: a signature older than five minutes may be a replay.
TOLERANCE_SECONDS = 300


class BadSignature(ValueError):
    pass


def verify_signature(payload: str, header: str, secrets: tuple[str, ...]) -> None:
    """Accept the delivery if any configured secret signed it within the tolerance.

    The SDK checks the HMAC and refuses old timestamps; it accepts any future one, so a
    signature dated more than the tolerance ahead is refused here as well.
    """
    timestamps = [part[2:] for part in header.split(",") if part.strip().startswith("t=")]
    try:
        timestamp = int(timestamps[0].strip()) if len(timestamps) == 1 else None
    except ValueError:
        timestamp = None
    if timestamp is None:
        raise BadSignature("Stripe-Signature has no single timestamp")
    if timestamp > time.time() + TOLERANCE_SECONDS:
        raise BadSignature("Stripe-Signature timestamp is in the future")
    last_error = "no secret matched"
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE_SECONDS)
            return
        except stripe.SignatureVerificationError as exc:
            last_error = str(exc)
    raise BadSignature(last_error)


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
        envelope = parse_envelope(load(payload))
    except InvalidEvent as exc:
        return _refuse(400, str(exc))

    policy = ledger.Policy(
        livemode=config["STRIPE_LIVEMODE"],
        term=timedelta(days=config["MEMBERSHIP_TERM_DAYS"]),
    )
    try:
        result = ledger.record_event(db.session, envelope, payload, policy)
    except InvalidEvent as exc:
        return _refuse(400, str(exc), event_id=envelope.id, type=envelope.type)
    except ledger.StorageError:
        log.exception("webhook not stored event_id=%s type=%s", envelope.id, envelope.type)
        return jsonify(error="could not store the event; please retry", id=envelope.id), 503

    line = "webhook event_id=%s type=%s livemode=%s outcome=%s detail=%r"
    args = (envelope.id, envelope.type, envelope.livemode, result.outcome, result.detail)
    if result.outcome == ledger.Outcome.FAILED:
        log.error(line, *args)
        return jsonify(id=envelope.id, outcome=result.outcome, error="processing failed"), 500
    log.info(line, *args)
    return jsonify(id=envelope.id, outcome=result.outcome, detail=result.detail), 200

"""POST /webhooks/stripe and /webhooks/paypal: verify, parse, hand to the ledger, answer.

Status codes are the provider's retry contract: 2xx means "stored, do not send again";
anything else makes Stripe retry with back-off for up to three days (PayPal: up to 25 times
over three days). So 4xx is kept for deliveries that can never succeed as sent (not signed,
or not an event at all), and 5xx for "could not store it now" (a PayPal certificate that
cannot be fetched now included) or "stored as failed": a genuine event the rules cannot read
yet is kept, not bounced.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from .. import metrics
from ..campaigns import milestones
from ..database import db
from ..ledger.store import Event, Outcome, StorageError, Translate, record_event
from ..models import utcnow
from ..sources.payloads import NotAnEvent
from ..sources.paypal import envelope as paypal_envelope
from ..sources.paypal import signature as paypal_signature
from ..sources.paypal import translate as paypal_translate
from ..sources.paypal.certificates import CertificateUnavailable, Trust
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


def _unready(configured: bool, setting: str, provider: str) -> ResponseReturnValue | None:
    """503 while the source is not configured (the provider retries), 415 for a body that is
    not JSON; None when the delivery may be read."""
    if not configured:
        log.error("webhook refused: %s is not configured; %s will retry", setting, provider)
        return jsonify(error=f"{setting} is not configured"), 503
    if request.mimetype != "application/json":
        return _refuse(415, "expected an application/json body")
    return None


@bp.post("/webhooks/stripe")
def stripe_webhook() -> ResponseReturnValue:
    config = current_app.config
    secrets: tuple[str, ...] = config["STRIPE_WEBHOOK_SECRETS"]
    refused = _unready(bool(secrets), "STRIPE_WEBHOOK_SECRET", "Stripe")
    if refused is not None:
        return refused
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
        event = parse(payload, config["IDENTITY_KEY"])
    except NotAnEvent as exc:
        return _refuse(400, str(exc))
    return _record(event, translator(Settings.from_config(config)))


@bp.post("/webhooks/paypal")
def paypal_webhook() -> ResponseReturnValue:
    config = current_app.config
    webhook_id: str = config["PAYPAL_WEBHOOK_ID"]
    refused = _unready(bool(webhook_id), "PAYPAL_WEBHOOK_ID", "PayPal")
    if refused is not None:
        return refused
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH this raises 413
    trust = Trust(config["PAYPAL_CERT_HOSTS"], config["PAYPAL_CA_BUNDLE"])
    try:
        paypal_signature.verify(raw, request.headers, webhook_id, trust, utcnow())
    except paypal_signature.BadSignature as exc:
        return _refuse(400, "invalid signature", detail=str(exc))
    except CertificateUnavailable as exc:
        log.error("webhook not verified source=paypal: %s; PayPal will retry", exc)
        return jsonify(error="could not fetch the signing certificate; please retry"), 503
    try:
        payload = raw.decode("utf-8")
        cert_url = paypal_signature.header(request.headers, "Cert-Url")
        event = paypal_envelope.parse(
            payload,
            livemode=paypal_signature.livemode_of(cert_url),
            identity_key=config["IDENTITY_KEY"],
        )
    except UnicodeDecodeError:
        return _refuse(400, "body is not UTF-8")
    except NotAnEvent as exc:
        return _refuse(400, str(exc))
    settings = paypal_translate.Settings.from_config(config)
    return _record(event, paypal_translate.translator(settings))


def _record(event: Event, translate: Translate) -> ResponseReturnValue:
    """Store a verified event and answer as the provider's retry contract asks."""
    started = time.perf_counter()
    try:
        result = record_event(db.session, event, translate)
    except StorageError:
        metrics.delivery(event.source, event.type, "unavailable")
        log.exception("webhook not stored source=%s event_id=%s", event.source, event.id)
        return jsonify(error="could not store the event; please retry", id=event.id), 503
    metrics.delivery(event.source, event.type, result.outcome, time.perf_counter() - started)
    line = "webhook source=%s event_id=%s type=%s livemode=%s outcome=%s detail=%r"
    args = (event.source, event.id, event.type, event.livemode, result.outcome, result.detail)
    if result.outcome == Outcome.FAILED:
        log.error(line, *args)
        return jsonify(id=event.id, outcome=result.outcome, error="processing failed"), 500
    log.info(line, *args)
    if result.outcome == Outcome.APPLIED:
        _detect_milestones(event)
    return jsonify(id=event.id, outcome=result.outcome, detail=result.detail), 200


def _detect_milestones(event: Event) -> None:
    """Record the milestones this change carried a campaign across, after the event's own
    commit: the last of concurrent deliveries to commit then sees every change before it.

    The event is stored whatever happens here, so a failure is logged and the delivery still
    answered 200; the notify worker runs the same detection on every tick and catches up.
    """
    try:
        crossings = milestones.detect(db.session, utcnow())
    except Exception:
        log.exception(
            "milestone detection failed after event_id=%s; the worker will retry", event.id
        )
        try:
            db.session.rollback()
        except SQLAlchemyError:
            db.session.invalidate()  # a broken connection: the pool gives the next one anew
        return
    for crossing in crossings:
        log.info(
            "milestone crossed campaign=%s label=%r count=%s",
            crossing.slug,
            crossing.label,
            crossing.count,
        )

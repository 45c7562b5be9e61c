"""POST /webhooks/patreon: verify, read the member back from Patreon, hand to the ledger.

The answers follow the same retry contract as Stripe's and PayPal's (webhooks.py): 400 for a
delivery that is not signed with the webhook's secret or is not a JSON:API document (nothing
is stored); 503 while PATREON_WEBHOOK_SECRET is unset, when the member could not be read from
Patreon (the delivery is stored as ignored with the reason, and Patreon sends it again), or
when the database could not store it; 500 when a read member could not be applied (stored as
failed, replayable); 200 otherwise.
"""

from __future__ import annotations

import logging
import os

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from ..models import utcnow
from ..sources.patreon import signature
from ..sources.patreon import translate as patreon_translate
from ..sources.patreon.envelope import parse_delivery
from ..sources.patreon.receive import receive, webhook_client
from ..sources.patreon.settings import Settings, SettingsError
from ..sources.payloads import NotAnEvent
from .webhooks import _record, _refuse

bp = Blueprint("webhooks_patreon", __name__)
log = logging.getLogger(__name__)


@bp.post("/webhooks/patreon")
def patreon_webhook() -> ResponseReturnValue:
    try:
        settings = Settings.from_config(current_app.config, os.environ)
    except SettingsError as exc:
        log.error("webhook refused: %s; Patreon will retry", exc)
        return jsonify(error="the Patreon source is misconfigured"), 503
    if not settings.webhook_secrets:
        log.error("webhook refused: PATREON_WEBHOOK_SECRET is not configured; Patreon will retry")
        return jsonify(error="PATREON_WEBHOOK_SECRET is not configured"), 503
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH this raises 413
    try:
        signature.verify(raw, request.headers.get("X-Patreon-Signature"), settings.webhook_secrets)
    except signature.BadSignature as exc:
        return _refuse(400, "invalid signature", detail=str(exc))
    try:
        delivery = parse_delivery(raw.decode("utf-8"), request.headers.get("X-Patreon-Event"))
    except UnicodeDecodeError:
        return _refuse(400, "body is not UTF-8")
    except NotAnEvent as exc:
        return _refuse(400, str(exc))
    received = receive(delivery, raw, webhook_client(settings), settings, utcnow())
    translate = patreon_translate.translator(patreon_translate.Settings.from_patreon(settings))
    answer = _record(received.event, translate)
    if received.read_failed is None:
        return answer
    log.error("patreon member not read event_id=%s: %s", received.event.id, received.read_failed)
    return jsonify(id=received.event.id, error="could not read the member; please retry"), 503

"""Realistic, signed Stripe events for demos and tests, without a Stripe account.

Signing follows Stripe's scheme exactly: HMAC-SHA256 over "<timestamp>.<body>" with the
endpoint's signing secret, sent as ``Stripe-Signature: t=<timestamp>,v1=<hex>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any

# The API version our objects are shaped like (invoice.parent.subscription_details).
API_VERSION = "2025-03-31.basil"


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header value for ``payload``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def envelope(
    event_type: str,
    obj: dict[str, Any],
    *,
    created: int,
    livemode: bool,
    event_id: str | None = None,
    api_version: str | None = API_VERSION,
) -> dict[str, Any]:
    """Wrap an API object in an event, as Stripe delivers it."""
    return {
        "id": event_id or stripe_id("evt"),
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": {"object": obj},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": stripe_id("req"), "idempotency_key": None},
        "type": event_type,
    }


def signup(*, created: int, livemode: bool) -> list[dict[str, Any]]:
    """The events one reader's monthly membership sign-up through Checkout produces."""
    customer, subscription = stripe_id("cus"), stripe_id("sub")
    session = {
        "id": stripe_id("cs_live" if livemode else "cs_test"),
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "customer": customer,
        "subscription": subscription,
        "payment_intent": None,
        "amount_total": 1000,
        "currency": "usd",
        "livemode": livemode,
        "created": created - 40,
    }
    sub = {
        "id": subscription,
        "object": "subscription",
        "customer": customer,
        "status": "active",
        "collection_method": "charge_automatically",
        "currency": "usd",
        "livemode": livemode,
        "created": created - 2,
        "start_date": created - 2,
        "cancel_at_period_end": False,
    }
    invoice = {
        "id": stripe_id("in"),
        "object": "invoice",
        "customer": customer,
        "status": "paid",
        "billing_reason": "subscription_create",
        "amount_paid": 1000,
        "currency": "usd",
        "livemode": livemode,
        "created": created - 2,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": subscription},
        },
    }
    return [
        envelope("customer.subscription.created", sub, created=created - 2, livemode=livemode),
        envelope("invoice.paid", invoice, created=created - 1, livemode=livemode),
        envelope("checkout.session.completed", session, created=created, livemode=livemode),
    ]


def deliver(url: str, event: dict[str, Any], secret: str, *, timeout: float = 10) -> int:
    """POST one signed event; return the HTTP status."""
    payload = json.dumps(event)
    request = urllib.request.Request(
        url,
        data=payload.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign(payload, secret),
            "User-Agent": "membership-simulate",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code

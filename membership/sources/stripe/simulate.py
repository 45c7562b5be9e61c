"""Realistic, signed Stripe events for demos and tests, without a Stripe account.

Signing follows Stripe's scheme exactly: HMAC-SHA256 over "<timestamp>.<body>" with the
endpoint's signing secret, sent as ``Stripe-Signature: t=<timestamp>,v1=<hex>``.

Events built with ``demo=True`` carry ``_demo_`` in every id (``evt_demo_…``, ``sub_demo_…``):
Stripe's own ids never hold a second underscore, so simulated events stay recognisable in the
webhook log and can never be taken for a reader's payment.
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
# Prices, in cents: a monthly membership and a one-off membership for a year.
MONTHLY, YEARLY = 1000, 9900


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header value for ``payload``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# In every id of a simulated (demo) event; no id Stripe issues contains it.
DEMO_MARKER = "_demo_"


def stripe_id(prefix: str, *, demo: bool = False) -> str:
    return f"{prefix}{DEMO_MARKER if demo else '_'}{secrets.token_hex(12)}"


def envelope(
    event_type: str,
    obj: dict[str, Any],
    *,
    created: int,
    livemode: bool,
    event_id: str | None = None,
    api_version: str | None = API_VERSION,
    demo: bool = False,
) -> dict[str, Any]:
    """Wrap an API object in an event, as Stripe delivers it."""
    return {
        "id": event_id or stripe_id("evt", demo=demo),
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": {"object": obj},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": stripe_id("req", demo=demo), "idempotency_key": None},
        "type": event_type,
    }


def _checkout_session(
    mode: str, amount: int, created: int, livemode: bool, demo: bool, *, customer: str | None
) -> dict[str, Any]:
    """A paid, complete checkout session (the fields the service and a reader's eye use)."""
    return {
        "id": stripe_id("cs_live" if livemode else "cs_test", demo=demo),
        "object": "checkout.session",
        "mode": mode,
        "status": "complete",
        "payment_status": "paid",
        "customer": customer,
        "amount_total": amount,
        "currency": "usd",
        "livemode": livemode,
        "created": created,
    }


def signup(*, created: int, livemode: bool, demo: bool = False) -> list[dict[str, Any]]:
    """The events one reader's monthly membership sign-up through Checkout produces.

    The subscription's id and customer are in the first event's object.
    """
    customer, subscription = stripe_id("cus", demo=demo), stripe_id("sub", demo=demo)
    session = _checkout_session(
        "subscription", MONTHLY, created - 40, livemode, demo, customer=customer
    )
    session.update(subscription=subscription, payment_intent=None)
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
        "canceled_at": None,
        "ended_at": None,
    }
    invoice = _invoice(customer, subscription, "subscription_create", created - 2, livemode, demo)
    return [
        envelope(
            "customer.subscription.created",
            sub,
            created=created - 2,
            livemode=livemode,
            demo=demo,
        ),
        envelope("invoice.paid", invoice, created=created - 1, livemode=livemode, demo=demo),
        envelope(
            "checkout.session.completed", session, created=created, livemode=livemode, demo=demo
        ),
    ]


def renewal(
    subscription: str, customer: str, *, created: int, livemode: bool, demo: bool = False
) -> list[dict[str, Any]]:
    """The event of a monthly subscription's next payment."""
    invoice = _invoice(customer, subscription, "subscription_cycle", created, livemode, demo)
    return [envelope("invoice.paid", invoice, created=created, livemode=livemode, demo=demo)]


def cancellation(
    subscription: str,
    customer: str,
    *,
    started: int,
    created: int,
    livemode: bool,
    demo: bool = False,
) -> list[dict[str, Any]]:
    """The event of a reader cancelling a subscription with immediate effect."""
    sub = {
        "id": subscription,
        "object": "subscription",
        "customer": customer,
        "status": "canceled",
        "collection_method": "charge_automatically",
        "currency": "usd",
        "livemode": livemode,
        "created": started,
        "start_date": started,
        "cancel_at_period_end": False,
        "canceled_at": created,
        "ended_at": created,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested",
        },
    }
    return [
        envelope(
            "customer.subscription.deleted", sub, created=created, livemode=livemode, demo=demo
        )
    ]


def one_off_payment(
    *, created: int, livemode: bool, guest: bool = False, demo: bool = False
) -> list[dict[str, Any]]:
    """The event of a one-off yearly membership paid through Checkout (a guest has no
    customer). The payment intent, which a refund names, is in the event's object."""
    customer = None if guest else stripe_id("cus", demo=demo)
    session = _checkout_session("payment", YEARLY, created - 60, livemode, demo, customer=customer)
    session.update(
        customer_creation="if_required" if guest else None,
        subscription=None,
        payment_intent=stripe_id("pi", demo=demo),
    )
    return [
        envelope(
            "checkout.session.completed", session, created=created, livemode=livemode, demo=demo
        )
    ]


def refund(
    payment_intent: str, *, created: int, livemode: bool, demo: bool = False
) -> list[dict[str, Any]]:
    """The event of a one-off membership payment refunded in full."""
    charge = {
        "id": stripe_id("ch", demo=demo),
        "object": "charge",
        "amount": YEARLY,
        "amount_captured": YEARLY,
        "amount_refunded": YEARLY,
        "captured": True,
        "currency": "usd",
        "livemode": livemode,
        "paid": True,
        "payment_intent": payment_intent,
        "refunded": True,
        "status": "succeeded",
        "created": created - 3600,
    }
    return [envelope("charge.refunded", charge, created=created, livemode=livemode, demo=demo)]


def _invoice(
    customer: str, subscription: str, reason: str, created: int, livemode: bool, demo: bool
) -> dict[str, Any]:
    return {
        "id": stripe_id("in", demo=demo),
        "object": "invoice",
        "customer": customer,
        "status": "paid",
        "billing_reason": reason,
        "amount_paid": MONTHLY,
        "currency": "usd",
        "livemode": livemode,
        "created": created,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": subscription},
        },
    }


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

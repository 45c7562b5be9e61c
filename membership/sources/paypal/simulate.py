"""Realistic, signed PayPal deliveries for demos and tests, without a PayPal account.

Everything is as PayPal does it (headers, signed string, CRC-32, SHA256withRSA) except the
signer, a stand-in certificate (``standin``): see there for how a service is told to trust it.
Simulated ids carry DEMO, so they are never taken for a reader's payment.
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from .signature import ALGORITHM, signed_message
from .standin import Issued

DEMO_MARKER = "DEMO"


def sign(
    body: bytes,
    webhook_id: str,
    signer: Issued,
    cert_url: str,
    *,
    transmission_time: datetime | None = None,
    transmission_id: str | None = None,
) -> dict[str, str]:
    """The PAYPAL-* headers PayPal sends with ``body`` for webhook ``webhook_id``."""
    when = (transmission_time or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    transmission_id = transmission_id or f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-demo"
    message = signed_message(transmission_id, when, webhook_id, body)
    signature = signer.key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": when,
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
        "PAYPAL-CERT-URL": cert_url,
        "PAYPAL-AUTH-ALGO": ALGORITHM,
        "PAYPAL-AUTH-VERSION": "v2",
        "Content-Type": "application/json",
    }


def paypal_id(prefix: str, length: int = 13, *, demo: bool = False) -> str:
    core = secrets.token_hex(length).upper()[:length]
    return f"{prefix}{DEMO_MARKER}{core[len(DEMO_MARKER) :]}" if demo else f"{prefix}{core}"


def event(
    event_type: str,
    resource: dict[str, Any],
    *,
    created: datetime,
    event_id: str | None = None,
    demo: bool = False,
) -> dict[str, Any]:
    """Wrap a resource in a webhook event as PayPal delivers it."""
    event_id = event_id or paypal_id("WH-", 36, demo=demo)
    kind = "subscription" if event_type.startswith("BILLING.") else "capture"
    return {
        "id": event_id,
        "event_version": "1.0",
        "create_time": created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "resource_type": kind,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": f"{event_type} (simulated)",
        "resource": resource,
        "links": [],
    }


def subscription(
    subscription_id: str, status: str, *, at: datetime, payer_id: str | None = None
) -> dict[str, Any]:
    """A subscription resource as the Subscriptions API returns it."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    resource: dict[str, Any] = {
        "id": subscription_id,
        "plan_id": "P-5ML4271244454362WXNWU5NQ",
        "status": status,
        "status_update_time": stamp,
        "start_time": stamp,
        "create_time": stamp,
        "update_time": stamp,
        "subscriber": {
            "name": {"given_name": "Demo", "surname": "Reader"},
            "email_address": f"{subscription_id.lower()}@example.org",
        },
    }
    if payer_id:
        resource["subscriber"]["payer_id"] = payer_id
    return resource


def signup(*, at: datetime, demo: bool = False) -> list[dict[str, Any]]:
    """The events one reader's monthly PayPal subscription produces: created, activated,
    first payment."""
    sub, payer = paypal_id("I-", 12, demo=demo), paypal_id("", 13, demo=demo)
    sale = {
        "id": paypal_id("", 17, demo=demo),
        "state": "completed",
        "amount": {"total": "10.00", "currency": "USD"},
        "billing_agreement_id": sub,
        "create_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    paid = event("PAYMENT.SALE.COMPLETED", sale, created=at, demo=demo)
    paid.pop("resource_version")
    paid["resource_type"] = "sale"
    return [
        event(
            "BILLING.SUBSCRIPTION.CREATED",
            subscription(sub, "APPROVAL_PENDING", at=at - timedelta(seconds=40)),
            created=at - timedelta(seconds=40),
            demo=demo,
        ),
        event(
            "BILLING.SUBSCRIPTION.ACTIVATED",
            subscription(sub, "ACTIVE", at=at - timedelta(seconds=2), payer_id=payer),
            created=at - timedelta(seconds=2),
            demo=demo,
        ),
        paid,
    ]


def body_of(delivery: dict[str, Any]) -> bytes:
    return json.dumps(delivery, separators=(",", ":")).encode()


def deliver(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST one signed delivery; the HTTP status the service answered."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code

"""The signed webhook channel: a JSON body with a Stripe-like timestamped HMAC-SHA256 header.

``Membership-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the
channel's secret>``; docs/notifications.md shows receivers how to check it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from .outbox import Notice
from .outgoing import post_json

SIGNATURE_HEADER = "Membership-Signature"
DELIVERY_HEADER = "Membership-Delivery-Id"


def body(notice: Notice, delivery_id: str, created_at: datetime) -> bytes:
    event: dict[str, Any] = {
        "id": delivery_id,
        "type": "milestone.crossed" if notice.kind == "milestone" else "digest.weekly",
        "created": int(created_at.timestamp()),
        "key": notice.key,
        "milestone": notice.milestone,
        "subject": notice.subject,
        "text": notice.text,
        "data": notice.data,
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, payload: bytes) -> str:
    signed = str(timestamp).encode() + b"." + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def send(
    url: str,
    secret: str,
    notice: Notice,
    delivery_id: str,
    created_at: datetime,
    now: datetime,
    timeout: float,
) -> None:
    # Signed at each attempt: the timestamp is when it was sent, so receivers can refuse old
    # replays; the body, and the delivery id in it, stay the same for every attempt.
    payload = body(notice, delivery_id, created_at)
    headers = {
        SIGNATURE_HEADER: signature(secret, int(now.timestamp()), payload),
        DELIVERY_HEADER: delivery_id,
    }
    post_json(url, payload, headers, timeout)

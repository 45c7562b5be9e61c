"""Realistic Stripe events for tests: Stripe's own fixture objects, overridden and signed.

Every event is built from a full API object (tests/fixtures/stripe), so the service sees the
same shape and size of payload that Stripe sends, then signed with Stripe's exact scheme.
"""

from __future__ import annotations

import copy
import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any

from membership.ledger.store import Result, record_event
from membership.sources.stripe.envelope import parse
from membership.sources.stripe.simulate import envelope, sign
from membership.sources.stripe.translate import Settings, translator

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
NEW_API = "2025-03-31.basil"  # invoice.parent.subscription_details.subscription
OLD_API = "2024-06-20"  # invoice.subscription

_ids = itertools.count(1)


@cache
def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def fixture(name: str, **overrides: Any) -> dict[str, Any]:
    obj = copy.deepcopy(_fixture(name))
    obj.update(overrides)
    return obj


def event_id() -> str:
    return f"evt_test_{next(_ids):08d}"


def subscription_event(
    kind: str,
    subscription: str,
    customer: str,
    status: str,
    created: int,
    *,
    livemode: bool = False,
    id: str | None = None,
) -> dict[str, Any]:
    obj = fixture(
        "subscription",
        id=subscription,
        customer=customer,
        status=status,
        created=created,
        livemode=livemode,
    )
    return envelope(
        f"customer.subscription.{kind}",
        obj,
        created=created,
        livemode=livemode,
        event_id=id or event_id(),
        api_version=NEW_API,
    )


def checkout_event(
    session: str,
    created: int,
    *,
    mode: str = "subscription",
    payment_status: str = "paid",
    customer: str | None = None,
    subscription: str | None = None,
    payment_intent: str | None = None,
    kind: str = "completed",
    livemode: bool = False,
    id: str | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    obj = fixture(
        "checkout.session",
        id=session,
        mode=mode,
        payment_status=payment_status,
        customer=customer,
        subscription=subscription,
        payment_intent=payment_intent,
        status="complete",
        created=created,
        livemode=livemode,
    )
    if email is not None:
        obj["customer_details"] = {**obj["customer_details"], "email": email}
    return envelope(
        f"checkout.session.{kind}",
        obj,
        created=created,
        livemode=livemode,
        event_id=id or event_id(),
        api_version=NEW_API,
    )


def invoice_paid(
    invoice: str,
    customer: str,
    subscription: str | None,
    created: int,
    *,
    shape: str = "new",
    livemode: bool = False,
    id: str | None = None,
) -> dict[str, Any]:
    obj = fixture(
        "invoice",
        id=invoice,
        customer=customer,
        status="paid",
        created=created,
        livemode=livemode,
        amount_paid=1000,
        amount_remaining=0,
    )
    if shape == "old":
        obj["subscription"] = subscription
        obj.pop("parent", None)
        api = OLD_API
    else:
        obj["subscription"] = None
        obj["parent"] = {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": subscription},
        }
        api = NEW_API
    return envelope(
        "invoice.paid",
        obj,
        created=created,
        livemode=livemode,
        event_id=id or event_id(),
        api_version=api,
    )


def charge_refunded(
    charge: str,
    payment_intent: str | None,
    created: int,
    *,
    refunded: bool = True,
    customer: str | None = None,
    livemode: bool = False,
    id: str | None = None,
) -> dict[str, Any]:
    obj = fixture(
        "charge",
        id=charge,
        payment_intent=payment_intent,
        refunded=refunded,
        amount_refunded=100 if refunded else 40,
        customer=customer,
        created=created,
        livemode=livemode,
        captured=True,
    )
    return envelope(
        "charge.refunded",
        obj,
        created=created,
        livemode=livemode,
        event_id=id or event_id(),
        api_version=NEW_API,
    )


def other_event(
    kind: str, created: int, *, livemode: bool = False, **fields: Any
) -> dict[str, Any]:
    """An event of a customer (customer.created, say), with ``fields`` set on it."""
    obj = fixture("customer", created=created, livemode=livemode, **fields)
    return envelope(
        kind, obj, created=created, livemode=livemode, event_id=event_id(), api_version=NEW_API
    )


def signed(
    event: dict[str, Any], secret: str, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery, byte for byte as signed."""
    body = json.dumps(event)
    return body.encode(), {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": sign(body, secret, timestamp),
    }


def dumps(event: dict[str, Any]) -> str:
    """The event as Stripe sends it: JSON text."""
    return json.dumps(event)


def record(
    session: Any,
    event: dict[str, Any] | str,
    settings: Settings = Settings(),  # noqa: B008 - frozen
    *,
    now: Any = None,
) -> Result:
    """Record one event straight into the ledger, as the webhook does after verifying it."""
    return record_event(session, parse(event, settings.identity_key), translator(settings), now=now)

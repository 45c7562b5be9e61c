"""Stripe event -> ledger change. Pure translation: no I/O, no database, no Flask.

Each function reads only the fields the ledger rules need, and says precisely what is wrong
when a field it needs is missing or of the wrong type.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# What a subscription's latest status means for membership.
PENDING, ACTIVE, LAPSED = "pending", "active", "lapsed"
SUBSCRIPTION_STATES = {
    "active": ACTIVE,
    "trialing": ACTIVE,
    "past_due": ACTIVE,
    "canceled": LAPSED,
    "unpaid": LAPSED,
    "incomplete_expired": LAPSED,
    "paused": LAPSED,
    "incomplete": PENDING,
}
# Stripe never revives a canceled subscription, nor an incomplete one that expired.
FINAL_STATUSES = frozenset({"canceled", "incomplete_expired"})
# Events that share a `created` second are ordered by this rank, then by event id, so the
# outcome never depends on arrival order: lapsed sorts before active, so at a tie the
# subscription is taken to have been (re)activated last.
STATE_RANK = {PENDING: 0, LAPSED: 1, ACTIVE: 2}

PAID_CHECKOUT = frozenset({"paid", "no_payment_required"})

# Stripe's objects nest about ten levels, envelope included (tests/fixtures/stripe: at most 9
# in the object). A body nested deeper than this is not an event; refusing it before parsing
# keeps every walk over a payload (json, the privacy scrub, the admin's view) far from
# Python's recursion limit.
MAX_DEPTH = 64
# The width of the stripe_event.id and ledger key columns; Stripe's ids are about 30 long.
MAX_ID_LENGTH = 255

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


class InvalidEvent(ValueError):
    """The delivery is not a Stripe event at all: not JSON, nested too deep, or without an
    id, type, created time or data object of the right types. Refused, never stored."""


class UnreadableEvent(ValueError):
    """A genuine event whose object lacks a field its type needs, or holds a value this
    version of the rules cannot interpret (another API version). Recorded as failed, so it is
    kept, retried, and can be replayed once the code reads it."""


class UnknownStatus(UnreadableEvent):
    """A subscription status Stripe added after this code was written."""


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    created: datetime
    livemode: bool
    api_version: str | None
    object: dict[str, Any]


@dataclass(frozen=True)
class SubscriptionChange:
    """A subscription was seen in a state at a moment."""

    subscription: str
    customer: str
    state: str
    final: bool
    at: datetime
    event_id: str


@dataclass(frozen=True)
class PaymentChange:
    """A one-off membership payment was paid (a checkout session in payment mode)."""

    checkout_session: str
    member: str
    payment_intent: str | None
    at: datetime
    event_id: str


@dataclass(frozen=True)
class RefundChange:
    """A payment intent was fully refunded."""

    payment_intent: str
    at: datetime
    event_id: str


@dataclass(frozen=True)
class Ignored:
    reason: str


Change = SubscriptionChange | PaymentChange | RefundChange


def nesting_depth(text: str) -> int:
    """How deep JSON text nests arrays and objects, read without parsing it (so without
    recursion); brackets inside strings do not count."""
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for bracket in brackets:
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def load(payload: str) -> Any:
    """The JSON of a delivered body; InvalidEvent if it is not JSON or nests too deep."""
    if nesting_depth(payload) > MAX_DEPTH:
        raise InvalidEvent(f"the body is nested too deep (more than {MAX_DEPTH} levels)")
    try:
        return json.loads(payload)
    except json.JSONDecodeError:
        raise InvalidEvent("body is not JSON") from None
    except ValueError:  # an integer of more than 4,300 digits, which Python will not convert
        raise InvalidEvent("the body holds a number too long to read") from None


def parse_envelope(event: Any) -> Envelope:
    """Check the envelope every event has: id, type, created, livemode and a data object."""
    if not isinstance(event, dict):
        raise InvalidEvent("the body is not a JSON object")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        raise InvalidEvent("the event has no id")
    if len(event_id) > MAX_ID_LENGTH:
        raise InvalidEvent(f"the event id is longer than {MAX_ID_LENGTH} characters")
    event_type = event.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidEvent("the event has no type")
    created = event.get("created")
    # bool is an int in Python; a JSON true is not a timestamp.
    if not isinstance(created, int) or isinstance(created, bool) or created <= 0:
        raise InvalidEvent("the event has no created timestamp")
    try:
        created_at = datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidEvent("the event's created timestamp is out of range") from None
    livemode = event.get("livemode", False)
    if not isinstance(livemode, bool):
        raise InvalidEvent("the event's livemode is not true or false")
    api_version = event.get("api_version")
    if api_version is not None and not isinstance(api_version, str):
        raise InvalidEvent("the event's api_version is not a string")
    # Stored as they are: a NUL (which PostgreSQL text cannot hold), a lone surrogate (which
    # no database driver can encode) or a control character is in no Stripe id or name.
    for field, value in (("id", event_id), ("type", event_type), ("api_version", api_version)):
        if value is not None and not value.isprintable():
            raise InvalidEvent(f"the event's {field} is not printable text")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise InvalidEvent("the event has no data object")
    return Envelope(
        id=event_id,
        type=event_type,
        created=created_at,
        livemode=livemode,
        api_version=api_version,
        object=data["object"],
    )


def _id(obj: dict[str, Any], field: str, *, required: bool = True) -> str | None:
    """An id field, which Stripe sends as a string or, when expanded, as an object."""
    value = obj.get(field)
    if isinstance(value, dict):
        value = value.get("id")
    if value is None and not required:
        return None
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_ID_LENGTH
        or not value.isprintable()  # a key the ledger stores; see parse_envelope
    ):
        kind = obj.get("object", "object")
        name = "id" if field == "id" else f"{field} id"
        raise UnreadableEvent(f"the {kind} has no {name}")
    return value


def _str(obj: dict[str, Any], field: str) -> str:
    value = obj.get(field)
    if not isinstance(value, str):
        kind = obj.get("object", "object")
        raise UnreadableEvent(f"the {kind} has no {field}")
    return value


def invoice_subscription(invoice: dict[str, Any]) -> str | None:
    """The subscription an invoice bills, in either shape Stripe has used.

    Older API versions put it at ``invoice.subscription``; from 2025-03-31 (basil) it moved to
    ``invoice.parent.subscription_details.subscription``.
    """
    if invoice.get("subscription") is not None:
        return _id(invoice, "subscription")
    parent = invoice.get("parent")
    if isinstance(parent, dict):
        details = parent.get("subscription_details")
        if isinstance(details, dict) and details.get("subscription") is not None:
            return _id(details, "subscription")
    return None


def translate(envelope: Envelope) -> Change | Ignored:
    """What an event means for the ledger, or why it means nothing."""
    obj = envelope.object
    kind = envelope.type
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        return _checkout(envelope, obj)
    if kind in (
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ):
        status = _str(obj, "status")
        if status not in SUBSCRIPTION_STATES:
            # A genuine event of a status Stripe added after this code: not a bad delivery.
            # Like every UnreadableEvent it is recorded as failed (and retried), so
            # `flask stripe replay --failed` can apply it once the service knows the status.
            raise UnknownStatus(f"unknown subscription status {status!r}")
        deleted = kind == "customer.subscription.deleted"
        return SubscriptionChange(
            subscription=_id(obj, "id"),  # type: ignore[arg-type]
            customer=_id(obj, "customer"),  # type: ignore[arg-type]
            state=LAPSED if deleted else SUBSCRIPTION_STATES[status],
            final=deleted or status in FINAL_STATUSES,
            at=envelope.created,
            event_id=envelope.id,
        )
    if kind == "invoice.paid":
        subscription = invoice_subscription(obj)
        if subscription is None:
            return Ignored("invoice is not for a subscription")
        return SubscriptionChange(
            subscription=subscription,
            customer=_id(obj, "customer"),  # type: ignore[arg-type]
            state=ACTIVE,
            final=False,
            at=envelope.created,
            event_id=envelope.id,
        )
    if kind == "charge.refunded":
        refunded = obj.get("refunded")
        if not isinstance(refunded, bool):
            raise UnreadableEvent("the charge has no refunded flag")
        if not refunded:
            return Ignored("partial refund")
        payment_intent = _id(obj, "payment_intent", required=False)
        if payment_intent is None:
            return Ignored("refunded charge has no payment intent")
        return RefundChange(
            payment_intent=payment_intent, at=envelope.created, event_id=envelope.id
        )
    return Ignored(f"{kind} does not change membership")


def _checkout(envelope: Envelope, session: dict[str, Any]) -> Change | Ignored:
    session_id = _id(session, "id")
    assert session_id is not None
    payment_status = _str(session, "payment_status")
    if payment_status not in PAID_CHECKOUT:
        # Delayed payment methods complete "unpaid"; async_payment_succeeded follows.
        return Ignored(f"checkout session is {payment_status}")
    mode = _str(session, "mode")
    if mode == "subscription":
        return SubscriptionChange(
            subscription=_id(session, "subscription"),  # type: ignore[arg-type]
            customer=_id(session, "customer"),  # type: ignore[arg-type]
            state=ACTIVE,
            final=False,
            at=envelope.created,
            event_id=envelope.id,
        )
    if mode == "payment":
        # A guest checkout has no customer: the session itself is the member.
        member = _id(session, "customer", required=False) or session_id
        return PaymentChange(
            checkout_session=session_id,
            member=member,
            payment_intent=_id(session, "payment_intent", required=False),
            at=envelope.created,
            event_id=envelope.id,
        )
    return Ignored(f"checkout session in {mode} mode")

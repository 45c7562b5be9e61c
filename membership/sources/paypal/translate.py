"""PayPal event -> ledger change. Pure translation: no I/O, no database, no Flask.

Keys. A PayPal subscription (I-…) is a recurring membership, and it is also its own member:
the ledger binds a membership to one member when it first sees it, in whatever order events
arrive, and PayPal names the payer (``subscriber.payer_id``) only once the reader has approved
the subscription, and never in the payment events (``PAYMENT.SALE.*`` carry only
``billing_agreement_id``). Keying the member by ``payer_id`` would make the same subscription
name two members depending on which event came first. The reader behind two subscriptions is
linked instead by the identity fingerprint of ``subscriber.email_address``, which every
subscription event carries. A one-off payment through Orders is keyed by its order (or, with
no order named, its capture), which is again its own member; the capture id is the payment a
refund names.

Refunds. PayPal's refund events do not say whether the refund was full: the refund resource
carries its own amount, never the captured one. A membership is one item, so every completed
refund of a capture or sale is taken as refunding it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ...ledger.offers import offer
from ...ledger.rules import Change, Ignored, OneOffPayment, PaymentRefund, RecurringChange, State
from ...ledger.store import Event, Translate
from ..payloads import MAX_ID_LENGTH
from .envelope import SOURCE, resource_of

# What a subscription's status means for membership.
SUBSCRIPTION_STATES = {
    "APPROVAL_PENDING": State.PENDING,
    "APPROVED": State.PENDING,
    "ACTIVE": State.ACTIVE,
    "SUSPENDED": State.LAPSED,
    "CANCELLED": State.LAPSED,
    "EXPIRED": State.LAPSED,
}
# PayPal never revives a cancelled or expired subscription.
FINAL_STATUSES = frozenset({"CANCELLED", "EXPIRED"})
# RE-ACTIVATED is the legacy (Billing Agreements) name of a reactivation.
SUBSCRIPTION_EVENTS = frozenset(
    "BILLING.SUBSCRIPTION." + name
    for name in ("CREATED", "ACTIVATED", "UPDATED", "SUSPENDED", "CANCELLED", "EXPIRED")
) | {"BILLING.SUBSCRIPTION.RE-ACTIVATED"}
# A legacy agreement's ``state`` where it differs from today's status names.
LEGACY_STATES = {"PENDING": "APPROVAL_PENDING"}
# The status an event of the legacy (v1, Billing Agreements) shape implies, which carries
# ``state`` ("Active", "Suspended", ...) instead of ``status``, or none at all.
EVENT_STATUS = {
    "BILLING.SUBSCRIPTION.ACTIVATED": "ACTIVE",
    "BILLING.SUBSCRIPTION.RE-ACTIVATED": "ACTIVE",
    "BILLING.SUBSCRIPTION.SUSPENDED": "SUSPENDED",
    "BILLING.SUBSCRIPTION.CANCELLED": "CANCELLED",
    "BILLING.SUBSCRIPTION.EXPIRED": "EXPIRED",
}
PAYMENT_FAILED = "BILLING.SUBSCRIPTION.PAYMENT.FAILED"
MAX_OBJECT_ID_LENGTH = MAX_ID_LENGTH - len(SOURCE) - 1


class UnreadableEvent(ValueError):
    """A genuine event whose resource lacks a field its type needs: recorded as failed, kept,
    retried, and replayable once the code reads it."""


class UnknownStatus(UnreadableEvent):
    """A subscription status PayPal added after this code was written."""


@dataclass(frozen=True)
class Settings:
    """The deployment's choices about PayPal events (from config.py)."""

    mode: str | None = None  # "live", "sandbox" or None for both
    term: timedelta = timedelta(days=365)  # how long a one-off membership payment lasts

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            mode=config.get("PAYPAL_MODE"),
            term=timedelta(days=config["MEMBERSHIP_TERM_DAYS"]),
        )


def translator(settings: Settings) -> Translate:
    """The translate function the ledger's store takes, for these settings."""
    return lambda event: translate(event, settings)


def _id(value: object, what: str) -> str:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_OBJECT_ID_LENGTH
        or not value.isprintable()
    ):
        raise UnreadableEvent(f"the event has no {what}")
    return value


def _linked(resource: Mapping[str, Any], rel: str) -> str | None:
    """The last path segment of the resource's link of relation ``rel`` (``up``: the capture
    a refund refunds, or the order a capture belongs to)."""
    links = resource.get("links")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, Mapping) and link.get("rel") == rel:
            href = link.get("href")
            if isinstance(href, str) and href.rstrip("/"):
                return href.rstrip("/").rsplit("/", 1)[-1]
    return None


def subscription_status(event_type: str, resource: Mapping[str, Any]) -> str:
    status = resource.get("status")
    if status is None:
        state = resource.get("state")  # legacy billing agreements: "Active", "Cancelled"...
        if isinstance(state, str):
            status = LEGACY_STATES.get(state.upper(), state.upper())
        else:
            status = EVENT_STATUS.get(event_type)
    if not isinstance(status, str):
        raise UnreadableEvent("the subscription has no status")
    if status not in SUBSCRIPTION_STATES:
        raise UnknownStatus(f"unknown subscription status {status!r}")
    return status


def translate(event: Event, settings: Settings = Settings()) -> Change | Ignored:  # noqa: B008
    """What an event means for the ledger, or why it means nothing."""
    if settings.mode == "live" and event.livemode is False:
        return Ignored("sandbox event; this deployment counts live mode only")
    if settings.mode == "sandbox" and event.livemode is True:
        return Ignored("live event; this deployment counts sandbox mode only")
    resource = resource_of(event)
    kind = event.type
    if kind in SUBSCRIPTION_EVENTS:
        status = subscription_status(kind, resource)
        subscription = _id(resource.get("id"), "subscription id")
        return _recurring(event, subscription, status, _plan(resource))
    if kind == PAYMENT_FAILED:
        # A failed payment changes nothing by itself: PayPal retries, then suspends or
        # cancels the subscription, and says so with its own event.
        return Ignored("a failed payment; the subscription's own events say if it lapses")
    if kind == "PAYMENT.SALE.COMPLETED":
        agreement = resource.get("billing_agreement_id")
        if agreement is None:
            return Ignored("a sale that is not a subscription's payment")
        return _recurring(event, _id(agreement, "billing_agreement_id"), "ACTIVE")
    if kind == "PAYMENT.CAPTURE.COMPLETED":
        return _capture(event, resource, settings)
    if kind in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.SALE.REFUNDED"):
        return _refund(event, resource)
    return Ignored(f"{kind} does not change membership")


def _plan(subscription: Mapping[str, Any]) -> frozenset[str]:
    """The subscription's plan as an offer (what campaigns define PayPal memberships by).
    A sale names no plan; its subscription's own events do."""
    plan = subscription.get("plan_id")
    if isinstance(plan, str) and 0 < len(plan) <= MAX_ID_LENGTH and plan.isprintable():
        return frozenset({offer("plan", plan)})
    return frozenset()


def _recurring(
    event: Event, subscription: str, status: str, offers: frozenset[str] = frozenset()
) -> RecurringChange:
    return RecurringChange(
        source=SOURCE,
        membership=subscription,
        member=subscription,
        state=SUBSCRIPTION_STATES[status],
        final=status in FINAL_STATUSES,
        at=event.created,
        event_id=event.id,
        identity=event.identity,
        offers=offers,
    )


def _capture(event: Event, capture: Mapping[str, Any], settings: Settings) -> Change | Ignored:
    capture_id = _id(capture.get("id"), "capture id")
    status = capture.get("status", capture.get("state"))
    if isinstance(status, str) and status.upper() != "COMPLETED":
        return Ignored(f"capture is {status}")
    related = capture.get("supplementary_data")
    related = related.get("related_ids") if isinstance(related, Mapping) else None
    order = related.get("order_id") if isinstance(related, Mapping) else None
    order = order if isinstance(order, str) and order else None
    membership = _id(order or capture_id, "order id")
    return OneOffPayment(
        source=SOURCE,
        membership=membership,
        member=membership,
        payment=capture_id,
        term=settings.term,
        at=event.created,
        event_id=event.id,
        identity=event.identity,
    )


def _refund(event: Event, refund: Mapping[str, Any]) -> Change | Ignored:
    status = refund.get("status", refund.get("state"))
    if isinstance(status, str) and status.upper() != "COMPLETED":
        return Ignored(f"refund is {status}")
    if event.type == "PAYMENT.SALE.REFUNDED":
        payment = refund.get("sale_id") or _linked(refund, "sale")
    else:
        payment = _linked(refund, "up")
    if payment is None:
        return Ignored("the refund names no payment")
    return PaymentRefund(SOURCE, _id(payment, "refunded payment id"), event.created, event.id)

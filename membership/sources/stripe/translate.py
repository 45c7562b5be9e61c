"""Stripe event -> ledger change. Pure translation: no I/O, no database, no Flask.

Each function reads only the fields the ledger rules need, and says precisely what is wrong
when a field it needs is missing or of the wrong type. Deployment policy (which mode counts,
how long a one-off payment lasts) is applied here, by the source, not by the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ...ledger.rules import (
    Change,
    IdentitySeen,
    Ignored,
    OneOffPayment,
    PaymentRefund,
    RecurringChange,
    State,
)
from ...ledger.store import Event, Translate
from ..payloads import MAX_ID_LENGTH
from . import offers
from .envelope import SOURCE, data_object

# What a subscription's latest status means for membership.
SUBSCRIPTION_STATES = {
    "active": State.ACTIVE,
    "trialing": State.ACTIVE,
    "past_due": State.ACTIVE,
    "canceled": State.LAPSED,
    "unpaid": State.LAPSED,
    "incomplete_expired": State.LAPSED,
    "paused": State.LAPSED,
    "incomplete": State.PENDING,
}
# Stripe never revives a canceled subscription, nor an incomplete one that expired.
FINAL_STATUSES = frozenset({"canceled", "incomplete_expired"})
PAID_CHECKOUT = frozenset({"paid", "no_payment_required"})
# An object id becomes a ledger key "stripe:<id>", which must fit the 255-character columns.
MAX_OBJECT_ID_LENGTH = MAX_ID_LENGTH - len(SOURCE) - 1


class UnreadableEvent(ValueError):
    """A genuine event whose object lacks a field its type needs, or holds a value this
    version of the rules cannot interpret (another API version). Recorded as failed, so it is
    kept, retried, and can be replayed once the code reads it."""


class UnknownStatus(UnreadableEvent):
    """A subscription status Stripe added after this code was written."""


@dataclass(frozen=True)
class Settings:
    """The deployment's choices about Stripe events (from config.py)."""

    livemode: str | None = None  # "live", "test" or None for both
    term: timedelta = timedelta(days=365)  # how long a one-off membership payment lasts
    identity_key: bytes | None = None  # keys the email fingerprints that link accounts

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            livemode=config["STRIPE_LIVEMODE"],
            term=timedelta(days=config["MEMBERSHIP_TERM_DAYS"]),
            identity_key=config["IDENTITY_KEY"],
        )


def translator(settings: Settings) -> Translate:
    """The translate function the ledger's store takes, for these settings."""
    return lambda event: translate(event, settings)


def _id(obj: Mapping[str, Any], field: str, *, required: bool = True) -> str | None:
    """An id field, which Stripe sends as a string or, when expanded, as an object."""
    value = obj.get(field)
    if isinstance(value, Mapping):
        value = value.get("id")
    if value is None and not required:
        return None
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_OBJECT_ID_LENGTH
        or not value.isprintable()  # a key the ledger stores; see envelope.parse
    ):
        kind = obj.get("object", "object")
        name = "id" if field == "id" else f"{field} id"
        raise UnreadableEvent(f"the {kind} has no {name}")
    return value


def _str(obj: Mapping[str, Any], field: str) -> str:
    value = obj.get(field)
    if not isinstance(value, str):
        kind = obj.get("object", "object")
        raise UnreadableEvent(f"the {kind} has no {field}")
    return value


def invoice_subscription(invoice: Mapping[str, Any]) -> str | None:
    """The subscription an invoice bills, in either shape Stripe has used.

    Older API versions put it at ``invoice.subscription``; from 2025-03-31 (basil) it moved to
    ``invoice.parent.subscription_details.subscription``.
    """
    if invoice.get("subscription") is not None:
        return _id(invoice, "subscription")
    parent = invoice.get("parent")
    if isinstance(parent, Mapping):
        details = parent.get("subscription_details")
        if isinstance(details, Mapping) and details.get("subscription") is not None:
            return _id(details, "subscription")
    return None


def translate(event: Event, settings: Settings = Settings()) -> Change | Ignored:  # noqa: B008
    """What an event means for the ledger, or why it means nothing."""
    if settings.livemode == "live" and not event.livemode:
        return Ignored("test-mode event; this deployment counts live mode only")
    if settings.livemode == "test" and event.livemode:
        return Ignored("live-mode event; this deployment counts test mode only")
    obj = data_object(event)
    kind = event.type
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        return _checkout(event, obj, settings)
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
        return _recurring(
            event,
            subscription=_id(obj, "id"),
            customer=_id(obj, "customer"),
            state=State.LAPSED if deleted else SUBSCRIPTION_STATES[status],
            final=deleted or status in FINAL_STATUSES,
            offered=offers.subscription(obj),
        )
    if kind == "invoice.paid":
        subscription = invoice_subscription(obj)
        if subscription is None:
            return Ignored("invoice is not for a subscription")
        return _recurring(
            event,
            subscription=subscription,
            customer=_id(obj, "customer"),
            state=State.ACTIVE,
            offered=offers.invoice(obj),
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
        return PaymentRefund(SOURCE, payment_intent, at=event.created, event_id=event.id)
    if kind in ("customer.created", "customer.updated") and event.identity is not None:
        # A customer's email links it to the same reader in other sources.
        member = _id(obj, "id")
        assert member is not None
        return IdentitySeen(SOURCE, member, event.identity, at=event.created, event_id=event.id)
    return Ignored(f"{kind} does not change membership")


def _recurring(
    event: Event,
    *,
    subscription: str | None,
    customer: str | None,
    state: State,
    final: bool = False,
    offered: frozenset[str] = frozenset(),
) -> RecurringChange:
    assert subscription is not None and customer is not None  # _id raised otherwise
    return RecurringChange(
        source=SOURCE,
        membership=subscription,
        member=customer,
        state=state,
        final=final,
        at=event.created,
        event_id=event.id,
        identity=event.identity,
        offers=offered,
    )


def _checkout(event: Event, session: Mapping[str, Any], settings: Settings) -> Change | Ignored:
    session_id = _id(session, "id")
    assert session_id is not None
    payment_status = _str(session, "payment_status")
    if payment_status not in PAID_CHECKOUT:
        # Delayed payment methods complete "unpaid"; async_payment_succeeded follows.
        return Ignored(f"checkout session is {payment_status}")
    mode = _str(session, "mode")
    if mode == "subscription":
        return _recurring(
            event,
            subscription=_id(session, "subscription"),
            customer=_id(session, "customer"),
            state=State.ACTIVE,
            offered=offers.checkout(session),
        )
    if mode == "payment":
        # A guest checkout has no customer: the session itself is the member.
        return OneOffPayment(
            source=SOURCE,
            membership=session_id,
            member=_id(session, "customer", required=False) or session_id,
            payment=_id(session, "payment_intent", required=False),
            term=settings.term,
            at=event.created,
            event_id=event.id,
            identity=event.identity,
            offers=offers.checkout(session),
        )
    return Ignored(f"checkout session in {mode} mode")

"""Synthesising events from Stripe objects (subscriptions, checkout sessions) that cover what
Stripe no longer lists as events; the rules are in the package doc."""

from __future__ import annotations

from typing import Any

from ....ledger.rules import State
from ..envelope import scrubbed
from ..translate import FINAL_STATUSES, SUBSCRIPTION_STATES

SYNTHESISED_PREFIX = "reconcile:"


def _timestamp(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _period_start(subscription: dict[str, Any]) -> int | None:
    """The start of the current billing period, at the top level (before API 2025-03-31) or
    on each item (from then on)."""
    starts = [_timestamp(subscription.get("current_period_start"))]
    items = subscription.get("items")
    if isinstance(items, dict) and isinstance(items.get("data"), list):
        starts += [
            _timestamp(item.get("current_period_start"))
            for item in items["data"]
            if isinstance(item, dict)
        ]
    known = [s for s in starts if s is not None]
    return max(known) if known else None


def status_since(subscription: dict[str, Any]) -> int:
    """The earliest moment the object shows its current status to hold. See the package doc."""
    status = subscription.get("status")
    created = _timestamp(subscription.get("created")) or 0
    if status in FINAL_STATUSES:
        return (
            _timestamp(subscription.get("ended_at"))
            or _timestamp(subscription.get("canceled_at"))
            or created
        )
    if status == "paused" and _timestamp(subscription.get("trial_end")):
        return subscription["trial_end"]
    start = _timestamp(subscription.get("start_date")) or created
    period = _period_start(subscription)
    return max(start, period) if period else start


def _event(kind: str, event_id: str, created: int, obj: dict[str, Any], source: str) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "api_version": None,
        "created": created,
        "data": {"object": obj},
        "livemode": bool(obj.get("livemode", False)),
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
        # Not Stripe's: says where a synthesised event came from, for the event log.
        "reconcile": {"source": source},
    }


def subscription_events(
    subscription: dict[str, Any], *, status_known: bool = False, start_known: bool = False
) -> list[dict[str, Any]]:
    """Synthesised events for a subscription: its current status unless the ledger already
    holds it, and its start if the ledger knows none and the object shows one."""
    sub_id, status = subscription["id"], subscription["status"]
    at = status_since(subscription)
    found = []
    if not status_known:
        found.append(
            _event(
                "customer.subscription.updated",
                f"{SYNTHESISED_PREFIX}{sub_id}:{status}:{at}",
                at,
                subscription,
                "GET /v1/subscriptions",
            )
        )
    start = _timestamp(subscription.get("start_date")) or _timestamp(subscription.get("created"))
    began = _began_as(subscription, start)
    if not start_known and began is not None and start is not None and start < at:
        found.append(
            _event(
                "customer.subscription.updated",
                f"{SYNTHESISED_PREFIX}{sub_id}:start:{start}",
                start,
                {**subscription, "status": began},
                "GET /v1/subscriptions (start_date)",
            )
        )
    return found


def _began_as(subscription: dict[str, Any], start: int | None) -> str | None:
    """The status the subscription certainly had at its start, if the object shows one that
    counts: active now, a trial (trialing from ``trial_start``), or renewed at least once
    (its current period began after it did). A subscription canceled before any of these may
    never have been paid, so it gets no start."""
    status = subscription.get("status")
    trial_start = _timestamp(subscription.get("trial_start"))
    if trial_start is not None and trial_start == start:
        return "trialing"
    if SUBSCRIPTION_STATES.get(status) == State.ACTIVE:  # type: ignore[arg-type]
        return str(status)
    period = _period_start(subscription)
    if period is not None and start is not None and period > start:
        return "active"
    return None


def checkout_event(checkout_session: dict[str, Any]) -> dict[str, Any]:
    # A synthesised payload names no person, like every stored one.
    obj = scrubbed(checkout_session)
    created = checkout_session["created"]
    return _event(
        "checkout.session.completed",
        f"{SYNTHESISED_PREFIX}{checkout_session['id']}:paid:{created}",
        created,
        obj,
        "GET /v1/checkout/sessions",
    )

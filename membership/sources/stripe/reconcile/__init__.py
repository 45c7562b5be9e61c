"""Reconcile: heal a ledger that missed webhook deliveries from what Stripe's API knows.

No Flask here. ``run`` first reads everything it needs from Stripe (events of the last 30
days, every subscription, recent paid checkout sessions), then feeds what the ledger lacks
through the same ``store.record_event`` a webhook uses, so the same exactly-once storage and
order-independent rules decide the outcome:

- **Events** Stripe lists are recorded under their own ids, exactly as if delivered; those
  already stored are counted and skipped (not re-recorded, so the webhook's redelivery counter
  keeps meaning "redelivered by Stripe").
- **Objects** (subscriptions, checkout sessions) cover what Stripe no longer lists as events.
  Where the ledger already agrees with an object nothing is written. Otherwise reconcile
  synthesises an event for it with a deterministic id (``reconcile:<object>:<status>:<time>``),
  stamped with the object's own timestamps, never with the time reconcile ran:

  * a subscription's current status is stamped with the earliest moment the object shows
    that status to hold: ``ended_at`` (or ``canceled_at``) for a canceled or expired one,
    ``trial_end`` for one paused when its trial ran out, otherwise the start of its current
    billing period (``current_period_start``, on the items from API 2025-03-31). A real
    event newer than that stamp therefore still wins, and running reconcile again, or in
    another order relative to webhooks, gives the same rows;
  * a subscription whose start the ledger does not know also gets an observation "active (or
    trialing) at ``start_date``" when the object shows it was: active now, began with a
    trial, or renewed at least once; so a `new` campaign sees when it began;
  * a paid one-off checkout session the ledger lacks is recorded as completed at the
    session's ``created``.

A dry run (the default) copies the ledger's tables into a scratch in-memory SQLite database
and does all of the above there, so it reports exactly what ``apply=True`` would change and
writes nothing. Because every read from Stripe happens before the first write, a network
failure also writes nothing in apply mode; once writing, each event is its own transaction
and idempotent, so an interrupted apply is completed by running it again.
"""

from __future__ import annotations

from .compare import MEMBER_SHOWN, MEMBERSHIP_SHOWN
from .errors import ReconcileError
from .listing import EVENT_TYPES, Options, Snapshot, fetch, make_client
from .objects import (
    SYNTHESISED_PREFIX,
    checkout_event,
    status_since,
    subscription_events,
)
from .report import CampaignChange, Report
from .runner import EVENT_RETENTION, run

__all__ = [
    "EVENT_RETENTION",
    "EVENT_TYPES",
    "MEMBERSHIP_SHOWN",
    "MEMBER_SHOWN",
    "SYNTHESISED_PREFIX",
    "CampaignChange",
    "Options",
    "ReconcileError",
    "Report",
    "Snapshot",
    "checkout_event",
    "fetch",
    "make_client",
    "run",
    "status_since",
    "subscription_events",
]

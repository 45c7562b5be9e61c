"""Feeding the ledger: Stripe's listed events under their own ids, then events synthesised
from objects where the ledger does not already agree with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....ledger import store
from ....ledger.rules import RECURRING, current_state, key
from ....models import Event, Membership
from ...payloads import NotAnEvent
from ..envelope import SOURCE, parse
from ..translate import FINAL_STATUSES, PAID_CHECKOUT, SUBSCRIPTION_STATES, Settings, translator
from .errors import ReconcileError
from .listing import Snapshot
from .objects import checkout_event, subscription_events
from .report import Report


@dataclass(frozen=True)
class Feed:
    """Where and how reconcile records what it found: the ledger (or its rehearsal copy), the
    deployment's Stripe settings, the moment it runs, and the report it fills in."""

    target: Session
    settings: Settings
    now: datetime
    report: Report

    def record(self, event: dict[str, Any]) -> store.Outcome | None:
        try:
            result = store.record_event(
                self.target,
                parse(event, self.settings.identity_key),
                translator(self.settings),
                now=self.now,
            )
        except NotAnEvent as exc:
            self.report.unreadable.append(f"{event.get('id')}: {exc}")
            return None
        except store.StorageError as exc:
            raise ReconcileError(
                f"{exc}. Events recorded before it stay recorded; run reconcile again."
            ) from exc
        return result.outcome

    def record_synthesised(self, event: dict[str, Any]) -> None:
        outcome = self.record(event)
        if outcome is not None and outcome != store.Outcome.DUPLICATE:
            self.report.synthesised_new.append((event["id"], event["type"], outcome.value))


def feed_events(feed: Feed, snapshot: Snapshot) -> None:
    """Record Stripe's listed events the ledger lacks, under their own ids."""
    target, report = feed.target, feed.report
    events = sorted(snapshot.events, key=lambda e: (e.get("created") or 0, str(e.get("id"))))
    report.events_seen = len(events)
    stored = _stored(target, [str(e.get("id")) for e in events])
    for event in events:
        if event.get("id") in stored:
            report.events_already += 1
            continue
        outcome = feed.record(event)
        if outcome == store.Outcome.DUPLICATE:  # a webhook delivered it meanwhile
            report.events_already += 1
        elif outcome is not None:
            report.events_new.append((event["id"], event["type"], outcome.value))


def _stored(target: Session, ids: list[str]) -> set[str]:
    """Ids already stored with a final outcome (a failed one is worth another try)."""
    found: set[str] = set()
    for i in range(0, len(ids), 500):
        found.update(
            target.scalars(
                select(Event.id).where(
                    Event.source == SOURCE,
                    Event.id.in_(ids[i : i + 500]),
                    Event.outcome != store.Outcome.FAILED.value,
                )
            )
        )
    target.rollback()
    return found


def _counted_mode(settings: Settings, obj: dict[str, Any]) -> bool:
    livemode = bool(obj.get("livemode", False))
    return settings.livemode is None or livemode == (settings.livemode == "live")


def _agrees(membership: Membership | None, subscription: dict[str, Any]) -> bool:
    if membership is None or membership.kind != RECURRING:
        return False
    status = subscription.get("status")
    final = status in FINAL_STATUSES
    state = SUBSCRIPTION_STATES.get(status)  # type: ignore[arg-type]
    # The state now, not the register: a subscription created and deleted in one second keeps
    # "active" in its register (the tie goes to active) and is lapsed, as Stripe says.
    now = current_state(membership.state, membership.final_at)
    return now == state and (membership.final_at is not None) == final


def feed_objects(feed: Feed, snapshot: Snapshot) -> None:
    """Record synthesised events where an object says more than the ledger knows."""
    target, settings, report = feed.target, feed.settings, feed.report
    fed: list[dict[str, Any]] = []
    for subscription in sorted(snapshot.subscriptions, key=lambda s: str(s.get("id"))):
        report.objects_seen += 1
        if not _counted_mode(settings, subscription):
            report.objects_other_mode += 1
            continue
        if subscription.get("status") not in SUBSCRIPTION_STATES or not isinstance(
            subscription.get("id"), str
        ):
            report.unreadable.append(
                f"subscription {subscription.get('id')}: status {subscription.get('status')!r}"
            )
            continue
        membership = target.get(Membership, key(SOURCE, subscription["id"]))
        agrees = _agrees(membership, subscription)
        # A start is only ever added to a membership whose start the ledger does not know:
        # where its own events dated one, they are more exact than the object.
        start_known = membership is not None and membership.started_at is not None
        target.rollback()
        events = subscription_events(subscription, status_known=agrees, start_known=start_known)
        if not events:
            report.objects_agreeing += 1
            continue
        fed.append(subscription)
        for event in events:
            feed.record_synthesised(event)

    for checkout_session in sorted(snapshot.checkout_sessions, key=lambda s: str(s.get("id"))):
        report.objects_seen += 1
        if not _counted_mode(settings, checkout_session):
            report.objects_other_mode += 1
            continue
        if checkout_session.get("payment_status") not in PAID_CHECKOUT:
            report.objects_agreeing += 1  # nothing to count: an unpaid delayed payment
            continue
        if checkout_session.get("mode") != "payment":
            report.objects_covered += 1
            continue
        known = target.get(Membership, key(SOURCE, str(checkout_session.get("id")))) is not None
        target.rollback()
        if known:
            report.objects_agreeing += 1
            continue
        feed.record_synthesised(checkout_event(checkout_session))

    for subscription in fed:
        membership = target.get(Membership, key(SOURCE, subscription["id"]))
        if membership is not None and not _agrees(membership, subscription):
            report.unresolved.append(
                f"subscription {subscription['id']} ({membership.member_key}): Stripe says "
                f"{subscription['status']}, the ledger keeps "
                f"{current_state(membership.state, membership.final_at)}"
                f"{' (ended)' if membership.final_at else ''} from event "
                f"{membership.state_event_id} of {membership.state_at:%Y-%m-%d %H:%M:%S}"
            )
    target.rollback()

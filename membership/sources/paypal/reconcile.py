"""Reconcile: bring the ledger's PayPal subscriptions in line with PayPal's Subscriptions API.

No Flask here. PayPal keeps no list of past webhook events to page through, so reconcile asks
about subscriptions one by one: every PayPal subscription the ledger knows, plus any ids the
caller names (one whose every webhook was lost). All reads happen first, so a network failure
writes nothing. Where the ledger disagrees with PayPal's current status, reconcile records a
synthesised ``BILLING.SUBSCRIPTION.UPDATED`` event carrying the subscription as PayPal returned
it, through the same ``store.record_event`` a webhook uses. Its id is deterministic
(``reconcile:<subscription>:<status>:<time>``) and it is stamped with the subscription's
``status_update_time`` (when the status began), never with the time reconcile ran: a real
event newer than that still wins, and running reconcile again records nothing new.

A dry run (the default) does all of that on a scratch in-memory copy of the ledger and reports
what ``apply=True`` would change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...ledger import checks, store
from ...ledger.rules import RECURRING, State, current_state, external_id
from ...models import Membership
from ..payloads import NotAnEvent
from ..stripe.reconcile import compare
from . import envelope, signature, translate
from .client import Client, PayPalError

SYNTHESISED_PREFIX = "reconcile:"


@dataclass
class Report:
    applied: bool
    requests: int = 0
    checked: int = 0
    agreeing: int = 0
    unknown: list[str] = field(default_factory=list)  # ids PayPal does not know
    recorded: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (event id, status, outcome)
    unreadable: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    campaigns: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [e for e, _, outcome in self.recorded if outcome == store.Outcome.FAILED]

    def lines(self) -> list[str]:
        out = [
            "Applied to the ledger."
            if self.applied
            else "Dry run: nothing was written. Run again with --apply to make these changes.",
            f"Read PayPal with {self.requests:,} requests.",
            f"Subscriptions: {self.checked:,} checked, {self.agreeing:,} agree with the ledger, "
            f"{len(self.recorded):,} recorded, {len(self.unknown):,} unknown to PayPal.",
        ]
        for slug, before, after in self.campaigns:
            mark = "" if before == after else "  <-- changes"
            out.append(f"Campaign {slug}: {before:,} -> {after:,}{mark}")
        verb = "Changed" if self.applied else "Would change"
        out.append(f"{verb} {len(self.changes):,} memberships and members.")
        out += [f"  {line}" for line in self.changes]
        out += [f"  event {e} ({status}): {outcome}" for e, status, outcome in self.recorded]
        out += [f"  unknown to PayPal: {each}" for each in self.unknown]
        out += [f"  unreadable: {each}" for each in self.unreadable]
        return out


def known_subscriptions(session: Session) -> list[str]:
    """The PayPal subscription ids of every recurring PayPal membership in the ledger."""
    keys = session.scalars(
        select(Membership.key)
        .where(Membership.source == envelope.SOURCE, Membership.kind == RECURRING)
        .order_by(Membership.key)
    ).all()
    session.rollback()
    return [external_id(key) for key in keys]


def synthesised(
    subscription: dict[str, Any], livemode: bool | None, key: bytes | None
) -> store.Event:
    """The event reconcile records for a subscription as PayPal has it now."""
    status = subscription.get("status")
    stamp = subscription.get("status_update_time") or subscription.get("update_time")
    body = {
        "id": f"{SYNTHESISED_PREFIX}{subscription.get('id')}:{status}:{stamp}",
        "event_type": "BILLING.SUBSCRIPTION.UPDATED",
        "create_time": stamp,
        "resource_type": "subscription",
        "resource_version": "2.0",
        "summary": "Synthesised by flask paypal reconcile from the Subscriptions API",
        "resource": subscription,
    }
    return envelope.parse(body, livemode=livemode, identity_key=key)


def _agrees(session: Session, event: store.Event, settings: translate.Settings) -> bool:
    change = translate.translate(event, settings)
    if not isinstance(change, translate.RecurringChange):
        return True  # the other mode, or nothing to say: nothing to heal
    membership = session.get(Membership, f"{envelope.SOURCE}:{change.membership}")
    session.rollback()
    if membership is None:
        return change.state == State.PENDING  # a pending subscription counts nothing
    now = current_state(membership.state, membership.final_at)
    return now == change.state and (membership.final_at is not None) >= change.final


def run(
    session: Session,
    settings: translate.Settings,
    client: Client,
    ids: Iterable[str] = (),
    *,
    apply: bool = False,
    identity_key: bytes | None = None,
    now: datetime,
) -> Report:
    """Read every subscription from PayPal, then record what the ledger lacks (or rehearse)."""
    report = Report(applied=apply)
    wanted = list(dict.fromkeys([*known_subscriptions(session), *ids]))
    livemode = signature.livemode_of(client.base)
    fetched: list[tuple[str, dict[str, Any] | None]] = []
    try:
        fetched = [(each, client.subscription(each)) for each in wanted]
    finally:
        report.requests = client.requests
    with checks.target(session, apply) as target:
        before = compare.look(target, now)
        for subscription_id, found in fetched:
            report.checked += 1
            if found is None:
                report.unknown.append(subscription_id)
                continue
            try:
                event = synthesised(found, livemode, identity_key)
                if _agrees(target, event, settings):
                    report.agreeing += 1
                    continue
            except (NotAnEvent, translate.UnreadableEvent) as exc:
                report.unreadable.append(f"{subscription_id}: {exc}")
                continue
            result = store.record_event(target, event, translate.translator(settings), now=now)
            report.recorded.append((event.id, str(found.get("status")), result.outcome))
        after = compare.look(target, now)
        report.changes += compare.changes(before, after)
        report.campaigns = [(slug, n, m) for slug, _, n, m in compare.counts(before, after)]
    return report


__all__ = ["Client", "PayPalError", "Report", "run", "synthesised"]

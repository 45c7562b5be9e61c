"""Running reconcile against the real ledger (apply) or a scratch in-memory copy of it."""

from __future__ import annotations

from datetime import datetime, timedelta

import stripe
from sqlalchemy.orm import Session

from ....ledger import checks
from ....models import utcnow
from ..translate import Settings
from . import compare
from .feed import Feed, feed_events, feed_objects
from .listing import Options, fetch
from .report import CampaignChange, Report

# Stripe lists events of the last 30 days only.
EVENT_RETENTION = timedelta(days=30)


def run(
    session: Session,
    settings: Settings,
    client: stripe.StripeClient,
    since: datetime | None = None,
    apply: bool = False,
    now: datetime | None = None,
    options: Options = Options(),  # noqa: B008 -- frozen, so one shared default is safe
) -> Report:
    """Read Stripe, then feed what the ledger lacks into it (apply) or into a scratch copy."""
    now = now or utcnow()
    since = since or now - EVENT_RETENTION
    snapshot = fetch(client, since, now, settings, options)
    report = Report(
        applied=apply, since=since, requests=snapshot.requests, retries=snapshot.retries
    )
    with checks.target(session, apply) as target:
        before = compare.look(target, now)

        feed = Feed(target, settings, now, report)
        feed_events(feed, snapshot)
        feed_objects(feed, snapshot)

        after = compare.look(target, now)
        report.changes += compare.changes(before, after)
        report.campaigns = [CampaignChange(*each) for each in compare.counts(before, after)]
    return report

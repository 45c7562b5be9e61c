"""Running reconcile against the real ledger (apply) or a scratch in-memory copy of it."""

from __future__ import annotations

from datetime import datetime, timedelta

import stripe
from sqlalchemy.orm import Session

from ....ledger import checks
from ....models import Member, Membership, utcnow
from ..translate import Settings
from .compare import campaign_counts, describe
from .feed import Feed, feed_events, feed_objects
from .listing import Options, fetch
from .report import CampaignChange, Report

# Stripe lists events of the last 30 days only.
EVENT_RETENTION = timedelta(days=30)

# What the report shows of each changed row: the ledger's fields but the lapse times, which
# are for the dashboard's history and follow from the rest.
MEMBERSHIP_SHOWN = tuple(name for name in checks.MEMBERSHIP_FIELDS if name != "ended_at")
MEMBER_SHOWN = tuple(name for name in checks.MEMBER_FIELDS if name != "lapsed_at")


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
        memberships_before = checks.rows(target, Membership, MEMBERSHIP_SHOWN, state_now=True)
        members_before = checks.rows(target, Member, MEMBER_SHOWN)
        counts_before = campaign_counts(target, now)
        target.rollback()

        feed = Feed(target, settings, now, report)
        feed_events(feed, snapshot)
        feed_objects(feed, snapshot)

        memberships_after = checks.rows(target, Membership, MEMBERSHIP_SHOWN, state_now=True)
        members_after = checks.rows(target, Member, MEMBER_SHOWN)
        for difference in checks.differences(
            "membership", memberships_before, memberships_after, MEMBERSHIP_SHOWN
        ) + checks.differences("member", members_before, members_after, MEMBER_SHOWN):
            report.changes.append(describe(difference))
        counts_after = campaign_counts(target, now)
        report.campaigns = [
            CampaignChange(slug, rule, before, counts_after.get(slug, (rule, before))[1])
            for slug, (rule, before) in counts_before.items()
        ]
        target.rollback()
    return report

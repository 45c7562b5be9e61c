"""Running reconcile against the real ledger (apply) or a scratch in-memory copy of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import stripe
from sqlalchemy import create_engine, delete, insert, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from ....ledger import store as ledger
from ....models import (
    Adjustment,
    Base,
    Campaign,
    CampaignCopy,
    LedgerState,
    Member,
    Membership,
    Refund,
    StripeEvent,
    utcnow,
)
from .compare import campaign_counts, diff_rows, membership_rows, table_rows
from .feed import feed_events, feed_objects
from .listing import Options, fetch
from .report import CampaignChange, Report

# Stripe lists events of the last 30 days only.
EVENT_RETENTION = timedelta(days=30)

MEMBERSHIP_FIELDS = ("kind", "member_key", "state", "final_at", "started_at", "refunded")
MEMBERSHIP_SHOWN = MEMBERSHIP_FIELDS + ("active_until",)
MEMBER_SHOWN = ("active_until", "first_started_at")
# The tables a dry run copies: everything record_event and progress.compute read.
LEDGER_TABLES = (
    LedgerState,
    Campaign,
    CampaignCopy,
    Adjustment,
    Member,
    Membership,
    Refund,
    StripeEvent,
)


def run(
    session: Session,
    policy: ledger.Policy,
    client: stripe.StripeClient,
    since: datetime | None = None,
    apply: bool = False,
    now: datetime | None = None,
    options: Options = Options(),  # noqa: B008 -- frozen, so one shared default is safe
) -> Report:
    """Read Stripe, then feed what the ledger lacks into it (apply) or into a scratch copy."""
    now = now or utcnow()
    since = since or now - EVENT_RETENTION
    snapshot = fetch(client, since, now, policy, options)
    report = Report(
        applied=apply, since=since, requests=snapshot.requests, retries=snapshot.retries
    )
    with _target(session, apply) as target:
        members_before = table_rows(target, Member, MEMBER_SHOWN)
        memberships_before = membership_rows(target, MEMBERSHIP_SHOWN)
        counts_before = campaign_counts(target, now)
        target.rollback()

        feed_events(target, snapshot, policy, now, report)
        feed_objects(target, snapshot, policy, now, report)

        memberships_after = membership_rows(target, MEMBERSHIP_SHOWN)
        diff_rows("membership", memberships_before, memberships_after, MEMBERSHIP_SHOWN, report)
        members_after = table_rows(target, Member, MEMBER_SHOWN)
        diff_rows("member", members_before, members_after, MEMBER_SHOWN, report)
        counts_after = campaign_counts(target, now)
        report.campaigns = [
            CampaignChange(slug, rule, before, counts_after.get(slug, (rule, before))[1])
            for slug, (rule, before) in counts_before.items()
        ]
        target.rollback()
    return report


@contextmanager
def _target(session: Session, apply: bool) -> Iterator[Session]:
    if apply:
        try:
            yield session
        finally:
            session.rollback()
        return
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(engine)
    try:
        with engine.begin() as scratch:
            scratch.execute(delete(LedgerState))
            for model in LEDGER_TABLES:
                table = model.__table__
                columns = [c for c in table.columns if c.name != "payload"]
                rows = [dict(row) for row in session.execute(select(*columns)).mappings()]
                if table.name == "stripe_event":
                    # A dry run needs to know which events are stored, not what they said.
                    for row in rows:
                        row["payload"] = ""
                if rows:
                    scratch.execute(insert(table), rows)
        session.rollback()
        copy = sessionmaker(engine, expire_on_commit=False)()
        try:
            yield copy
        finally:
            copy.close()
    finally:
        engine.dispose()

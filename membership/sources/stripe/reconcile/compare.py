"""Comparing the ledger before and after feeding it: memberships, members, campaign counts.

Every source's heal (Stripe's and PayPal's reconcile, Patreon's sync) takes a ``look`` before
and after, and reports ``changes`` between them and each campaign's count then and now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....campaigns import progress
from ....ledger import checks
from ....ledger.checks import RowDifference
from ....models import Campaign, Member, Membership

# What the report shows of each changed row: the ledger's fields but the lapse times, which
# are for the dashboard's history and follow from the rest.
MEMBERSHIP_SHOWN = tuple(name for name in checks.MEMBERSHIP_FIELDS if name != "ended_at")
MEMBER_SHOWN = tuple(name for name in checks.MEMBER_FIELDS if name != "lapsed_at")
SHOWN = (("membership", Membership, MEMBERSHIP_SHOWN), ("member", Member, MEMBER_SHOWN))


@dataclass(frozen=True)
class Look:
    """The ledger at one moment of a heal: the rows it shows, each campaign's (rule, count)."""

    rows: dict[str, dict[str, tuple]]
    counts: dict[str, tuple[str, int]]


def look(target: Session, now: datetime) -> Look:
    rows = {
        kind: checks.rows(target, model, fields, state_now=kind == "membership")
        for kind, model, fields in SHOWN
    }
    return Look(rows, campaign_counts(target, now))


def changes(before: Look, after: Look) -> list[str]:
    """Each row a heal changed, in words, memberships first."""
    return [
        describe(difference)
        for kind, _, fields in SHOWN
        for difference in checks.differences(kind, before.rows[kind], after.rows[kind], fields)
    ]


def counts(before: Look, after: Look) -> list[tuple[str, str, int, int]]:
    """(slug, rule, count before, count after) of every campaign there was before."""
    return [
        (slug, rule, count, after.counts.get(slug, (rule, count))[1])
        for slug, (rule, count) in before.counts.items()
    ]


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return "forever" if value.year == 9999 else value.astimezone(UTC).strftime("%Y-%m-%d")
    return "-" if value is None else str(value)


def describe(difference: RowDifference) -> str:
    """One line of the report: a membership or member reconcile adds, removes or changes."""
    kind, key, fields = difference.kind, difference.key, difference.fields
    if difference.before is None:
        assert difference.after is not None
        shown = ", ".join(
            f"{name} {_show(value)}" for name, value in zip(fields, difference.after, strict=True)
        )
        return f"{kind} {key}: new ({shown})"
    if difference.after is None:
        return f"{kind} {key}: gone"
    shown = ", ".join(f"{name} {_show(a)} -> {_show(b)}" for name, a, b in difference.changed())
    return f"{kind} {key}: {shown}"


def campaign_counts(target: Session, now: datetime) -> dict[str, tuple[str, int]]:
    counts = {
        campaign.slug: (campaign.rule, progress.compute(target, campaign, now).count)
        for campaign in target.scalars(select(Campaign).order_by(Campaign.slug))
    }
    target.rollback()
    return counts

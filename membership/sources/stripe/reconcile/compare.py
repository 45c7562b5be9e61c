"""Comparing the ledger before and after feeding it: memberships, members, campaign counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....campaigns import progress
from ....ledger.checks import RowDifference
from ....models import Campaign


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

"""Comparing the ledger before and after feeding it: memberships, members, campaign counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....campaigns import progress
from ....ledger import store as ledger
from ....models import Campaign, Membership
from .report import Report


def table_rows(target: Session, model: type, fields: tuple[str, ...]) -> dict[str, tuple]:
    columns = [getattr(model, name) for name in fields]
    rows = {row[0]: tuple(row[1:]) for row in target.execute(select(model.key, *columns))}
    target.rollback()
    return rows


def membership_rows(target: Session, fields: tuple[str, ...]) -> dict[str, tuple]:
    """Memberships with ``state`` as it is now (``ledger.current_state``), as Stripe says it."""
    state, final_at = fields.index("state"), fields.index("final_at")
    return {
        key: tuple(
            ledger.current_state(row[state], row[final_at]) if n == state else value
            for n, value in enumerate(row)
        )
        for key, row in table_rows(target, Membership, fields).items()
    }


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return "forever" if value.year == 9999 else value.astimezone(UTC).strftime("%Y-%m-%d")
    return "-" if value is None else str(value)


def diff_rows(
    kind: str,
    before: dict[str, tuple],
    after: dict[str, tuple],
    fields: tuple[str, ...],
    report: Report,
) -> None:
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None:
            assert new is not None
            shown = ", ".join(
                f"{name} {_show(value)}" for name, value in zip(fields, new, strict=True)
            )
            report.changes.append(f"{kind} {key}: new ({shown})")
        elif new is None:
            report.changes.append(f"{kind} {key}: gone")
        else:
            shown = ", ".join(
                f"{name} {_show(a)} -> {_show(b)}"
                for name, a, b in zip(fields, old, new, strict=True)
                if a != b
            )
            report.changes.append(f"{kind} {key}: {shown}")


def campaign_counts(target: Session, now: datetime) -> dict[str, tuple[str, int]]:
    counts = {
        campaign.slug: (campaign.rule, progress.compute(target, campaign, now).count)
        for campaign in target.scalars(select(Campaign).order_by(Campaign.slug))
    }
    target.rollback()
    return counts

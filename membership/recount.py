"""Recount: rebuild the ledger from the stored events and say where anything differs.

Three independent routes to each campaign's count must agree: the fast count the API serves
(derived member columns), a slow count straight from memberships, and a count over a ledger
rebuilt from scratch by replaying every stored event through its source. No Flask here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .campaigns import windows
from .ledger import checks, counting, store
from .models import Campaign, Member, Membership, Person


@dataclass(frozen=True)
class CampaignCount:
    slug: str
    rule: str
    fast: int
    slow: int
    replayed: int

    @property
    def agrees(self) -> bool:
        return self.fast == self.slow == self.replayed


@dataclass
class Report:
    events: int = 0
    unreadable: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    campaigns: list[CampaignCount] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences and all(c.agrees for c in self.campaigns)


def _describe(difference: checks.RowDifference) -> str:
    kind, key = difference.kind, difference.key
    if difference.before is None:
        return f"{kind} {key}: missing from the ledger"
    if difference.after is None:
        return f"{kind} {key}: in the ledger but no event supports it"
    changed = ", ".join(f"{name} {a!r} != {b!r}" for name, a, b in difference.changed())
    return f"{kind} {key}: {changed} (stored != replayed)"


def recount(session: Session, translators: Mapping[str, store.Translate], now: datetime) -> Report:
    """Replay every stored event into a scratch ledger and compare it and the counts."""
    report = Report()
    try:
        with checks.scratch_ledger() as scratch:
            for row in store.stored_rows(session):
                report.events += 1
                translate = translators.get(row.source)
                try:
                    if translate is None:
                        raise ValueError(f"no source called {row.source!r} is configured")
                    event = store.event_of(row)
                except ValueError as exc:  # a payload that is not JSON any more, say
                    report.unreadable.append(f"{row.id}: {exc}")
                    continue
                store.record_event(scratch, event, translate, now=now)
            for model, fields, kind in (
                (Membership, checks.MEMBERSHIP_FIELDS, "membership"),
                (Member, checks.MEMBER_FIELDS, "member"),
                (Person, checks.PERSON_FIELDS, "person"),
            ):
                stored = checks.rows(session, model, fields)
                rebuilt = checks.rows(scratch, model, fields)
                report.differences += [
                    _describe(d) for d in checks.differences(kind, stored, rebuilt, fields)
                ]
            for campaign in session.scalars(select(Campaign).order_by(Campaign.slug)):
                counting_rule = windows.counting(campaign)
                report.campaigns.append(
                    CampaignCount(
                        slug=campaign.slug,
                        rule=campaign.rule,
                        fast=counting.count_members(session, counting_rule, now),
                        slow=counting.count_members_slowly(session, counting_rule, now),
                        replayed=counting.count_members(scratch, counting_rule, now),
                    )
                )
    finally:
        session.rollback()
    return report

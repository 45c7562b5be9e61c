"""Recount: rebuild the ledger from the stored events and say where anything differs.

Three independent routes to each campaign's count must agree: the fast count the API serves
(derived member columns), a slow count straight from memberships, and a count over a ledger
rebuilt from scratch by replaying every stored event payload. No Flask here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from .campaigns import windows
from .ledger import counting
from .ledger import store as ledger
from .models import Base, Campaign, Member, Membership, StripeEvent
from .sources.stripe.events import InvalidEvent, load, parse_envelope

MEMBERSHIP_FIELDS = (
    "kind",
    "member_key",
    "state",
    "final_at",
    "started_at",
    "refunded",
    "active_until",
    "ended_at",
)
MEMBER_FIELDS = ("active_until", "first_started_at", "lapsed_at")


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


def _rows(session: Session, model: type, key: Any, fields: tuple[str, ...]) -> dict[str, tuple]:
    columns = [getattr(model, name) for name in fields]
    return {row[0]: tuple(row[1:]) for row in session.execute(select(key, *columns))}


def _compare(
    kind: str,
    stored: dict[str, tuple],
    rebuilt: dict[str, tuple],
    fields: tuple[str, ...],
    report: Report,
) -> None:
    for key in sorted(stored.keys() | rebuilt.keys()):
        ours, theirs = stored.get(key), rebuilt.get(key)
        if ours == theirs:
            continue
        if ours is None:
            report.differences.append(f"{kind} {key}: missing from the ledger")
        elif theirs is None:
            report.differences.append(f"{kind} {key}: in the ledger but no event supports it")
        else:
            changed = ", ".join(
                f"{name} {a!r} != {b!r}"
                for name, a, b in zip(fields, ours, theirs, strict=True)
                if a != b
            )
            report.differences.append(f"{kind} {key}: {changed} (stored != replayed)")


def _events(session: Session) -> Iterator[StripeEvent]:
    query = select(StripeEvent).order_by(StripeEvent.received_at, StripeEvent.id)
    yield from session.scalars(query.execution_options(yield_per=1000))


def recount(session: Session, policy: ledger.Policy, now: datetime) -> Report:
    report = Report()
    scratch_engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(scratch_engine)
    scratch = sessionmaker(scratch_engine, expire_on_commit=False)()
    try:
        for event in _events(session):
            report.events += 1
            try:
                envelope = parse_envelope(load(event.payload))
                ledger.record_event(scratch, envelope, event.payload, policy, now=now)
            except (InvalidEvent, ValueError) as exc:
                report.unreadable.append(f"{event.id}: {exc}")
        _compare(
            "membership",
            _rows(session, Membership, Membership.key, MEMBERSHIP_FIELDS),
            _rows(scratch, Membership, Membership.key, MEMBERSHIP_FIELDS),
            MEMBERSHIP_FIELDS,
            report,
        )
        _compare(
            "member",
            _rows(session, Member, Member.key, MEMBER_FIELDS),
            _rows(scratch, Member, Member.key, MEMBER_FIELDS),
            MEMBER_FIELDS,
            report,
        )
        for campaign in session.scalars(select(Campaign).order_by(Campaign.slug)):
            report.campaigns.append(
                CampaignCount(
                    slug=campaign.slug,
                    rule=campaign.rule,
                    fast=counting.count_members(session, windows.counting(campaign), now),
                    slow=counting.count_members_slowly(session, windows.counting(campaign), now),
                    replayed=counting.count_members(scratch, windows.counting(campaign), now),
                )
            )
    finally:
        scratch.close()
        scratch_engine.dispose()
        session.rollback()
    return report

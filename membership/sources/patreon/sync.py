"""Sync: bring the ledger's Patreon members in line with the campaign's members in API v2.

No Flask here. Patreon keeps no list of past webhook deliveries, so sync lists the campaign's
members (cursor pagination) and reads one by one every member the ledger counts that the list
did not return. All reads happen first, so a failure writes nothing. Where the ledger
disagrees with what Patreon says now, sync records the member as read, through the same
``store.record_event`` a webhook uses, stamped with the moment its page was requested: a
webhook's later read still wins, and a second run records nothing. A dry run (the default)
does the same on a scratch copy and reports what ``apply=True`` would change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...ledger import checks, offers, store
from ...ledger.rules import RECURRING, RecurringChange, State, current_state, external_id
from ...models import Member, Membership
from ..stripe.reconcile import compare
from . import translate
from .client import Client
from .envelope import SOURCE, SYNC, is_member_id, member_event


@dataclass
class Report:
    applied: bool
    requests: int = 0
    pages: int = 0
    listed: int = 0
    read_alone: int = 0
    agreeing: int = 0
    recorded: list[tuple[str, str]] = field(default_factory=list)  # (event id, outcome)
    unreadable: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    campaigns: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [e for e, outcome in self.recorded if outcome == store.Outcome.FAILED]

    def lines(self) -> list[str]:
        out = [
            "Applied to the ledger."
            if self.applied
            else "Dry run: nothing was written. Run again with --apply to make these changes.",
            f"Read Patreon with {self.requests:,} requests ({self.pages:,} pages).",
            f"Members: {self.listed:,} listed, {self.read_alone:,} read one by one, "
            f"{self.agreeing:,} agree with the ledger, {len(self.recorded):,} recorded.",
        ]
        for slug, before, after in self.campaigns:
            mark = "" if before == after else "  <-- changes"
            out.append(f"Campaign {slug}: {before:,} -> {after:,}{mark}")
        verb = "Changed" if self.applied else "Would change"
        out.append(f"{verb} {len(self.changes):,} memberships and members.")
        out += [f"  {line}" for line in self.changes]
        out += [f"  event {e}: {outcome}" for e, outcome in self.recorded]
        out += [f"  unreadable: {each}" for each in self.unreadable]
        return out


def counted_members(session: Session) -> list[str]:
    """The ids of the Patreon members the ledger holds as active now."""
    rows = session.execute(
        select(Membership.key, Membership.state, Membership.final_at)
        .where(Membership.source == SOURCE, Membership.kind == RECURRING)
        .order_by(Membership.key)
    ).all()
    session.rollback()
    return [external_id(k) for k, s, final in rows if current_state(s, final) == State.ACTIVE]


def _agrees(session: Session, change: RecurringChange) -> bool:
    membership = session.get(Membership, f"{SOURCE}:{change.membership}")
    try:
        if membership is None:
            return change.state != State.ACTIVE  # a follower we never heard of: nothing to heal
        if current_state(membership.state, membership.final_at) != change.state:
            return False
        if change.state == State.ACTIVE and change.until != _until(membership.active_until):
            return False
        if not change.offers <= set(offers.of(session, membership.key)):
            return False
        member = session.get(Member, membership.member_key)
        held = member.identity if member is not None else None
        return change.identity is None or (held is not None and held <= change.identity)
    finally:
        session.rollback()


def _until(active_until: datetime | None) -> datetime | None:
    return None if active_until is None or active_until.year == 9999 else active_until


def run(
    session: Session,
    settings: translate.Settings,
    client: Client,
    campaign_id: str,
    *,
    apply: bool = False,
    identity_key: bytes | None = None,
    now: datetime,
) -> Report:
    """List the campaign's members, read the counted ones it did not list, then record what
    the ledger lacks (or rehearse it)."""
    report = Report(applied=apply)
    reads: list[tuple[str, datetime, Mapping[str, Any] | None]] = []
    try:
        for page in client.members(campaign_id):
            report.pages += 1
            for member in page.members:
                if is_member_id(member.get("id")):
                    reads.append((member["id"], page.fetched_at, member))
                else:
                    report.unreadable.append(
                        f"a listed member without a usable id: {member.get('id')!r:.80}"
                    )
        report.listed = len(reads)
        listed = {member_id for member_id, _, _ in reads}
        for member_id in counted_members(session):
            if member_id not in listed:
                fetched_at, member = client.member(member_id)
                reads.append((member_id, fetched_at, member))
                report.read_alone += 1
    finally:
        report.requests = client.requests
    with checks.target(session, apply) as target:
        before = compare.look(target, now)
        for member_id, fetched_at, member in reads:
            event = member_event(
                member_id=member_id,
                trigger=SYNC,
                fetched_at=fetched_at,
                fetched=member,
                identity_key=identity_key,
            )
            try:
                change = translate.translate(event, settings)
            except translate.UnreadableEvent as exc:
                report.unreadable.append(f"{member_id}: {exc}")
                continue
            if not isinstance(change, RecurringChange) or _agrees(target, change):
                report.agreeing += 1
                continue
            result = store.record_event(target, event, translate.translator(settings), now=now)
            report.recorded.append((event.id, result.outcome))
        after = compare.look(target, now)
        report.changes += compare.changes(before, after)
        report.campaigns = [(slug, n, m) for slug, _, n, m in compare.counts(before, after)]
    return report

"""The ledger's memberships as rows for an export: ids, kind, member, state now and dates; no
names or emails. No Flask here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Membership
from .rules import current_state, external_id


class MembershipRow(NamedTuple):
    key: str
    kind: str
    member: str
    state: str  # now: a subscription Stripe ended is lapsed, whatever its last event said
    started_at: datetime | None
    active_until: datetime | None
    refunded: bool
    source: str


def memberships(session: Session) -> Iterator[MembershipRow]:
    """Every membership by key, read in batches, so a large ledger streams. Ids are the
    source's own (sub_123, as the Stripe Dashboard shows them)."""
    query = (
        select(
            Membership.key,
            Membership.kind,
            Membership.member_key,
            Membership.state,
            Membership.final_at,
            Membership.started_at,
            Membership.active_until,
            Membership.refunded,
            Membership.source,
        )
        .order_by(Membership.key)
        .execution_options(yield_per=1000)
    )
    for key, kind, member, state, final_at, started, until, refunded, source in session.execute(
        query
    ):
        yield MembershipRow(
            external_id(key),
            kind,
            external_id(member),
            current_state(state, final_at),
            started,
            until,
            refunded,
            source,
        )

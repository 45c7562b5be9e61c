"""Fill in memberships' offers from the stored events: for memberships recorded before the
ledger kept offers (migration 0006), before a campaign narrows what it counts. No Flask.

Safe to run at any time and any number of times, beside live webhooks: offers only grow, and
each slice locks its memberships as a webhook would.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Membership
from . import locks, offers
from .rules import OneOffPayment, RecurringChange, key
from .store import Outcome, Translate, event_of, stored_rows

SLICE = 500


def fill(session: Session, translators: Mapping[str, Translate], now: datetime) -> int:
    """Add every offer a stored applied event names to its membership; return how many
    memberships gained one."""
    wanted: dict[str, set[str]] = {}
    for row in stored_rows(session):
        translate = translators.get(row.source)
        if row.outcome != Outcome.APPLIED or translate is None:
            continue
        try:
            change = translate(event_of(row))
        except ValueError:  # unreadable now: recount reports it; nothing to fill from it
            continue
        if isinstance(change, RecurringChange | OneOffPayment) and change.offers:
            membership = key(change.source, change.membership)
            wanted.setdefault(membership, set()).update(change.offers)
    session.rollback()
    filled = 0
    keys = sorted(wanted)
    for start in range(0, len(keys), SLICE):
        chunk = keys[start : start + SLICE]
        with locks.write_transaction(session):
            locks.lock(session, (locks.MEMBERSHIP, set(chunk)))
            present = set(session.scalars(select(Membership.key).where(Membership.key.in_(chunk))))
            gained = [k for k in chunk if k in present and offers.add(session, k, wanted[k])]
            if gained:
                session.flush()
                locks.bump_version(session, now)  # campaigns that count by offer recount
            filled += len(gained)
    return filled

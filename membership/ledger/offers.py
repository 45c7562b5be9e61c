"""What each membership was bought as (its offers), added as events name them. No Flask.

Offers are the source's own names for what was sold (``price:price_…``, ``plan:P-…``); the
ledger only keeps them, and campaigns choose which of them are memberships for their count.
A membership's offers only grow, so the set is the same whatever order its events arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Membership, MembershipOffer

# Offer kinds a source may give, as "kind:value". Definitions name the same strings.
KINDS = ("price", "product", "payment_link", "metadata", "plan", "tier")
MAX_LENGTH = 255


def offer(kind: str, value: str) -> str:
    """One offer string, e.g. ``offer("price", "price_123")`` → ``price:price_123``."""
    if kind not in KINDS:
        raise ValueError(f"unknown offer kind {kind!r}")
    return f"{kind}:{value}"


def add(session: Session, membership_key: str, offers: Iterable[str]) -> bool:
    """Record the membership's offers it did not have yet; True if any was new.

    The caller holds the membership's lock (locks.MEMBERSHIP), so no other writer adds to the
    same membership meanwhile, and the membership row is already flushed.
    """
    wanted = {o for o in offers if 0 < len(o) <= MAX_LENGTH}
    if not wanted:
        return False
    have = set(
        session.scalars(
            select(MembershipOffer.offer).where(MembershipOffer.membership_key == membership_key)
        )
    )
    new = sorted(wanted - have)
    session.add_all(MembershipOffer(membership_key=membership_key, offer=o) for o in new)
    return bool(new)


def of(session: Session, membership_key: str) -> list[str]:
    """The membership's offers, sorted."""
    return list(
        session.scalars(
            select(MembershipOffer.offer)
            .where(MembershipOffer.membership_key == membership_key)
            .order_by(MembershipOffer.offer)
        )
    )


def seen(session: Session, now: datetime) -> list[tuple[str, str, int, int]]:
    """Every offer the ledger holds: (source, offer, memberships active now, memberships),
    by source and offer; what a newsroom chooses its definitions from."""
    active = func.count().filter(Membership.active_until > now)
    rows = session.execute(
        select(Membership.source, MembershipOffer.offer, active, func.count())
        .join(Membership, Membership.key == MembershipOffer.membership_key)
        .group_by(Membership.source, MembershipOffer.offer)
        .order_by(Membership.source, MembershipOffer.offer)
    ).all()
    session.rollback()
    return [(source, offered, n_active, n) for source, offered, n_active, n in rows]

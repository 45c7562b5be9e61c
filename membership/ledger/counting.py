"""The count a counting rule gives: the fast path the API uses, and a slow cross-check.

No Flask, no campaigns: a rule is "people with an active membership now" or "people whose
first membership started inside [start, end)". A person is one reader however many sources
they pay through (see rules.py). Both functions read only the ledger's tables; neither writes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Member, Membership, Person


class Rule(enum.StrEnum):
    ACTIVE = "active"  # members with an active membership now
    NEW = "new"  # members whose first (unrefunded) membership started inside the window


@dataclass(frozen=True)
class Counting:
    """What to count: a rule, and for ``Rule.NEW`` the window [start, end) in UTC."""

    rule: Rule
    start: datetime | None = None
    end: datetime | None = None


def count_members(session: Session, counting: Counting, now: datetime) -> int:
    """People matching the rule: one indexed range count over person."""
    query = select(func.count()).select_from(Person)
    if counting.rule == Rule.NEW:
        query = query.where(Person.first_started_at.is_not(None))
        if counting.start is not None:
            query = query.where(Person.first_started_at >= counting.start)
        if counting.end is not None:
            query = query.where(Person.first_started_at < counting.end)
    else:
        query = query.where(Person.active_until > now)
    return session.scalar(query) or 0


def count_members_slowly(session: Session, counting: Counting, now: datetime) -> int:
    """The same count straight from memberships and members' identities, without any derived
    column but a member's person. Used by recount to check the fast path; too slow for
    requests.
    """
    person = func.coalesce(Member.identity, Member.key)
    if counting.rule == Rule.NEW:
        firsts = (
            select(person.label("person"), func.min(Membership.started_at).label("first"))
            .select_from(Membership)
            .join(Member, Member.key == Membership.member_key)
            .where(Membership.started_at.is_not(None), Membership.refunded.is_(False))
            .group_by(person)
            .subquery()
        )
        query = select(func.count()).select_from(firsts)
        if counting.start is not None:
            query = query.where(firsts.c.first >= counting.start)
        if counting.end is not None:
            query = query.where(firsts.c.first < counting.end)
        return session.scalar(query) or 0
    return (
        session.scalar(
            select(func.count(func.distinct(person)))
            .select_from(Membership)
            .join(Member, Member.key == Membership.member_key)
            .where(Membership.active_until > now)
        )
        or 0
    )

"""The count a counting rule gives: the fast path the API uses, and a slow cross-check.

No Flask, no campaigns: a rule is "people with an active membership now" or "people whose
first membership started inside [start, end)", optionally counting only some memberships (a
campaign's choice of sources and offers). A person is one reader however many sources they
pay through (see rules.py). These functions read only the ledger's tables; none writes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, FromClause, and_, case, exists, func, or_, select, true
from sqlalchemy.orm import Session

from ..models import Member, Membership, MembershipOffer, Person


class Rule(enum.StrEnum):
    ACTIVE = "active"  # members with an active membership now
    NEW = "new"  # members whose first (unrefunded) membership started inside the window


@dataclass(frozen=True)
class Choice:
    """Memberships of one source that count: all of them (no offers), or only those bought as
    one of ``offers`` (``price:price_…``, ``plan:P-…``; see offers.py)."""

    source: str
    offers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Counting:
    """What to count: a rule, for ``Rule.NEW`` the window [start, end) in UTC, and which
    memberships count (``None``: every membership of every source)."""

    rule: Rule
    start: datetime | None = None
    end: datetime | None = None
    choices: tuple[Choice, ...] | None = None


def count_members(session: Session, counting: Counting, now: datetime) -> int:
    """People matching the rule: one indexed range count over person when every membership
    counts; over the chosen memberships grouped by person otherwise."""
    people = persons(counting)
    query = select(func.count()).select_from(people)
    if counting.rule == Rule.NEW:
        query = query.where(people.c.first_started_at.is_not(None))
        if counting.start is not None:
            query = query.where(people.c.first_started_at >= counting.start)
        if counting.end is not None:
            query = query.where(people.c.first_started_at < counting.end)
    else:
        query = query.where(people.c.active_until > now)
    return session.scalar(query) or 0


def persons(counting: Counting) -> FromClause:
    """The persons a counting sees, with their figures (``key``, ``active_until``,
    ``first_started_at``, ``lapsed_at``): the person table itself when every membership
    counts, else the same figures derived from the chosen memberships only, as persons.py
    derives them from all."""
    if counting.choices is None:
        return Person.__table__
    counted = Membership.refunded.is_(False)
    return (
        select(
            Member.person_key.label("key"),
            func.max(Membership.active_until).label("active_until"),
            func.min(case((counted, Membership.started_at))).label("first_started_at"),
            func.max(case((counted, Membership.ended_at))).label("lapsed_at"),
        )
        .join(Member, Member.key == Membership.member_key)
        .where(chosen(counting.choices))
        .group_by(Member.person_key)
        .subquery()
    )


def chosen(choices: tuple[Choice, ...]) -> ColumnElement[bool]:
    """The condition on Membership for memberships these choices count."""
    conditions = []
    for choice in choices:
        offered = (
            exists().where(
                MembershipOffer.membership_key == Membership.key,
                MembershipOffer.offer.in_(sorted(choice.offers)),
            )
            if choice.offers
            else true()
        )
        conditions.append(and_(Membership.source == choice.source, offered))
    return or_(*conditions) if conditions else Membership.key.is_(None)


def count_members_slowly(session: Session, counting: Counting, now: datetime) -> int:
    """The same count straight from memberships and members' identities, without any derived
    column but a member's person. Used by recount to check the fast path; too slow for
    requests.
    """
    person = func.coalesce(Member.identity, Member.key)
    counted = chosen(counting.choices) if counting.choices is not None else true()
    if counting.rule == Rule.NEW:
        firsts = (
            select(person.label("person"), func.min(Membership.started_at).label("first"))
            .select_from(Membership)
            .join(Member, Member.key == Membership.member_key)
            .where(Membership.started_at.is_not(None), Membership.refunded.is_(False), counted)
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
            .where(Membership.active_until > now, counted)
        )
        or 0
    )

"""Members and persons: their derived figures, and the identity links that join accounts.

No Flask, no provider. A member's figures follow from its memberships; a person's from its
members. A member belongs to the person keyed by its identity (the smallest fingerprint any
event gave it) or, while it has none, to a person of its own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import Event, Member, Membership, Person
from . import locks


def refresh(session: Session, member_keys: set[str], identity: str | None) -> set[str]:
    """Rederive the changed members' figures and their persons'; give a member the change's
    identity. Return the keys of the persons whose counted figures moved.

    A member's identity is the smallest fingerprint any event gave it (a minimum, so the same
    in any order), and its person is keyed by that identity, or by its own key while it has
    none. Persons are locked last, after every member key, as locks.py orders them.
    """
    members = [session.get(Member, member_key) for member_key in sorted(member_keys)]
    before = {m.person_key for m in members if m is not None}
    for member in members:
        assert member is not None, "a changed membership's member is missing"
        if identity is not None and (member.identity is None or identity < member.identity):
            member.identity = identity
        member.person_key = member.identity or member.key
        _refresh_member(session, member)
    after = {m.person_key for m in members if m is not None}
    locks.lock(session, (locks.PERSON, before | after))
    session.flush()
    return {person for person in sorted(before | after) if _refresh_person(session, person)}


def _refresh_member(session: Session, member: Member) -> None:
    """Rederive a member's figures from its memberships."""
    memberships = list(
        session.scalars(select(Membership).where(Membership.member_key == member.key))
    )
    until = [m.active_until for m in memberships if m.active_until is not None]
    starts = [m.started_at for m in memberships if m.started_at is not None and not m.refunded]
    lapses = [m.ended_at for m in memberships if m.ended_at is not None and not m.refunded]
    member.active_until = max(until) if until else None
    member.first_started_at = min(starts) if starts else None
    member.lapsed_at = max(lapses) if lapses else None


def _refresh_person(session: Session, person_key: str) -> bool:
    """Rederive a person's figures from its members; True if they moved. A person left
    without members (its only member took another identity) is removed."""
    members = list(session.scalars(select(Member).where(Member.person_key == person_key)))
    person = session.get(Person, person_key)
    if not members:
        if person is not None:
            session.delete(person)
        return person is not None and person.active_until is not None
    until = [m.active_until for m in members if m.active_until is not None]
    starts = [m.first_started_at for m in members if m.first_started_at is not None]
    lapses = [m.lapsed_at for m in members if m.lapsed_at is not None]
    figures = (
        max(until) if until else None,
        min(starts) if starts else None,
        max(lapses) if lapses else None,
    )
    if person is None:
        person = Person(key=person_key, active_until=None, first_started_at=None, lapsed_at=None)
        session.add(person)
    moved = (person.active_until, person.first_started_at, person.lapsed_at) != figures
    person.active_until, person.first_started_at, person.lapsed_at = figures
    return moved


def forget(session: Session, identity: str, now: datetime) -> tuple[int, int]:
    """Erase an identity fingerprint (a reader's erasure request) from every stored event and
    every member, and rederive their persons, in one transaction. Returns (events, members)
    changed. Their accounts are counted apart from then on, as if never linked; an event that
    names the address again links them again.
    """
    with locks.write_transaction(session):
        members = set(session.scalars(select(Member.key).where(Member.identity == identity)))
        locks.lock(session, (locks.MEMBER, members), (locks.PERSON, {identity}))
        events = session.execute(
            update(Event).where(Event.identity == identity).values(identity=None)
        ).rowcount
        for member in session.scalars(select(Member).where(Member.key.in_(members))):
            member.identity = None
        if refresh(session, members, None):
            session.flush()
            locks.bump_version(session, now)
    return events or 0, len(members)

"""The membership rules: the ledger's changes, its states, and how a change is applied.

No Flask and no provider here: a source turns its provider's events into these changes.

Order independence, in short: every stored field is either a last-writer-wins register keyed
by (change time, state rank, event id), a minimum (``started_at``), or a flag that only ever
turns on (``refunded``) or is the earliest time seen (``final_at``). Each of these gives the
same result for any order and any number of copies of the same changes, so the counts depend
only on the set of events. What a membership is now (``current_state``) is a function of two
of them, the state register and ``final_at``, so it is order-independent too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import FOREVER, Member, Membership, Refund, utcnow
from . import locks, offers, persons


class State(enum.StrEnum):
    PENDING = "pending"  # not started yet (a subscription whose first payment is due)
    ACTIVE = "active"  # makes its member a member
    LAPSED = "lapsed"  # no longer does (it may come back, unless it ended for good)


# Changes stamped in the same second are ordered by this rank, then by event id, so the
# outcome never depends on arrival order: lapsed sorts before active, so at a tie the
# membership is taken to have been (re)activated last.
STATE_RANK = {State.PENDING: 0, State.LAPSED: 1, State.ACTIVE: 2}

RECURRING, ONE_OFF = "recurring", "one-off"


def key(source: str, external_id: str) -> str:
    """A ledger key: the source, then its own id (stripe:cus_123), so sources never collide."""
    return f"{source}:{external_id}"


def external_id(ledger_key: str) -> str:
    """The source's own id in a ledger key (cus_123 in stripe:cus_123), as its people know it."""
    return ledger_key.partition(":")[2]


@dataclass(frozen=True)
class RecurringChange:
    """A recurring membership was seen in a state at a moment: it became active, lapsed, or
    (``final``) ended for good."""

    source: str
    membership: str  # the source's own ids, without the source prefix
    member: str
    state: State
    final: bool
    at: datetime
    event_id: str
    # When it started, where the source says so apart from ``at`` (an import's row: ``at`` is
    # when the import said it, which orders imports; this is when the membership began).
    started_at: datetime | None = None
    # Until when an active membership lasts, where it has an end (an imported one-off
    # membership); None for "until it lapses".
    until: datetime | None = None
    # The member's identity fingerprint (``identity.fingerprint``), if the source knows it.
    identity: str | None = None
    # What the membership was bought as (offers.py), where the event says.
    offers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OneOffPayment:
    """A one-off membership was paid: it keeps its member a member for ``term`` from the start."""

    source: str
    membership: str
    member: str
    payment: str | None  # what a refund of it names, if the source has such an id
    term: timedelta
    at: datetime
    event_id: str
    identity: str | None = None  # the member's identity fingerprint, if the source knows it
    offers: frozenset[str] = frozenset()  # what it was bought as (offers.py)


@dataclass(frozen=True)
class PaymentRefund:
    """A payment was fully refunded: the one-off memberships it bought lapse."""

    source: str
    payment: str
    at: datetime
    event_id: str


@dataclass(frozen=True)
class IdentitySeen:
    """A member's identity became known (a customer's email, say) without a membership change."""

    source: str
    member: str
    identity: str
    at: datetime
    event_id: str


@dataclass(frozen=True)
class Ignored:
    """An event that changes no membership, and why."""

    reason: str


Change = RecurringChange | OneOffPayment | PaymentRefund | IdentitySeen


def current_state(state: str, final_at: datetime | None) -> str:
    """What a membership is now: the state to count, compare with a provider and show.

    A membership that ended for good never comes back, so once ``final_at`` is set it is lapsed,
    even where an active change of the same second (or stamped later) holds the state
    register; the register keeps its value, as the order-independence argument needs.
    """
    return State.LAPSED if final_at is not None else state


def apply_change(session: Session, change: Change) -> set[str]:
    """Apply one change; return the keys of persons whose counted figures moved.

    Locks every key the change reads or writes first (see ``locks.write_transaction``).
    """
    if isinstance(change, RecurringChange):
        touched = {_apply_recurring(session, change)}
    elif isinstance(change, OneOffPayment):
        touched = {_apply_one_off(session, change)}
    elif isinstance(change, PaymentRefund):
        touched = _apply_refund(session, change)
    else:
        touched = {_apply_identity(session, change)}
    moved = persons.refresh(session, touched, getattr(change, "identity", None))
    if isinstance(change, RecurringChange | OneOffPayment) and offers.add(
        session, key(change.source, change.membership), change.offers
    ):
        # A new offer moves no figure, but may change what a campaign counts: report the
        # person as moved so the version bumps and cached counts are redone.
        member = session.get(Member, key(change.source, change.member))
        assert member is not None, "the membership's member was just written"
        moved.add(member.person_key)
    return moved


def _member(session: Session, member_key: str, source: str) -> Member:
    member = session.get(Member, member_key)
    if member is None:
        # Derived columns set explicitly: the flush then keeps them loaded, and
        # _refresh_member reads them without another SELECT.
        member = Member(
            key=member_key,
            source=source,
            identity=None,
            person_key=member_key,
            active_until=None,
            first_started_at=None,
            lapsed_at=None,
        )
        session.add(member)
    return member


def _newer(membership: Membership, at: datetime, state: State, event_id: str) -> bool:
    theirs = (at, STATE_RANK[state], event_id)
    ours = (membership.state_at, membership.state_rank, membership.state_event_id)
    return theirs > ours


def _set_state(membership: Membership, at: datetime, state: State, event_id: str) -> None:
    membership.state = state.value
    membership.state_at = at
    membership.state_rank = STATE_RANK[state]
    membership.state_event_id = event_id


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


def _membership(
    session: Session, membership_key: str, member_key: str, kind: str, source: str
) -> tuple[Membership, bool]:
    """The stored membership, or a new one (not yet added); True when it is new."""
    membership = session.get(Membership, membership_key)
    if membership is None:
        _member(session, member_key, source)
        membership = Membership(
            key=membership_key, source=source, kind=kind, member_key=member_key, refunded=False
        )
        return membership, True
    if membership.kind != kind:
        raise ValueError(f"{membership.key} is a {membership.kind} membership, not {kind}")
    if membership.member_key != member_key:
        raise ValueError(
            f"{membership.key} belongs to {membership.member_key}, an event says {member_key}"
        )
    return membership, False


def _apply_recurring(session: Session, change: RecurringChange) -> str:
    membership_key = key(change.source, change.membership)
    member_key = key(change.source, change.member)
    locks.lock(session, (locks.MEMBERSHIP, {membership_key}), (locks.MEMBER, {member_key}))
    membership, new = _membership(session, membership_key, member_key, RECURRING, change.source)
    if new or _newer(membership, change.at, change.state, change.event_id):
        _set_state(membership, change.at, change.state, change.event_id)
    if new:
        session.add(membership)
    if change.final:
        membership.final_at = _earliest(membership.final_at, change.at)
    if change.state == State.ACTIVE:
        membership.started_at = _earliest(membership.started_at, change.started_at or change.at)
    live = current_state(membership.state, membership.final_at) == State.ACTIVE
    if not live:
        membership.active_until = None
    elif new or membership.state_event_id == change.event_id:
        # This change holds the register: its end (an imported one-off's) is the end now.
        membership.active_until = change.until or FOREVER
    elif membership.active_until is None:
        membership.active_until = FOREVER
    membership.ended_at = None if live else _lapsed_at(membership)
    membership.updated_at = utcnow()
    return member_key


def _lapsed_at(membership: Membership) -> datetime | None:
    """About when a recurring membership that is no longer live stopped being one, for the
    history the dashboard charts. Counting never uses it: a lapsed membership is simply not
    active.
    """
    if membership.started_at is None:
        return None
    if membership.final_at is None:
        ended = membership.state_at
    elif membership.state == State.ACTIVE:
        ended = membership.final_at  # ended for good; an active change stamped later won the tie
    else:
        ended = min(membership.final_at, membership.state_at)
    return max(membership.started_at, ended)


def _apply_one_off(session: Session, change: OneOffPayment) -> str:
    membership_key = key(change.source, change.membership)
    member_key = key(change.source, change.member)
    payment = key(change.source, change.payment) if change.payment else None
    locks.lock(
        session,
        (locks.PAYMENT, {payment}),
        (locks.MEMBERSHIP, {membership_key}),
        (locks.MEMBER, {member_key}),
    )
    membership, new = _membership(session, membership_key, member_key, ONE_OFF, change.source)
    if new:
        membership.payment = payment
        _set_state(membership, change.at, State.ACTIVE, change.event_id)
        session.add(membership)
    elif _newer(membership, change.at, State.ACTIVE, change.event_id):
        _set_state(membership, change.at, State.ACTIVE, change.event_id)
    membership.started_at = _earliest(membership.started_at, change.at)
    if payment is not None and session.get(Refund, payment):
        membership.refunded = True
    membership.active_until = None if membership.refunded else membership.started_at + change.term
    membership.updated_at = utcnow()
    return member_key


def _apply_refund(session: Session, change: PaymentRefund) -> set[str]:
    payment = key(change.source, change.payment)
    locks.lock(session, (locks.PAYMENT, {payment}))
    # Which memberships a payment covers is fixed by the payment events, which lock the
    # payment too: after the lock above, this list cannot grow until we commit.
    covered = session.execute(
        select(Membership.key, Membership.member_key).where(Membership.payment == payment)
    ).all()
    locks.lock(
        session,
        (locks.MEMBERSHIP, {k for k, _ in covered}),
        (locks.MEMBER, {m for _, m in covered}),
    )
    refund = session.get(Refund, payment)
    if refund is None:
        session.add(Refund(payment=payment, refunded_at=change.at, event_id=change.event_id))
    elif (change.at, change.event_id) < (refund.refunded_at, refund.event_id):
        refund.refunded_at, refund.event_id = change.at, change.event_id
    touched: set[str] = set()
    for membership in session.scalars(select(Membership).where(Membership.payment == payment)):
        membership.refunded = True
        membership.active_until = None
        membership.updated_at = utcnow()
        touched.add(membership.member_key)
    return touched


def _apply_identity(session: Session, change: IdentitySeen) -> str:
    member_key = key(change.source, change.member)
    locks.lock(session, (locks.MEMBER, {member_key}))
    _member(session, member_key, change.source)
    return member_key

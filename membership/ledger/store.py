"""The domain: record Stripe events once, keep memberships exact, count campaigns.

No Flask here, so the same rules serve the webhook, the CLI, recount and replays.

Order independence, in short: every stored field is either a last-writer-wins register keyed
by (event created, state rank, event id), a minimum (``started_at``), or a flag that only ever
turns on (``refunded``) or is the earliest
time seen (``final_at``). Each of these gives the same result for any order and any
number of copies of the same events, so the counts depend only on the set of events. What a
subscription is now (``current_state``) is a function of two of them, the state register and
``final_at``, so it is order-independent too.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..models import (
    FOREVER,
    LEDGER_ROW,
    LedgerState,
    Member,
    Membership,
    Refund,
    StripeEvent,
    utcnow,
)
from ..sources import privacy
from ..sources.stripe.events import (
    ACTIVE,
    LAPSED,
    STATE_RANK,
    Envelope,
    Ignored,
    PaymentChange,
    RefundChange,
    SubscriptionChange,
    load,
    parse_envelope,
    translate,
)

# Execution option read by the SQLite "begin" hook: take the write lock at BEGIN, so two
# writers queue on the busy timeout instead of one failing when it upgrades a read lock.
WRITE_OPTION = "membership_write"


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"
    FAILED = "failed"


@dataclass(frozen=True)
class Policy:
    """The deployment's settings that the rules depend on."""

    livemode: str | None = None  # "live", "test" or None for both
    term: timedelta = timedelta(days=365)


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    detail: str = ""


class StorageError(RuntimeError):
    """The event could not be stored at all; the sender should retry later."""


@contextmanager
def write_transaction(session: Session) -> Iterator[None]:
    """One ledger write: commit on success, roll back on any error.

    On SQLite, BEGIN IMMEDIATE serialises every writer on the whole file. On PostgreSQL,
    writers run side by side and serialise only where they meet: each locks the keys it is
    about to read and change (``_lock``) before reading them, so read-modify-write of one
    membership or member never interleaves, while events of different members proceed at
    once. READ COMMITTED (PostgreSQL's default, set here so a server default cannot change it)
    makes every statement after a lock see what the previous holder committed.
    """
    if session.in_transaction():
        session.rollback()
    options: dict[str, object] = {WRITE_OPTION: True}
    if _is_postgresql(session):
        options["isolation_level"] = "READ COMMITTED"
    session.connection(execution_options=options)
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _is_postgresql(session: Session) -> bool:
    bind = session.get_bind()
    return bind.dialect.name == "postgresql"


# Lock classes, taken in this order (and by key within a class) by every writer, so two
# writers never wait for each other in a cycle. A refund discovers its memberships and their
# members only after locking its payment, which is why payments come before memberships and
# members come last.
_EVENT, _PAYMENT, _MEMBERSHIP, _MEMBER = "event", "payment", "membership", "member"


def lock_key(kind: str, key: str) -> int:
    """The 64-bit PostgreSQL advisory lock id of one ledger key (a collision only serialises)."""
    digest = hashlib.blake2b(f"{kind}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock(session: Session, *groups: tuple[str, Iterable[str | None]]) -> None:
    """Hold transaction-scoped advisory locks on these keys until commit (PostgreSQL only).

    Groups are (class, keys), given in class order; one statement takes them all, and as
    PostgreSQL evaluates a select list left to right, they are taken in class order, then in
    ascending order within a class.
    """
    if not _is_postgresql(session):
        return
    ids = [i for kind, keys in groups for i in sorted({lock_key(kind, k) for k in keys if k})]
    if ids:
        calls = ", ".join(f"pg_advisory_xact_lock(:k{n})" for n in range(len(ids)))
        session.execute(text(f"SELECT {calls}"), {f"k{n}": i for n, i in enumerate(ids)})


def _bump_version(session: Session, now: datetime) -> None:
    """Tell the progress caches that counted figures moved.

    The last statement before COMMIT: the ledger_state row lock it takes is the one thing all
    event writers share, so it is held only for the commit.
    """
    session.execute(
        update(LedgerState)
        .where(LedgerState.id == LEDGER_ROW)
        .values(version=LedgerState.version + 1, changed_at=now)
    )


def record_event(
    session: Session,
    envelope: Envelope,
    payload: str,
    policy: Policy,
    *,
    now: datetime | None = None,
) -> Result:
    """Store one delivered event exactly once and apply its effect in the same transaction.

    Raises InvalidEvent (nothing stored) when the payload is not JSON or nests deeper than
    ``MAX_DEPTH``, and StorageError when the database could not be used (down, locked,
    read-only) or not even the failure could be recorded. Any other error, an object the
    rules cannot read (``UnreadableEvent``) included, is recorded as the event's failure.
    """
    now = now or utcnow()
    payload = json.dumps(privacy.scrub(load(payload)), separators=(",", ":"))
    try:
        duplicate = _count_duplicate(session, envelope.id)
        if duplicate is not None:
            return duplicate
        with write_transaction(session):
            return _record(session, envelope, payload, policy, now)
    except OperationalError as exc:
        # The database, not the event: nothing was written, and the sender should retry.
        raise StorageError(f"database unavailable for event {envelope.id}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - any failure is recorded, then retried by Stripe
        error = f"{type(exc).__name__}: {exc}"
    try:
        with write_transaction(session):
            _store_failure(session, envelope, payload, error, now)
    except Exception as exc:
        raise StorageError(f"could not record event {envelope.id}: {exc}") from exc
    return Result(Outcome.FAILED, error)


def _count_duplicate(session: Session, event_id: str) -> Result | None:
    """A redelivery of a settled event, counted without the ledger's locks; None otherwise.

    A settled outcome (applied or ignored) never changes, so one atomic UPDATE can answer it:
    copies, which Stripe sends often, never wait for the locks that writers of new events
    hold. A plain read comes first, so a new event takes no write lock here (on SQLite, the
    file's).
    """
    if session.in_transaction():
        session.rollback()
    seen = session.scalar(select(StripeEvent.outcome).where(StripeEvent.id == event_id))
    session.rollback()
    if seen not in (Outcome.APPLIED.value, Outcome.IGNORED.value):
        return None
    session.connection(execution_options={WRITE_OPTION: True})
    try:
        outcome = session.execute(
            update(StripeEvent)
            .where(
                StripeEvent.id == event_id,
                StripeEvent.outcome.in_([Outcome.APPLIED.value, Outcome.IGNORED.value]),
            )
            .values(duplicates=StripeEvent.duplicates + 1)
            .returning(StripeEvent.outcome)
        ).scalar_one_or_none()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return None if outcome is None else Result(Outcome.DUPLICATE, f"already {outcome}")


def replay(session: Session, event_id: str, policy: Policy) -> Result | None:
    """Process a stored event again from its payload; None if no such event is stored.

    Idempotent like a redelivery: a failed event is retried, any other is a duplicate.
    """
    stored = session.get(StripeEvent, event_id)
    if stored is None:
        return None
    payload = stored.payload
    session.rollback()
    return record_event(session, parse_envelope(load(payload)), payload, policy)


def failed_event_ids(session: Session) -> list[str]:
    ids = list(
        session.scalars(
            select(StripeEvent.id)
            .where(StripeEvent.outcome == Outcome.FAILED.value)
            .order_by(StripeEvent.received_at)
        )
    )
    session.rollback()
    return ids


def prune_ignored(session: Session, before: datetime) -> int:
    """Delete ignored events received before ``before``; the count deleted."""
    result = session.execute(
        delete(StripeEvent).where(
            StripeEvent.outcome == Outcome.IGNORED.value, StripeEvent.received_at < before
        )
    )
    session.commit()
    return result.rowcount


def _record(
    session: Session,
    envelope: Envelope,
    payload: str,
    policy: Policy,
    now: datetime,
) -> Result:
    _lock(session, (_EVENT, {envelope.id}))
    stored = session.get(StripeEvent, envelope.id)
    if stored is not None and stored.outcome != Outcome.FAILED:
        # An SQL increment: the lock-free duplicate path may count a copy at the same time.
        stored.duplicates = StripeEvent.duplicates + 1
        return Result(Outcome.DUPLICATE, f"already {stored.outcome}")

    moved: set[str] = set()
    if policy.livemode == "live" and not envelope.livemode:
        result = Result(Outcome.IGNORED, "test-mode event; this deployment counts live mode only")
    elif policy.livemode == "test" and envelope.livemode:
        result = Result(Outcome.IGNORED, "live-mode event; this deployment counts test mode only")
    else:
        change = translate(envelope)
        if isinstance(change, Ignored):
            result = Result(Outcome.IGNORED, change.reason)
        else:
            moved = apply_change(session, change, policy)  # locks the keys it touches first
            result = Result(Outcome.APPLIED, "")

    _set_outcome(session, stored, envelope, payload, result, now)
    if moved:
        session.flush()
        _bump_version(session, now)
    return result


def _store_failure(
    session: Session, envelope: Envelope, payload: str, error: str, now: datetime
) -> None:
    _lock(session, (_EVENT, {envelope.id}))
    stored = session.get(StripeEvent, envelope.id)
    if stored is not None and stored.outcome != Outcome.FAILED:
        return  # another delivery succeeded meanwhile; its outcome stands
    _set_outcome(session, stored, envelope, payload, Result(Outcome.FAILED, error[:2000]), now)


def _set_outcome(
    session: Session,
    stored: StripeEvent | None,
    envelope: Envelope,
    payload: str,
    result: Result,
    now: datetime,
) -> None:
    """Record what became of a delivery, on the event's one row (made on first delivery)."""
    if stored is None:
        stored = StripeEvent(
            id=envelope.id,
            type=envelope.type,
            created=envelope.created,
            livemode=envelope.livemode,
            api_version=envelope.api_version,
            payload=payload,
            received_at=now,
            attempts=0,
            duplicates=0,
        )
        session.add(stored)
    stored.outcome = result.outcome.value
    stored.detail = result.detail
    stored.attempts += 1
    stored.processed_at = now


# --- applying changes -------------------------------------------------------------------------


def apply_change(
    session: Session, change: SubscriptionChange | PaymentChange | RefundChange, policy: Policy
) -> set[str]:
    """Apply one change; return the keys of members whose counted figures moved.

    Locks every key the change reads or writes first (see ``write_transaction``).
    """
    _lock_change(session, change)
    if isinstance(change, SubscriptionChange):
        touched = {_apply_subscription(session, change)}
    elif isinstance(change, PaymentChange):
        touched = {_apply_payment(session, change, policy)}
    else:
        touched = _apply_refund(session, change)
    return {key for key in touched if _refresh_member(session, key)}


def _lock_change(
    session: Session, change: SubscriptionChange | PaymentChange | RefundChange
) -> None:
    if isinstance(change, SubscriptionChange):
        _lock(session, (_MEMBERSHIP, {change.subscription}), (_MEMBER, {change.customer}))
    elif isinstance(change, PaymentChange):
        _lock(
            session,
            (_PAYMENT, {change.payment_intent}),
            (_MEMBERSHIP, {change.checkout_session}),
            (_MEMBER, {change.member}),
        )
    else:
        _lock(session, (_PAYMENT, {change.payment_intent}))
        # Which memberships a payment covers is fixed by the payment events, which lock the
        # payment too: after the lock above, this list cannot grow until we commit.
        rows = session.execute(
            select(Membership.key, Membership.member_key).where(
                Membership.payment_intent == change.payment_intent
            )
        ).all()
        _lock(session, (_MEMBERSHIP, {k for k, _ in rows}), (_MEMBER, {m for _, m in rows}))


def _member(session: Session, key: str) -> Member:
    member = session.get(Member, key)
    if member is None:
        # Derived columns set explicitly: the flush then keeps them loaded, and
        # _refresh_member reads them without another SELECT.
        member = Member(key=key, active_until=None, first_started_at=None, lapsed_at=None)
        session.add(member)
    return member


def _newer(membership: Membership, at: datetime, state: str, event_id: str) -> bool:
    theirs = (at, STATE_RANK[state], event_id)
    ours = (membership.state_at, membership.state_rank, membership.state_event_id)
    return theirs > ours


def _set_state(membership: Membership, at: datetime, state: str, event_id: str) -> None:
    membership.state = state
    membership.state_at = at
    membership.state_rank = STATE_RANK[state]
    membership.state_event_id = event_id


def current_state(state: str, final_at: datetime | None) -> str:
    """What a membership is now, the state to count, compare with Stripe and show.

    Stripe never revives a subscription it ended, so once ``final_at`` is set it is lapsed for
    good, even where an active event of the same second (or stamped later) holds the state
    register; the register keeps its value, as the order-independence argument needs.
    """
    return LAPSED if final_at is not None else state


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


def _apply_subscription(session: Session, change: SubscriptionChange) -> str:
    membership = session.get(Membership, change.subscription)
    if membership is None:
        _member(session, change.customer)
        membership = Membership(
            key=change.subscription,
            kind="subscription",
            member_key=change.customer,
            refunded=False,
        )
        _set_state(membership, change.at, change.state, change.event_id)
        session.add(membership)
    else:
        _check_same(membership, "subscription", change.customer)
        if _newer(membership, change.at, change.state, change.event_id):
            _set_state(membership, change.at, change.state, change.event_id)
    if change.final:
        membership.final_at = _earliest(membership.final_at, change.at)
    if change.state == ACTIVE:
        membership.started_at = _earliest(membership.started_at, change.at)
    live = current_state(membership.state, membership.final_at) == ACTIVE
    membership.active_until = FOREVER if live else None
    membership.ended_at = None if live else _lapsed_at(membership)
    membership.updated_at = utcnow()
    return membership.member_key


def _lapsed_at(membership: Membership) -> datetime | None:
    """About when a subscription that is no longer live stopped being one, for the history
    the dashboard charts. Counting never uses it: a lapsed subscription is simply not active.
    """
    if membership.started_at is None:
        return None
    if membership.final_at is None:
        ended = membership.state_at
    elif membership.state == ACTIVE:
        ended = membership.final_at  # deleted, and an active event stamped later won the tie
    else:
        ended = min(membership.final_at, membership.state_at)
    return max(membership.started_at, ended)


def _apply_payment(session: Session, change: PaymentChange, policy: Policy) -> str:
    membership = session.get(Membership, change.checkout_session)
    if membership is None:
        _member(session, change.member)
        membership = Membership(
            key=change.checkout_session,
            kind="payment",
            member_key=change.member,
            payment_intent=change.payment_intent,
            refunded=False,
        )
        _set_state(membership, change.at, ACTIVE, change.event_id)
        session.add(membership)
    else:
        _check_same(membership, "payment", change.member)
        if _newer(membership, change.at, ACTIVE, change.event_id):
            _set_state(membership, change.at, ACTIVE, change.event_id)
    membership.started_at = _earliest(membership.started_at, change.at)
    if change.payment_intent is not None and session.get(Refund, change.payment_intent):
        membership.refunded = True
    membership.active_until = None if membership.refunded else membership.started_at + policy.term
    membership.updated_at = utcnow()
    return membership.member_key


def _apply_refund(session: Session, change: RefundChange) -> set[str]:
    refund = session.get(Refund, change.payment_intent)
    if refund is None:
        session.add(
            Refund(
                payment_intent=change.payment_intent,
                refunded_at=change.at,
                event_id=change.event_id,
            )
        )
    elif (change.at, change.event_id) < (refund.refunded_at, refund.event_id):
        refund.refunded_at, refund.event_id = change.at, change.event_id
    touched: set[str] = set()
    for membership in session.scalars(
        select(Membership).where(Membership.payment_intent == change.payment_intent)
    ):
        membership.refunded = True
        membership.active_until = None
        membership.updated_at = utcnow()
        touched.add(membership.member_key)
    return touched


def _check_same(membership: Membership, kind: str, member_key: str) -> None:
    if membership.kind != kind:
        raise ValueError(f"{membership.key} is a {membership.kind}, not a {kind}")
    if membership.member_key != member_key:
        raise ValueError(
            f"{membership.key} belongs to {membership.member_key}, an event says {member_key}"
        )


def _refresh_member(session: Session, key: str) -> bool:
    """Rederive a member's counted figures from its memberships; True if they moved."""
    member = _member(session, key)
    memberships = list(session.scalars(select(Membership).where(Membership.member_key == key)))
    until = [m.active_until for m in memberships if m.active_until is not None]
    starts = [m.started_at for m in memberships if m.started_at is not None and not m.refunded]
    lapses = [m.ended_at for m in memberships if m.ended_at is not None and not m.refunded]
    figures = (
        max(until) if until else None,
        min(starts) if starts else None,
        max(lapses) if lapses else None,
    )
    moved = (member.active_until, member.first_started_at, member.lapsed_at) != figures
    member.active_until, member.first_started_at, member.lapsed_at = figures
    return moved

"""The outbox worker: claim a due delivery, send it, record the outcome; retry with back-off.

No Flask here. Delivery is at least once: a claim moves the row's ``due_at`` one lease ahead
and commits before anything is sent, so a worker that dies mid-delivery leaves the row to be
claimed again when the lease runs out, and receivers drop repeats by the delivery id.
Claims are safe across workers and hosts: on PostgreSQL a claim skips rows another worker is
claiming (FOR UPDATE SKIP LOCKED); on SQLite, claims are write transactions, one at a time.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..ledger.locks import is_postgresql, write_transaction
from ..models import NotifyChannel, NotifyDelivery, utcnow
from . import mail, secrets, slack, webhook
from .outbox import Notice, notice_of
from .outgoing import DeliveryError
from .settings import NotifySettings

log = logging.getLogger(__name__)

# Other periodic work the loop runs before delivering (milestone detection, the digest): each
# gets a fresh session and the time; the worker commits after it returns, rolls back if it raises.
Tick = Callable[[Session, datetime], Any]

ERROR_CHARS = 1000


@dataclass(frozen=True)
class Claim:
    """A delivery a worker holds, with what it needs to send it outside any transaction."""

    id: int
    attempt: int  # fences the outcome: only the latest claim's report is recorded
    public_id: str
    kind: str
    address: str
    secret: str  # encrypted
    notice: Notice
    created_at: datetime


def claim(session: Session, settings: NotifySettings, now: datetime) -> Claim | None:
    """Take the next due delivery for one lease, committed; None when nothing is due."""
    due = NotifyDelivery.status == "pending", NotifyDelivery.due_at <= now
    # A read first: an idle worker polling must not take SQLite's write lock every few
    # seconds, which webhook deliveries wait for.
    session.rollback()
    nothing_due = session.scalars(select(NotifyDelivery.id).where(*due).limit(1)).first() is None
    session.rollback()
    if nothing_due:
        return None
    with write_transaction(session):
        query = (
            select(NotifyDelivery)
            .where(*due)
            .order_by(NotifyDelivery.due_at, NotifyDelivery.id)
            .limit(1)
        )
        if is_postgresql(session):
            query = query.with_for_update(skip_locked=True)
        row = session.scalars(query).first()
        if row is None:
            return None
        channel = session.get(NotifyChannel, row.channel_id)
        assert channel is not None  # deleting a channel deletes its deliveries
        row.attempts += 1
        row.last_attempt_at = now
        row.due_at = now + timedelta(seconds=settings.lease)
        return Claim(
            id=row.id,
            attempt=row.attempts,
            public_id=row.public_id,
            kind=channel.kind,
            address=channel.address,
            secret=channel.secret,
            notice=notice_of(row),
            created_at=row.created_at,
        )


def send(held: Claim, settings: NotifySettings, now: datetime) -> None:
    """Deliver to the channel; raises on any failure."""
    if held.kind == "slack":
        slack.send(secrets.decrypt(settings.keys, held.secret), held.notice, settings.timeout)
    elif held.kind == "email":
        mail.send(
            settings.smtp,
            settings.sender,
            held.address,
            held.notice,
            held.public_id,
            settings.timeout,
        )
    elif held.kind == "webhook":
        webhook.send(
            held.address,
            secrets.decrypt(settings.keys, held.secret),
            held.notice,
            held.public_id,
            held.created_at,
            now,
            settings.timeout,
        )
    else:
        raise ValueError(f"unknown channel kind {held.kind!r}")


def backoff(attempt: int, settings: NotifySettings, rng: random.Random) -> float:
    """Seconds before the next try: doubling from first_retry up to max_retry, with jitter
    (between half and all of it), so receivers coming back are not met by every row at once."""
    full = min(settings.max_retry, settings.first_retry * 2 ** min(attempt - 1, 30))
    return full * (0.5 + rng.random() / 2)


def record(
    session: Session,
    held: Claim,
    error: str | None,
    settings: NotifySettings,
    now: datetime,
    rng: random.Random,
) -> str:
    """Mark the delivery delivered, or due again later, or failed for good; returns its status."""
    values: dict[str, Any]
    if error is None:
        values = {"status": "delivered", "delivered_at": now, "last_error": ""}
    elif now - held.created_at >= timedelta(hours=settings.give_up_hours):
        values = {"status": "failed", "last_error": error[:ERROR_CHARS]}
    else:
        retry = now + timedelta(seconds=backoff(held.attempt, settings, rng))
        values = {"due_at": retry, "last_error": error[:ERROR_CHARS]}
    with write_transaction(session):
        # A worker whose lease ran out (and whose row another worker claimed since) must not
        # overwrite the newer claim's outcome.
        session.execute(
            update(NotifyDelivery)
            .where(
                NotifyDelivery.id == held.id,
                NotifyDelivery.attempts == held.attempt,
                NotifyDelivery.status == "pending",
            )
            .values(**values)
        )
    return values.get("status", "pending")


def deliver_due(
    session: Session,
    settings: NotifySettings,
    clock: Callable[[], datetime] = utcnow,
    *,
    limit: int = 100,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
) -> dict[str, int]:
    """Deliver what is due now, up to ``limit`` deliveries or until ``stop`` is set; counts
    by outcome."""
    rng = rng or random.Random()
    outcomes = {"delivered": 0, "pending": 0, "failed": 0}
    for _ in range(limit):
        if stop is not None and stop.is_set():
            break
        held = claim(session, settings, clock())
        if held is None:
            break
        try:
            send(held, settings, clock())
            error = None
        except Exception as exc:  # any failure, a bug included, is recorded and retried
            error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            log.warning(
                "notification %s (attempt %d) failed: %s", held.public_id, held.attempt, error
            )
        status = record(session, held, error, settings, clock(), rng)
        outcomes[status] += 1
        if status != "pending":
            log.log(
                logging.INFO if status == "delivered" else logging.ERROR,
                "notification %s (%s, %s) %s after %d attempt(s)",
                held.public_id,
                held.notice.key,
                held.kind,
                "delivered" if status == "delivered" else "failed for good",
                held.attempt,
            )
    return outcomes


def run(
    sessions: Callable[[], Session],
    settings: NotifySettings,
    ticks: Sequence[Tick] = (),
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """The loop of `flask notify run`: each round runs the ticks, then delivers what is due,
    then waits ``settings.poll`` seconds unless something was delivered (more may be due)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        for tick in ticks:
            session = sessions()
            try:
                tick(session, clock())
                session.commit()
            except Exception:
                # One failing tick must not stop deliveries; it is tried again next round.
                log.exception("notify tick %s failed", getattr(tick, "__qualname__", tick))
                session.rollback()
            finally:
                session.close()
        session = sessions()
        try:
            outcomes = deliver_due(session, settings, clock, stop=stop)
        except Exception:
            log.exception("delivering notifications failed; trying again next round")
            outcomes = {}
        finally:
            session.close()
        if once:
            return
        if not sum(outcomes.values()):
            stop.wait(settings.poll)

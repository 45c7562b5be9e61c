"""Serialising ledger writers: one transaction per write, and locks on the keys it touches.

No Flask here. On SQLite, BEGIN IMMEDIATE serialises every writer on the whole file. On
PostgreSQL, writers run side by side and serialise only where they meet, on transaction-scoped
advisory locks of the keys they are about to read and change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from ..models import LEDGER_ROW, LedgerState

# Execution option read by the SQLite "begin" hook: take the write lock at BEGIN, so two
# writers queue on the busy timeout instead of one failing when it upgrades a read lock.
WRITE_OPTION = "membership_write"

# Lock classes, taken in this order (and by key within a class) by every writer, so two
# writers never wait for each other in a cycle. A refund discovers its memberships and their
# members only after locking its payment, which is why payments come before memberships and
# members; a member's person is known only once its member is locked, so persons come last.
EVENT, PAYMENT, MEMBERSHIP, MEMBER, PERSON = "event", "payment", "membership", "member", "person"


@contextmanager
def write_transaction(session: Session) -> Iterator[None]:
    """One ledger write: commit on success, roll back on any error.

    Each writer locks the keys it is about to read and change (``lock``) before reading them,
    so read-modify-write of one membership or member never interleaves, while events of
    different members proceed at once. READ COMMITTED (PostgreSQL's default, set here so a
    server default cannot change it) makes every statement after a lock see what the
    previous holder committed.
    """
    if session.in_transaction():
        session.rollback()
    options: dict[str, object] = {WRITE_OPTION: True}
    if is_postgresql(session):
        options["isolation_level"] = "READ COMMITTED"
    session.connection(execution_options=options)
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_key(kind: str, key: str) -> int:
    """The 64-bit PostgreSQL advisory lock id of one ledger key (a collision only serialises)."""
    digest = hashlib.blake2b(f"{kind}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock(session: Session, *groups: tuple[str, Iterable[str | None]]) -> None:
    """Hold transaction-scoped advisory locks on these keys until commit (PostgreSQL only).

    Groups are (class, keys), given in class order; they are taken in class order, then in
    ascending lock id order within a class. One statement takes them all, however many: the
    ids travel as one list, which PostgreSQL reads out in its order (the ORDER BY says so,
    and holds whether PostgreSQL calls the function before or after it sorts).
    """
    if not is_postgresql(session):
        return
    ids = [i for kind, keys in groups for i in sorted({lock_key(kind, k) for k in keys if k})]
    if ids:
        session.execute(_LOCK_ALL, {"ids": "{" + ",".join(map(str, ids)) + "}"})


# The ids travel as one bigint[] literal (a text parameter the driver passes as it is):
# however many there are, one statement, and no per-value work in SQLAlchemy or the driver.
_LOCK_ALL = text(
    "SELECT pg_advisory_xact_lock(taken.id) "
    "FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS taken(id, n) ORDER BY taken.n"
)


def bump_version(session: Session, now: datetime) -> None:
    """Tell the progress caches that counted figures moved.

    The last statement before COMMIT: the ledger_state row lock it takes is the one thing all
    event writers share, so it is held only for the commit.
    """
    session.execute(
        update(LedgerState)
        .where(LedgerState.id == LEDGER_ROW)
        .values(version=LedgerState.version + 1, changed_at=now)
    )

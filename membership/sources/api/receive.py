"""One membership API PUT: checked, stored as an event with its change, and answered with
what the membership is now. No Flask here: the view passes the settings and the body."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ...ledger import rules
from ...ledger.store import Outcome, Result, record_event
from ...models import FOREVER, Membership
from . import translate


class Conflict(ValueError):
    """The membership is already another member's: the ledger keeps a membership's member."""


@dataclass(frozen=True)
class Received:
    membership: str  # its ledger key, api-NAME:EXTERNAL_ID
    event_id: str
    outcome: str  # applied, ignored (a newer update holds the state) or duplicate
    detail: str
    state: dict[str, Any] | None  # the membership now; None when nothing could be stored

    def answer(self) -> dict[str, Any]:
        return {
            "membership": self.membership,
            "event_id": self.event_id,
            "outcome": self.outcome,
            "detail": self.detail,
            "state": self.state,
        }


def receive(
    session: Session,
    source: str,
    external_id: str,
    body: Any,
    identity_key: bytes | None,
    now: datetime,
) -> Received:
    """Store one PUT exactly once. Raises translate.BadBody for a body that cannot be stored,
    Conflict for a membership that is another member's, store.StorageError when the database
    could not be used (nothing is written then)."""
    event = translate.event_of(source, external_id, body, identity_key, now)
    membership_key = rules.key(source, external_id)
    member_key = rules.key(source, event.body["member"] or external_id)
    held = session.get(Membership, membership_key)
    if held is not None and held.member_key != member_key:
        session.rollback()
        raise Conflict(f"{membership_key} is the membership of {held.member_key}")
    session.rollback()
    result = record_event(session, event, translate.translate, now=now)
    membership = session.get(Membership, membership_key)
    state = None if membership is None else _state(membership, now)
    session.rollback()
    outcome, detail = _outcome(result, membership, event.id)
    return Received(membership_key, event.id, outcome, detail, state)


def _outcome(result: Result, membership: Membership | None, event_id: str) -> tuple[str, str]:
    if result.outcome == Outcome.APPLIED and (
        membership is not None and membership.state_event_id != event_id
    ):
        return "ignored", "stored; an update with a later updated_at holds the state"
    return str(result.outcome), result.detail


def _state(membership: Membership, now: datetime) -> dict[str, Any]:
    status = rules.current_state(membership.state, membership.final_at)
    until = membership.active_until
    return {
        "status": status,
        "started_at": _iso(membership.started_at),
        "ends_at": None if until is None or until >= FOREVER else _iso(until),
        "updated_at": _iso(membership.state_at),
        "counted_now": until is not None and until > now,
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")

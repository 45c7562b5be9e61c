"""An import's row as a stored ledger event, and that event as a ledger change. No I/O here.

Each row is kept as one event of the source ``csv-<name>``, so recount and replay rebuild
imported memberships like any other; the email is never kept, only its fingerprint.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ...ledger import identity
from ...ledger.rules import Change, Ignored, RecurringChange, State
from ...ledger.store import Event, Translate, payload_of
from .. import named
from ..named import BadSourceName as BadSourceName  # callers catch it from here
from .reader import Row

PREFIX = "csv-"
ROW = "import.row"  # a row of a file
LAPSE = "import.lapse"  # a membership missing from a full import


IMPORTS = named.Kind(PREFIX)
source_of = IMPORTS.source_of
is_import_source = IMPORTS.holds


def import_id(sha256: str, at: datetime) -> str:
    """One import's id: the file's hash and the moment, so a file imported again later is a
    new import (its rows win over what came between) and undo names one import."""
    return f"{sha256[:16]}.{at:%Y%m%dT%H%M%S%f}"


def event_id(import_: str, external_id: str) -> str:
    return f"{import_}:{external_id}"


def row_body(row: Row) -> dict[str, Any]:
    """What the ledger keeps of a row: everything but the email."""
    return {
        "external_id": row.external_id,
        "started_at": row.started_at.isoformat(),
        "ends_at": None if row.ends_at is None else row.ends_at.isoformat(),
        "status": row.status,
        "kind": row.kind,
    }


def row_identity(row: Row, key: bytes | None) -> str | None:
    """The fingerprint of the row's email (IDENTITY_KEY), None without one."""
    return identity.fingerprint(row.email, key) if row.email else None


def row_event(
    source: str, import_: str, body: dict[str, Any], fingerprint: str | None, at: datetime
) -> Event:
    """The event of a row, from its ``row_body`` and ``row_identity``."""
    return _event(source, event_id(import_, body["external_id"]), ROW, at, body, fingerprint)


def lapse_event(source: str, import_: str, external_id: str, at: datetime) -> Event:
    body = {"external_id": external_id, "status": "lapsed", "missing_from_full_import": True}
    return _event(source, event_id(import_, external_id), LAPSE, at, body, None)


def _event(
    source: str, id_: str, type_: str, at: datetime, body: dict[str, Any], fingerprint: str | None
) -> Event:
    return Event(
        source=source,
        id=id_,
        type=type_,
        created=at,
        livemode=None,
        api_version=None,
        body=body,
        payload=payload_of(body),
        identity=fingerprint,
    )


def translator(term: timedelta) -> Translate:
    """The translate function for import events; ``term`` is how long a one-off membership
    without an end lasts (MEMBERSHIP_TERM_DAYS)."""
    return lambda event: translate(event, term)


def translate(event: Event, term: timedelta) -> Change | Ignored:
    body = event.body
    external_id = body["external_id"]
    if event.type == LAPSE:
        return _change(event, external_id, State.LAPSED)
    if event.type != ROW:
        raise ValueError(f"an import event of unknown type {event.type!r}")
    started_at = datetime.fromisoformat(body["started_at"])
    if body["status"] == "lapsed":
        return _change(event, external_id, State.LAPSED, started_at)
    until = None if body["ends_at"] is None else datetime.fromisoformat(body["ends_at"])
    if body["kind"] == "one-off" and until is None:
        until = started_at + term
    return _change(event, external_id, State.ACTIVE, started_at, until)


def _change(
    event: Event,
    external_id: str,
    state: State,
    started_at: datetime | None = None,
    until: datetime | None = None,
) -> RecurringChange:
    """An imported membership is its own member: one row, one account."""
    return RecurringChange(
        source=event.source,
        membership=external_id,
        member=external_id,
        state=state,
        final=False,
        at=event.created,
        event_id=event.id,
        started_at=started_at,
        until=until,
        identity=event.identity,
    )

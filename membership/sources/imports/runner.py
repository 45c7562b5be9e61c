"""One import: plan what a file would change, apply it in one transaction, or undo it.

No Flask here: the CLI and the admin page pass the settings. Every applied or undone import
is written to the audit log in the same transaction as its events, identified by the file's
SHA-256.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...accounts import audit
from ...ledger import batch, rules, undo
from ...ledger.store import Event
from ...models import AuditEntry, Membership, utcnow
from ...models import Event as StoredEvent
from . import reader, translate
from .reader import Problem

SHOWN = 10  # rows of each kind a dry run lists


@dataclass(frozen=True)
class Settings:
    identity_key: bytes | None  # IDENTITY_KEY: emails become fingerprints with it
    term: timedelta  # MEMBERSHIP_TERM_DAYS: a one-off membership without ends_at lasts this

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(config.get("IDENTITY_KEY"), timedelta(days=config["MEMBERSHIP_TERM_DAYS"]))


@dataclass
class Plan:
    """What importing a file would do: each membership it names, new, changed or unchanged,
    those a full import lapses, and the events that would say so."""

    source: str
    file_name: str
    sha256: str
    import_id: str
    at: datetime
    full: bool
    rows: int
    problems: list[Problem]
    refused: str = ""  # why nothing may be applied; empty when it may
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    lapsed: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"source={self.source} sha256={self.sha256} import={self.import_id} rows={self.rows} "
            f"new={len(self.new)} changed={len(self.changed)} unchanged={len(self.unchanged)} "
            f"lapsed={len(self.lapsed)} invalid={len(self.problems)} file={self.file_name}"
        )


@dataclass(frozen=True)
class Undone:
    source: str
    import_id: str
    events: int
    memberships: int


class NothingToUndo(LookupError):
    pass


def plan(
    session: Session,
    name: str,
    file_name: str,
    data: bytes,
    settings: Settings,
    *,
    full: bool = False,
    skip_invalid: bool = False,
    now: datetime | None = None,
) -> Plan:
    """Read and check the file, and compare it with the ledger; writes nothing.

    Raises translate.BadSourceName for a source name that cannot be one.
    """
    source = translate.source_of(name)
    now = now or utcnow()
    parsed = reader.read(data)
    import_id = translate.import_id(parsed.sha256, now)
    result = Plan(source, file_name, parsed.sha256, import_id, now, full, 0, parsed.problems)
    result.rows = len(parsed.rows) + len({p.line for p in parsed.problems if p.line > 1})
    if parsed.problems and not skip_invalid:
        result.refused = "the file has invalid rows; nothing is applied (see --skip-invalid)"
    elif parsed.problems and full:
        result.refused = "a full import must be valid: a bad row would lapse its membership"
    elif parsed.problems and any(p.line == 1 for p in parsed.problems):
        result.refused = "the header row is wrong"
    held = _held(session, source)
    for row in parsed.rows:
        body = translate.row_body(row)
        fingerprint = translate.row_identity(row, settings.identity_key)
        before = held.pop(rules.key(source, row.external_id), None)
        if before is None:
            result.new.append(row.external_id)
        elif before == (body, fingerprint):
            result.unchanged.append(row.external_id)
            continue
        else:
            result.changed.append(row.external_id)
        result.events.append(translate.row_event(source, import_id, body, fingerprint, now))
    if full:
        for key, (body, _) in sorted(held.items()):
            if body.get("status") != "lapsed":
                external_id = rules.external_id(key)
                result.lapsed.append(external_id)
                result.events.append(translate.lapse_event(source, import_id, external_id, now))
    session.rollback()
    return result


def _held(session: Session, source: str) -> dict[str, tuple[dict, str | None]]:
    """Each membership of the source, with the body and identity of the event that set its
    state (a lapsed membership's body says status "lapsed"), in one query."""
    query = (
        select(
            Membership.key,
            Membership.state,
            Membership.final_at,
            StoredEvent.payload,
            StoredEvent.identity,
        )
        .outerjoin(
            StoredEvent,
            (StoredEvent.source == Membership.source)
            & (StoredEvent.id == Membership.state_event_id),
        )
        .where(Membership.source == source)
    )
    held: dict[str, tuple[dict, str | None]] = {}
    for key, state, final_at, payload, identity in session.execute(query):
        if payload is None:  # its event is gone: compare as changed
            held[key] = ({"status": str(rules.current_state(state, final_at))}, None)
        else:
            held[key] = (json.loads(payload), identity)
    return held


def apply(session: Session, plan_: Plan, settings: Settings, actor: audit.Actor) -> batch.Recorded:
    """Store the plan's events and apply them in one transaction, with its audit entry."""
    if plan_.refused:
        raise ValueError(plan_.refused)
    return batch.record(
        session,
        plan_.events,
        translate.translator(settings.term),
        plan_.at,
        last=lambda s: audit.add(s, actor, audit.MEMBERS_IMPORTED, plan_.summary()),
    )


def undo_import(
    session: Session, name: str, sha256: str, settings: Settings, actor: audit.Actor
) -> Undone:
    """Take back the latest import of the file with this hash (or its first 16 or more hex
    digits) into the source: its events go, and what they touched is rebuilt from the rest."""
    source = translate.source_of(name)
    prefix = sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{16,64}", prefix):
        raise NothingToUndo(f"{sha256!r} is not a file hash (16 to 64 hex digits)")
    ids = session.scalars(
        select(StoredEvent.id).where(
            StoredEvent.source == source, StoredEvent.id.like(f"{prefix[:16]}.%")
        )
    ).all()
    session.rollback()
    if not ids:
        raise NothingToUndo(f"no import of a file {prefix[:16]}… into {source} is in the ledger")
    latest = max(i.partition(":")[0] for i in ids)
    doomed = [i for i in ids if i.partition(":")[0] == latest]
    detail = f"source={source} import={latest} events={len(doomed)}"
    rebuilt = undo.rebuild(
        session,
        source,
        doomed,
        translate.translator(settings.term),
        utcnow(),
        last=lambda s: audit.add(s, actor, audit.MEMBERS_IMPORT_UNDONE, detail),
    )
    return Undone(source, latest, len(doomed), len(rebuilt))


@dataclass(frozen=True)
class Logged:
    """An import or an undo, as the audit log keeps it."""

    entry: AuditEntry
    fields: dict[str, str]

    @property
    def undone(self) -> bool:
        return self.entry.action == audit.MEMBERS_IMPORT_UNDONE


def recent(session: Session, limit: int = 20) -> list[Logged]:
    """The latest imports and undos, newest first."""
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_((audit.MEMBERS_IMPORTED, audit.MEMBERS_IMPORT_UNDONE)))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    ).all()
    return [Logged(e, _fields(e.detail)) for e in entries]


def _fields(detail: str) -> dict[str, str]:
    head, _, file_name = detail.partition(" file=")
    found = dict(part.split("=", 1) for part in head.split() if "=" in part)
    if file_name:
        found["file"] = file_name
    return found

"""A membership API PUT as a stored ledger event, and that event as a ledger change. No I/O.

A PUT to ``api-NAME``'s ``EXTERNAL_ID`` is one event of the source ``api-NAME``. Its id is the
SHA-256 of the stored body (times in UTC, keys sorted) and the email's fingerprint, so the same
body sent twice is a duplicate, whatever its formatting or time zones. Its time is the body's
``updated_at``: the ledger's state register is ordered by (time, state rank, event id), so the
newest ``updated_at`` wins whatever the arrival order; at the same ``updated_at``, ``active``
wins over ``lapsed``, then the larger event id. The email is never kept, only its fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ...ledger import identity
from ...ledger.rules import Change, Ignored, RecurringChange, State
from ...ledger.store import Event, payload_of
from .. import named
from ..named import BadSourceName as BadSourceName  # callers catch it from here
from ..payloads import REMOVED

PREFIX = "api-"
TYPE = "membership.put"
FIELDS = ("email", "member", "status", "started_at", "ends_at", "updated_at")
STATUSES = ("active", "lapsed")
# An external id or member becomes a ledger key "api-<name>:<id>" in a 255-character column.
MAX_ID_LENGTH = 200
MAX_EMAIL_LENGTH = 320
# A clock a little ahead is forgiven; an updated_at far ahead would hold the state for good.
CLOCK_SKEW = timedelta(minutes=5)


class BadBody(ValueError):
    """A body that can never be stored as sent: refused with the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


API = named.Kind(PREFIX)
source_of = API.source_of
is_api_source = API.holds


def event_of(
    source: str, external_id: str, body: Any, identity_key: bytes | None, now: datetime
) -> Event:
    """The event of one PUT, its body checked field by field; BadBody names the first fault."""
    _check_id("external_id", external_id)
    if not isinstance(body, Mapping):
        raise BadBody("body", "must be a JSON object")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadBody(unknown[0], f"is not a field; the fields are {', '.join(FIELDS)}")
    email, member = body.get("email"), body.get("member")
    if email is None and member is None:
        raise BadBody("email", "give email or member (or both)")
    if email is not None:
        if not isinstance(email, str) or len(email) > MAX_EMAIL_LENGTH:
            raise BadBody("email", "must be an email address")
        if identity.normalise(email) is None:
            raise BadBody("email", "is not an email address")
    if member is not None:
        _check_id("member", member)
    status = body.get("status")
    if status not in STATUSES:
        raise BadBody("status", f"must be one of {', '.join(STATUSES)}")
    started_at = _time(body, "started_at", required=True)
    ends_at = _time(body, "ends_at", required=False)
    updated_at = _time(body, "updated_at", required=True)
    assert started_at is not None and updated_at is not None
    if ends_at is not None and ends_at <= started_at:
        raise BadBody("ends_at", "must be after started_at")
    if updated_at > now + CLOCK_SKEW:
        raise BadBody("updated_at", "is in the future")
    stored = {
        "external_id": external_id,
        "member": member,
        "email": None if email is None else REMOVED,
        "status": status,
        "started_at": started_at.isoformat(),
        "ends_at": None if ends_at is None else ends_at.isoformat(),
        "updated_at": updated_at.isoformat(),
    }
    fingerprint = identity.fingerprint(email, identity_key) if email is not None else None
    canonical = json.dumps([stored, fingerprint], sort_keys=True, separators=(",", ":"))
    return Event(
        source=source,
        id=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        type=TYPE,
        created=updated_at,
        livemode=None,
        api_version="1",
        body=stored,
        payload=payload_of(stored),
        identity=fingerprint,
    )


def _check_id(field: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise BadBody(field, "must be a non-empty string")
    if len(value) > MAX_ID_LENGTH:
        raise BadBody(field, f"is longer than {MAX_ID_LENGTH} characters")
    if not value.isprintable():
        raise BadBody(field, "holds a control character")


def _time(body: Mapping[str, Any], field: str, *, required: bool) -> datetime | None:
    """An ISO 8601 time with its offset (or Z), in UTC."""
    value = body.get(field)
    if value is None:
        if required:
            raise BadBody(field, "is required")
        return None
    if not isinstance(value, str):
        raise BadBody(field, "must be an ISO 8601 time, such as 2026-03-01T09:30:00Z")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadBody(field, "must be an ISO 8601 time, such as 2026-03-01T09:30:00Z") from None
    if moment.tzinfo is None:
        raise BadBody(field, "must name its offset (Z or +01:00)")
    return moment.astimezone(UTC)


def translate(event: Event) -> Change | Ignored:
    """The change a stored PUT means: its membership in its state from ``updated_at``."""
    if event.type != TYPE:
        raise ValueError(f"a membership API event of unknown type {event.type!r}")
    body = event.body
    external_id = body["external_id"]
    active = body["status"] == "active"
    return RecurringChange(
        source=event.source,
        membership=external_id,
        # Without the system's own key for the person, the membership is its own member.
        member=body["member"] or external_id,
        state=State.ACTIVE if active else State.LAPSED,
        final=False,
        at=event.created,
        event_id=event.id,
        started_at=datetime.fromisoformat(body["started_at"]),
        until=None if body["ends_at"] is None else datetime.fromisoformat(body["ends_at"]),
        identity=event.identity,
    )

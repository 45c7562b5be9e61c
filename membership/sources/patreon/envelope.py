"""A Patreon delivery parsed, and the ledger Event made from a member's state as read back.

No Flask, no database, no network. Patreon's bodies carry no event id and no event time (see
docs/patreon.md), so the ledger never records a body's claims: a delivery only says "member X
changed", and the Event records the member as Patreon's API returned it, stamped with the
moment just before that read was sent (``fetched_at``). Personal fields are removed and the
email is kept only as its keyed fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...ledger.identity import fingerprint
from ...ledger.store import Event, payload_of
from ..payloads import MAX_ID_LENGTH, NotAnEvent, check_printable, decoded, scrub

SOURCE = "patreon"
API_VERSION = "v2"
# The member triggers a webhook is created with; each one means "this member changed".
MEMBER_TRIGGERS = frozenset(
    {
        "members:create",
        "members:update",
        "members:delete",
        "members:pledge:create",
        "members:pledge:update",
        "members:pledge:delete",
    }
)
SYNC = "sync"  # the type of an Event ``flask patreon sync`` records
# Member ids are UUIDs (36); this leaves room for the stamp and digest in the event id.
MAX_MEMBER_ID_LENGTH = 120

# Members' and users' fields that name or locate a person, or are free text about them.
PERSONAL_FIELDS = frozenset(
    {
        "email",
        "full_name",
        "first_name",
        "last_name",
        "vanity",
        "note",
        "about",
        "address",
        "addressee",
        "line_1",
        "line_2",
        "city",
        "postal_code",
        "phone_number",
        "image_url",
        "thumb_url",
        "url",
        "social_connections",
        "twitter",
        "facebook",
        "youtube",
        "twitch",
        "discord_id",
    }
)


@dataclass(frozen=True)
class Delivery:
    """A verified delivery: its trigger, and the member it names (None for a body that names
    none, such as Patreon's "send test" of the creator's own account)."""

    trigger: str
    member_id: str | None
    member: Mapping[str, Any] | None  # the body's ``data``, as delivered


def is_member_id(value: object) -> bool:
    """Whether ``value`` can be a member id here: printable text, short enough for a key."""
    return isinstance(value, str) and 0 < len(value) <= MAX_MEMBER_ID_LENGTH and value.isprintable()


def parse_delivery(payload: str, trigger: str | None) -> Delivery:
    """The delivery in a signed body; NotAnEvent if it is not a JSON:API document."""
    trigger = (trigger or "").strip()
    if not trigger:
        raise NotAnEvent("missing X-Patreon-Event header")
    check_printable(trigger=trigger)
    if len(trigger) > 100:
        raise NotAnEvent("the X-Patreon-Event header is too long")
    body = decoded(payload)
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise NotAnEvent("the body has no data object")
    found = data.get("id")
    if data.get("type") != "member" or trigger not in MEMBER_TRIGGERS:
        return Delivery(trigger, None, data)
    if found is None:
        return Delivery(trigger, None, data)
    if not is_member_id(found):
        raise NotAnEvent("the member's id is not short printable text")
    return Delivery(trigger, found, data)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def email_of(member: Mapping[str, Any] | None) -> object:
    attributes = member.get("attributes") if isinstance(member, Mapping) else None
    return attributes.get("email") if isinstance(attributes, Mapping) else None


def member_event(
    *,
    member_id: str,
    trigger: str,
    fetched_at: datetime,
    fetched: Mapping[str, Any] | None,
    delivered: Mapping[str, Any] | None = None,
    error: str | None = None,
    identity_key: bytes | None = None,
) -> Event:
    """The Event for a member read back from the API at ``fetched_at``: ``fetched`` is the
    member resource (``data``), or None when Patreon does not know the member (404); with an
    ``error`` the read failed and the Event records only the delivery.

    The id is the member, the stamp and a digest of what was read, so every read is its own
    event (a member can return to an earlier state, and that read must still be newer than
    the one between); an exact copy (same member, same microsecond, same state) is a duplicate.
    """
    identity = fingerprint(email_of(fetched) or email_of(delivered), identity_key)
    body: dict[str, Any] = {
        "member_id": member_id,
        "trigger": trigger,
        "fetched_at": stamp(fetched_at),
        "found": fetched is not None and error is None,
        "member": None if fetched is None else scrub(fetched, PERSONAL_FIELDS),
        "delivered": None if delivered is None else scrub(delivered, PERSONAL_FIELDS),
        "error": error,
    }
    digest = _digest(body["member"], body["found"], error, identity)[:16]
    event_id = f"{member_id}@{stamp(fetched_at)}:{digest}"
    assert len(event_id) <= MAX_ID_LENGTH
    return Event(
        SOURCE,
        event_id,
        trigger,
        fetched_at,
        None,
        API_VERSION,
        body=body,
        payload=payload_of(body),
        identity=identity,
    )


def unhandled_event(delivery: Delivery, raw: bytes, received_at: datetime, why: str) -> Event:
    """The Event for a verified delivery that names no member of ours (a test send, an API v1
    pledge, another trigger): stored, so the webhook log shows it, and ignored. Its id is the
    digest of the trigger and bytes, so Patreon's repeats of it are duplicates."""
    event_id = "delivery:" + _digest(delivery.trigger, raw.decode("utf-8", "replace"))[:40]
    delivered = None if delivery.member is None else scrub(delivery.member, PERSONAL_FIELDS)
    body = {"trigger": delivery.trigger, "delivered": delivered, "ignored": why}
    return Event(
        SOURCE, event_id, delivery.trigger, received_at, None, API_VERSION,
        body=body, payload=payload_of(body),
    )  # fmt: skip

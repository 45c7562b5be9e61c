"""A PayPal delivery parsed once into the ledger's Event: envelope checked, personal data out.

No Flask, no database. What is not a PayPal event at all is refused here (``NotAnEvent``, so
400); everything else becomes one ``Event``.

When it happened. An event is ordered by its ``create_time``. PayPal's own Webhooks Simulator
sends impossible ones ("2018-19-12T22:20:32.000Z", month 19) in every subscription event, so
a ``create_time`` that is not a date falls back to the resource's ``update_time``, then its
``create_time`` (when the resource last changed is the moment the event reports). With none
of the three readable the delivery is refused as not an event: an event the ledger cannot
place in time cannot be applied in an order-independent way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ...ledger.identity import fingerprint
from ...ledger.store import Event, payload_of
from ..payloads import NotAnEvent, check_printable, decoded, event_id, scrub

SOURCE = "paypal"

# Field names that carry a person's details anywhere in PayPal's resources: subscribers'
# and payers' names, emails, phones, addresses and shipping, and free text a buyer writes.
PERSONAL_FIELDS = frozenset(
    {
        "name",
        "given_name",
        "surname",
        "full_name",
        "email_address",
        "email",
        "payer_email",
        "phone",
        "phone_number",
        "phone_type",
        "address",
        "shipping",
        "shipping_address",
        "shipping_info",
        "payer_info",
        "birth_date",
        "tax_info",
        "note_to_payer",
        "note",
        "custom",
        "custom_id",
        "description",
        "soft_descriptor",
        "payment_source",
    }
)


def event_time(value: object) -> datetime | None:
    """An RFC 3339 time as PayPal writes it (``Z`` or an offset, with or without
    milliseconds), in UTC; None if it is not one, or names no possible date."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # PayPal always says the zone; a bare time would be a guess
    return parsed.astimezone(UTC)


def _created(body: Mapping[str, Any], resource: Mapping[str, Any]) -> datetime:
    for value in (
        body.get("create_time"),
        resource.get("update_time"),
        resource.get("create_time"),
    ):
        when = event_time(value)
        if when is not None:
            return when
    raise NotAnEvent("the event has no readable create_time, nor its resource an update_time")


def email_of(resource: Mapping[str, Any]) -> object:
    """The email a resource names for its member: a subscription's subscriber, or a payer."""
    for holder in ("subscriber", "payer"):
        person = resource.get(holder)
        if isinstance(person, Mapping):
            email = person.get("email_address")
            if isinstance(person.get("payer_info"), Mapping):  # v1 payments
                email = email or person["payer_info"].get("email")
            if email:
                return email
    return None


def parse(
    delivered: str | Mapping[str, Any],
    *,
    livemode: bool | None = None,
    identity_key: bytes | None = None,
) -> Event:
    """The event in a delivered body (JSON text) or an already decoded one (PayPal's API).

    ``livemode`` is what the delivery's certificate URL says (live or sandbox host), or None
    when unknown; ``identity_key`` keys the fingerprint of the member's email, taken before the
    email is removed.
    """
    body = decoded(delivered)
    found_id = event_id(body)
    event_type = body.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise NotAnEvent("the event has no event_type")
    version = body.get("resource_version")
    if version is not None and not isinstance(version, str):
        raise NotAnEvent("the event's resource_version is not a string")
    check_printable(id=found_id, event_type=event_type, version=version)
    resource = body.get("resource")
    if not isinstance(resource, Mapping):
        raise NotAnEvent("the event has no resource")
    created = _created(body, resource)
    identity = fingerprint(email_of(resource), identity_key)
    scrubbed = scrub(body, PERSONAL_FIELDS)
    header = (SOURCE, found_id, event_type, created, livemode, version)
    return Event(*header, body=scrubbed, payload=payload_of(scrubbed), identity=identity)


def resource_of(event: Event) -> Mapping[str, Any]:
    """The resource an event is about; parse made sure there is one."""
    return event.body["resource"]

"""A Stripe delivery parsed once into the ledger's Event: envelope checked, personal data out.

No Flask, no database. What is not a Stripe event at all is refused here (``NotAnEvent``, so
400); everything else becomes one ``Event`` value that the store, the translation, replay,
recount and reconcile all take.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ...ledger.identity import fingerprint
from ...ledger.store import Event, payload_of
from ..payloads import NotAnEvent, check_printable, decoded, event_id, scrub

SOURCE = "stripe"

# Field names that carry a person's details anywhere in Stripe's objects.
PERSONAL_FIELDS = frozenset(
    {
        "address",
        "billing_details",
        "customer_address",
        "customer_details",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_shipping",
        "customer_tax_ids",
        "description",
        "email",
        "individual",
        "ip_address",
        "name",
        "phone",
        "receipt_email",
        "shipping",
        "shipping_details",
        "collected_information",
        "custom_fields",
    }
)
# Free-form objects kept only as "which keys were set" (payloads.scrub): a campaign may define
# its memberships by a checkout's metadata key, but the values may name the reader.
KEYS_ONLY = frozenset({"metadata"})


def scrubbed(body: Mapping[str, Any]) -> Any:
    """A Stripe object or event with personal data removed, as it is stored."""
    return scrub(body, PERSONAL_FIELDS, KEYS_ONLY)


def parse(delivered: str | Mapping[str, Any], identity_key: bytes | None = None) -> Event:
    """The event in a delivered body (JSON text) or an already decoded one (Stripe's API).

    With an identity key, the email the event names (a checkout's customer details, a
    customer's own, an invoice's) becomes the event's identity fingerprint before personal
    data is removed; the email itself is never kept.
    """
    body = decoded(delivered)
    found_id = event_id(body)
    event_type = body.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise NotAnEvent("the event has no type")
    created = body.get("created")
    # bool is an int in Python; a JSON true is not a timestamp.
    if not isinstance(created, int) or isinstance(created, bool) or created <= 0:
        raise NotAnEvent("the event has no created timestamp")
    try:
        created_at = datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError):
        raise NotAnEvent("the event's created timestamp is out of range") from None
    livemode = body.get("livemode", False)
    if not isinstance(livemode, bool):
        raise NotAnEvent("the event's livemode is not true or false")
    api_version = body.get("api_version")
    if api_version is not None and not isinstance(api_version, str):
        raise NotAnEvent("the event's api_version is not a string")
    check_printable(id=found_id, type=event_type, api_version=api_version)
    data = body.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get("object"), Mapping):
        raise NotAnEvent("the event has no data object")
    clean = scrubbed(body)
    header = (SOURCE, found_id, event_type, created_at, livemode, api_version)
    identity = fingerprint(email_of(data["object"]), identity_key)
    return Event(*header, body=clean, payload=payload_of(clean), identity=identity)


def email_of(obj: Mapping[str, Any]) -> str | None:
    """The reader's email in an object, where Stripe puts one: a checkout session's
    ``customer_details.email`` (or ``customer_email``), a customer's ``email``, an invoice's
    ``customer_email``."""
    details = obj.get("customer_details")
    if isinstance(details, Mapping) and isinstance(details.get("email"), str):
        return details["email"]
    if isinstance(obj.get("customer_email"), str):
        return obj["customer_email"]
    if obj.get("object") == "customer" and isinstance(obj.get("email"), str):
        return obj["email"]
    return None


def data_object(event: Event) -> Mapping[str, Any]:
    """The object an event is about (``data.object``); parse made sure there is one."""
    return event.body["data"]["object"]

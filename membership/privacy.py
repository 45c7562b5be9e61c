"""Personal data in Stripe payloads: removed before anything is stored. No Flask here.

The ledger needs ids, statuses, modes and times. Names, emails, phone numbers, addresses and
free text about a person are never needed, so they are dropped from the stored copy of every
event (the signature was already checked against the bytes as received).
"""

from __future__ import annotations

from typing import Any

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
        "metadata",
    }
)
REMOVED = "[removed]"


def scrub(value: Any) -> Any:
    """A copy of ``value`` with every personal field's content replaced."""
    if isinstance(value, dict):
        return {
            key: (REMOVED if key in PERSONAL_FIELDS and item not in (None, {}, []) else scrub(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value

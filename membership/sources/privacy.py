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
    """A copy of ``value`` with every personal field's content replaced.

    It walks with a list of pending items instead of recursing, so no depth of nesting can
    exhaust Python's recursion limit (the webhook refuses bodies nested deeper than
    ``stripe_events.MAX_DEPTH``, but the scrub does not rely on it).
    """
    top: list[Any] = [None]
    # Each pending item: (original value, the copy's container, its key or index there).
    pending: list[tuple[Any, Any, Any]] = [(value, top, 0)]
    while pending:
        item, container, place = pending.pop()
        if isinstance(item, dict):
            copy: dict[str, Any] = {}
            for key, inner in item.items():
                if key in PERSONAL_FIELDS and inner not in (None, {}, []):
                    copy[key] = REMOVED
                else:
                    copy[key] = None  # filled in when popped; set now to keep the key order
                    pending.append((inner, copy, key))
            container[place] = copy
        elif isinstance(item, list):
            copied: list[Any] = [None] * len(item)
            pending.extend((inner, copied, index) for index, inner in enumerate(item))
            container[place] = copied
        else:
            container[place] = item
    return top[0]

"""What a Stripe object says was bought: its prices, products, payment link and metadata keys.

Pure reading, no I/O. Campaigns choose which of these offers are memberships (see
docs/sources.md). An offer the object does not carry, or carries in a shape this code does not
know, is simply absent: offers narrow what a campaign counts, they never make an event fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...ledger.offers import MAX_LENGTH, offer


def subscription(obj: Mapping[str, Any]) -> frozenset[str]:
    """A subscription's prices and products (``items``, or the legacy single ``plan``)."""
    return frozenset(_priced(_items(obj, "items")) | _priced([obj]))


def invoice(obj: Mapping[str, Any]) -> frozenset[str]:
    """An invoice's prices and products, from its lines in either shape Stripe has used: a
    line's ``price`` (before 2025-03-31) or its ``pricing.price_details`` (basil and later)."""
    lines = _items(obj, "lines")
    details = [
        line["pricing"]["price_details"]
        for line in lines
        if isinstance(line.get("pricing"), Mapping)
        and isinstance(line["pricing"].get("price_details"), Mapping)
    ]
    found = _priced(lines)
    for detail in details:
        found |= _ids("price", detail.get("price")) | _ids("product", detail.get("product"))
    return frozenset(found)


def checkout(obj: Mapping[str, Any]) -> frozenset[str]:
    """A checkout session's payment link and the metadata keys it sets.

    Stored payloads keep only whether each metadata key was set (envelope.py), never its value.
    """
    found = _ids("payment_link", obj.get("payment_link"))
    metadata = obj.get("metadata")
    if isinstance(metadata, Mapping):
        found |= {offer("metadata", k) for k, v in metadata.items() if v is True and _fits(k)}
    return frozenset(found)


def _items(obj: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    """The objects of a list field (``{"object": "list", "data": [...]}``)."""
    listed = obj.get(field)
    data = listed.get("data") if isinstance(listed, Mapping) else None
    return [item for item in data if isinstance(item, Mapping)] if isinstance(data, list) else []


def _priced(items: list[Mapping[str, Any]]) -> set[str]:
    found: set[str] = set()
    for item in items:
        for field in ("price", "plan"):  # a plan is the older name of a price; same ids
            price = item.get(field)
            found |= _ids("price", price)
            if isinstance(price, Mapping):
                found |= _ids("product", price.get("product"))
    return found


def _ids(kind: str, value: Any) -> set[str]:
    """The offer of an id field, sent as a string or, expanded, as an object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return {offer(kind, value)} if isinstance(value, str) and _fits(value) else set()


def _fits(value: str) -> bool:
    return 0 < len(value) <= MAX_LENGTH - len("payment_link:") and value.isprintable()

"""Reading a delivered body safely, and removing personal data before anything is stored.

Shared by every source; no Flask here. The ledger needs ids, statuses, modes and times. Names,
emails, phone numbers, addresses and free text about a person are never needed, so each source
names the fields that carry them and they are dropped from the stored copy of every event (the
signature was already checked against the bytes as received).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# Providers' objects nest about ten levels, envelope included (Stripe's fixtures: at most 9
# in the object). A body nested deeper than this is not an event; refusing it before parsing
# keeps every walk over a payload (json, the privacy scrub, the admin's view) far from
# Python's recursion limit.
MAX_DEPTH = 64

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


# The width of the event id column; providers' ids are about 30 long.
MAX_ID_LENGTH = 255


class NotAnEvent(ValueError):
    """The delivery is not an event at all: refused with 400, never stored."""


def nesting_depth(text: str) -> int:
    """How deep JSON text nests arrays and objects, read without parsing it (so without
    recursion); brackets inside strings do not count."""
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for bracket in brackets:
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def decoded(delivered: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """A delivered body (JSON text) or an already decoded one (a provider's API), as a JSON
    object; NotAnEvent if it is not one or nests too deep."""
    if isinstance(delivered, str):
        body = load(delivered)
    else:
        check_depth(delivered)
        body = delivered
    if not isinstance(body, Mapping):
        raise NotAnEvent("the body is not a JSON object")
    return body


def event_id(body: Mapping[str, Any]) -> str:
    """The event's ``id``: a string of at most MAX_ID_LENGTH characters."""
    found = body.get("id")
    if not isinstance(found, str) or not found.strip():
        raise NotAnEvent("the event has no id")
    if len(found) > MAX_ID_LENGTH:
        raise NotAnEvent(f"the event id is longer than {MAX_ID_LENGTH} characters")
    return found


def check_printable(**fields: str | None) -> None:
    """Refuse envelope strings no database can store as they are: a NUL (which PostgreSQL
    text cannot hold), a lone surrogate (which no driver can encode) or a control character,
    which no provider puts in an id or a type name."""
    for field, value in fields.items():
        if value is not None and not value.isprintable():
            raise NotAnEvent(f"the event's {field} is not printable text")


def check_depth(value: Any) -> None:
    """NotAnEvent if an already decoded body (from a provider's API) nests too deep; walked
    without recursion, like the scrub."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise NotAnEvent(f"the body is nested too deep (more than {MAX_DEPTH} levels)")
            inner = item.values() if isinstance(item, dict) else item
            pending.extend((each, depth + 1) for each in inner)


def load(payload: str) -> Any:
    """The JSON of a delivered body; NotAnEvent if it is not JSON or nests too deep."""
    if nesting_depth(payload) > MAX_DEPTH:
        raise NotAnEvent(f"the body is nested too deep (more than {MAX_DEPTH} levels)")
    try:
        return json.loads(payload)
    except json.JSONDecodeError:
        raise NotAnEvent("body is not JSON") from None
    except ValueError:  # an integer of more than 4,300 digits, which Python will not convert
        raise NotAnEvent("the body holds a number too long to read") from None


REMOVED = "[removed]"
# Values that say "not set" in a free-form field (metadata values are strings).
UNSET = frozenset({"", "false", "0", "no", "off"})


def is_set(value: Any) -> bool:
    """True for ``true`` and for a string other than an empty or "false"-like one."""
    return value is True or (isinstance(value, str) and value.strip().lower() not in UNSET)


def scrub(value: Any, personal: frozenset[str], keys_only: frozenset[str] = frozenset()) -> Any:
    """A copy of ``value`` with the content of every field named in ``personal`` replaced, and
    every object named in ``keys_only`` reduced to its keys, each mapped to whether it was set
    (``is_set``): free-form fields such as Stripe's ``metadata`` may hold anything, but which
    keys a checkout set is what a campaign's membership definition needs.

    It walks with a list of pending items instead of recursing, so no depth of nesting can
    exhaust Python's recursion limit (the webhook refuses bodies nested deeper than
    ``MAX_DEPTH``, but the scrub does not rely on it).
    """
    top: list[Any] = [None]
    # Each pending item: (original value, the copy's container, its key or index there).
    pending: list[tuple[Any, Any, Any]] = [(value, top, 0)]
    while pending:
        item, container, place = pending.pop()
        if isinstance(item, dict):
            copy: dict[str, Any] = {}
            for key, inner in item.items():
                if key in personal and inner not in (None, {}, []):
                    copy[key] = REMOVED
                elif key in keys_only and isinstance(inner, dict):
                    copy[key] = {k: is_set(v) for k, v in inner.items()}
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

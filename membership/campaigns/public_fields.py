"""The public progress JSON's fields, in order, each with its JSON Schema: written once here.

Progress.public() takes its keys from this list and the OpenAPI document its schema, so the
JSON served and the JSON documented cannot drift apart. Add a field here, on Progress (an
attribute of the same name) and nowhere else.
"""

from __future__ import annotations

from typing import Any

from .settings import SLUG
from .windows import Status

# A campaign's display copy in one other language.
COPY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["headline", "message", "cta_label"],
    "properties": {k: {"type": "string"} for k in ("headline", "message", "cta_label")},
}
# The UI words of one language, from membership/i18n.py: the widget has no copy of its own.
WORDS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["of", "label", "members", "reached", "ended"],
    "properties": {
        "of": {"type": "string", "description": 'Between count and goal: "12,345 out of 25,000".'},
        "label": {"type": "string", "description": "The bar's name if the campaign has no title."},
        "members": {
            "type": "object",
            "required": ["other"],
            "additionalProperties": {"type": "string"},
            "description": "The word for members, by Intl.PluralRules category.",
        },
        "reached": {"type": "string", "description": "The message once the goal is reached."},
        "ended": {"type": "string", "description": "The message once the drive has ended."},
    },
}

# (name, JSON Schema), in the order the JSON carries them: the order is part of the contract.
FIELDS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("slug", {"type": "string", "pattern": SLUG.pattern}),
    ("title", {"type": "string"}),
    ("count", {"type": "integer", "minimum": 0}),
    ("goal", {"type": "integer", "minimum": 1}),
    ("percent", {"type": "number", "minimum": 0, "description": "One decimal, not capped."}),
    ("remaining", {"type": "integer", "minimum": 0}),
    ("status", {"type": "string", "enum": [status.value for status in Status]}),
    ("starts_at", {"type": ["string", "null"], "format": "date"}),
    (
        "deadline",
        {
            "type": ["string", "null"],
            "format": "date",
            "description": "The last day of the campaign, included (UTC).",
        },
    ),
    ("updated_at", {"type": "string", "format": "date-time"}),
    ("headline", {"type": "string"}),
    ("message", {"type": "string"}),
    ("cta_label", {"type": "string"}),
    ("cta_url", {"type": "string"}),
    ("locale", {"type": "string"}),
    ("translations", {"type": "object", "additionalProperties": COPY}),
    (
        "words",
        {
            "type": "object",
            "required": ["en"],
            "additionalProperties": WORDS,
            "description": "The widget's UI words by language; the widget picks among these keys.",
        },
    ),
    (
        "stale",
        {
            "type": "boolean",
            "description": "True while the database is unreachable: the last good figures.",
        },
    ),
)
NAMES: tuple[str, ...] = tuple(name for name, _ in FIELDS)

"""The public progress JSON's fields, in order, each with its JSON Schema: written once here.

Progress.public() takes its keys from this list and the OpenAPI document its schema, so the
JSON served and the JSON documented cannot drift apart. Add a field here, on Progress (an
attribute of the same name) and nowhere else.
"""

from __future__ import annotations

from typing import Any

from .validation import SLUG
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
    "required": ["of", "label", "members", "reached", "ended", "next", "past"],
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
        "next": {
            "type": "string",
            "description": (
                "The message once a goal is reached and a stretch goal is the target: "
                '{reached} is the goal just reached, {goal} the new one ("Goal of {reached} '
                'reached! Next: {goal}").'
            ),
        },
        "past": {
            "type": "string",
            "description": (
                "The message once the count is past the last goal: {extra} is by how many "
                '("{extra} past the goal").'
            ),
        },
    },
}
# One goal of the campaign: the first, or a stretch goal after it.
GOAL = {
    "type": "object",
    "additionalProperties": False,
    "required": ["goal", "reached_at"],
    "properties": {
        "goal": {"type": "integer", "minimum": 1},
        "reached_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "When the count was first seen to reach this goal; null until then. "
            "It stays set if the count later dips below the goal.",
        },
    },
}

# (name, JSON Schema), in the order the JSON carries them: the order is part of the contract.
FIELDS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("slug", {"type": "string", "pattern": SLUG.pattern, "description": "The campaign's id."}),
    ("title", {"type": "string", "description": "The campaign's name, the bar's label."}),
    (
        "count",
        {
            "type": "integer",
            "minimum": 0,
            "description": "Members now, by the campaign's rule, plus its baseline and "
            "manual adjustments.",
        },
    ),
    (
        "goal",
        {
            "type": "integer",
            "minimum": 1,
            "description": "The goal the count is heading for: the first goal, then, once it "
            "is reached, the next stretch goal; the last goal once all are reached.",
        },
    ),
    (
        "goals",
        {
            "type": "array",
            "minItems": 1,
            "items": GOAL,
            "description": "Every goal in order, the first and each stretch goal (going up), "
            "with when each was reached. A goal reached stays reached: `goal` is the first "
            "one not reached yet.",
        },
    ),
    (
        "percent",
        {
            "type": "number",
            "minimum": 0,
            "description": "The count as a percentage of `goal`, one decimal, not capped "
            "(104.0 past the last goal).",
        },
    ),
    (
        "remaining",
        {
            "type": "integer",
            "minimum": 0,
            "description": "Members still needed to reach `goal`; 0 once it is met.",
        },
    ),
    (
        "status",
        {
            "type": "string",
            "enum": [status.value for status in Status],
            "description": "`upcoming` before the start; `reached` once the count meets "
            "`goal` (so, with stretch goals, only the last); else `ended` after the deadline; "
            "else `active`.",
        },
    ),
    (
        "starts_at",
        {
            "type": ["string", "null"],
            "format": "date",
            "description": "The first day of the campaign (UTC); null for no start.",
        },
    ),
    (
        "deadline",
        {
            "type": ["string", "null"],
            "format": "date",
            "description": "The last day of the campaign, included (UTC).",
        },
    ),
    (
        "updated_at",
        {
            "type": "string",
            "format": "date-time",
            "description": "When anything these figures come from last changed (a member, a "
            "setting, an adjustment, a goal reached); it stays put between changes.",
        },
    ),
    ("headline", {"type": "string", "description": "The campaign's headline."}),
    ("message", {"type": "string", "description": "The campaign's message; may hold lines."}),
    ("cta_label", {"type": "string", "description": "The call-to-action button's words."}),
    (
        "cta_url",
        {
            "type": "string",
            "description": "The call-to-action link (http or https), or empty for no button.",
        },
    ),
    ("locale", {"type": "string", "description": "The language of the copy above."}),
    (
        "translations",
        {
            "type": "object",
            "additionalProperties": COPY,
            "description": "The copy in other languages, by language tag.",
        },
    ),
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

"""The OpenAPI document of the public API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

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
PROGRESS = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "slug",
        "title",
        "count",
        "goal",
        "percent",
        "remaining",
        "status",
        "starts_at",
        "deadline",
        "updated_at",
        "headline",
        "message",
        "cta_label",
        "cta_url",
        "locale",
        "translations",
        "words",
        "stale",
    ],
    "properties": {
        "slug": {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"},
        "title": {"type": "string"},
        "count": {"type": "integer", "minimum": 0},
        "goal": {"type": "integer", "minimum": 1},
        "percent": {"type": "number", "minimum": 0, "description": "One decimal, not capped."},
        "remaining": {"type": "integer", "minimum": 0},
        "status": {"type": "string", "enum": ["upcoming", "active", "reached", "ended"]},
        "starts_at": {"type": ["string", "null"], "format": "date"},
        "deadline": {
            "type": ["string", "null"],
            "format": "date",
            "description": "The last day of the campaign, included (UTC).",
        },
        "updated_at": {"type": "string", "format": "date-time"},
        "headline": {"type": "string"},
        "message": {"type": "string"},
        "cta_label": {"type": "string"},
        "cta_url": {"type": "string"},
        "locale": {"type": "string"},
        "translations": {"type": "object", "additionalProperties": COPY},
        "words": {
            "type": "object",
            "required": ["en"],
            "additionalProperties": WORDS,
            "description": "The widget's UI words by language; the widget picks among these keys.",
        },
        "stale": {
            "type": "boolean",
            "description": "True while the database is unreachable: the last good figures.",
        },
    },
}
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}
SLUG_PARAMETER = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Membership progress",
            "version": "1",
            "description": "Public, cacheable progress of membership drives. No personal data.",
        },
        "paths": {
            "/api/campaigns/{slug}": {
                "get": {
                    "operationId": "getProgress",
                    "summary": "A campaign's count toward its goal",
                    "parameters": [SLUG_PARAMETER],
                    "responses": {
                        "200": _json(PROGRESS, "The figures, with a strong ETag."),
                        "304": {"description": "Not modified (If-None-Match matched)."},
                        "404": _json(ERROR, "No such campaign."),
                        "503": _json(ERROR, "Database unreachable and no figures kept."),
                    },
                }
            },
            "/api/campaigns/{slug}/badge.svg": {
                "get": {
                    "operationId": "getBadge",
                    "summary": "The bar and numbers as an SVG image",
                    "parameters": [
                        SLUG_PARAMETER,
                        {
                            "name": "lang",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {"description": "SVG", "content": {"image/svg+xml": {}}},
                        "304": {"description": "Not modified."},
                        "404": {"description": "No such campaign."},
                        "503": {"description": "Database unreachable."},
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "responses": {"200": _json(ERROR | {"required": []}, "The process serves.")},
                }
            },
        },
    }

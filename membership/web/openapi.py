"""The OpenAPI document of the public API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from ..campaigns import public_fields

# The progress JSON: its fields, their order and their schemas are public_fields.FIELDS.
PROGRESS = {
    "type": "object",
    "additionalProperties": False,
    "required": list(public_fields.NAMES),
    "properties": dict(public_fields.FIELDS),
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

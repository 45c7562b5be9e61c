"""The OpenAPI document of the public API and the membership API, at /api/openapi.json."""

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


# The membership API (api_sources.py): what another system PUTs, and what it is answered.
TIME = {"type": "string", "format": "date-time", "examples": ["2026-03-01T09:30:00Z"]}
MEMBERSHIP_PUT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["status", "started_at", "updated_at"],
    "anyOf": [{"required": ["email"]}, {"required": ["member"]}],
    "properties": {
        "email": {
            "type": "string",
            "format": "email",
            "maxLength": 320,
            "description": "Links the member to the same reader in other sources, by its "
            "keyed fingerprint; never stored.",
        },
        "member": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "description": "Your own key for the person; without it the membership is its "
            "own member.",
        },
        "status": {"type": "string", "enum": ["active", "lapsed"]},
        "started_at": TIME,
        "ends_at": TIME | {"type": ["string", "null"], "description": "After started_at."},
        "updated_at": TIME
        | {
            "description": "When your system last changed the membership: the newest wins; at "
            "the same time active wins over lapsed, then the larger event id."
        },
    },
}
MEMBERSHIP_STATE = {
    "type": ["object", "null"],
    "required": ["status", "started_at", "ends_at", "updated_at", "counted_now"],
    "properties": {
        "status": {"type": "string", "enum": ["active", "lapsed", "pending"]},
        "started_at": {"type": ["string", "null"]},
        "ends_at": {"type": ["string", "null"]},
        "updated_at": {"type": ["string", "null"]},
        "counted_now": {"type": "boolean"},
    },
}
MEMBERSHIP_ANSWER = {
    "type": "object",
    "required": ["membership", "event_id", "outcome", "detail", "state"],
    "properties": {
        "membership": {"type": "string"},
        "event_id": {"type": "string"},
        "outcome": {"type": "string", "enum": ["applied", "ignored", "duplicate", "failed"]},
        "detail": {"type": "string"},
        "state": MEMBERSHIP_STATE,
        "error": {"type": "string"},
    },
}
FIELD_ERROR = {
    "type": "object",
    "required": ["error", "field"],
    "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
}
PATH_STRING = {"type": "string", "minLength": 1}
MEMBERSHIP_PATH = {
    "put": {
        "operationId": "putMembership",
        "summary": "Another system's membership, as it is now (idempotent)",
        "security": [{"sourceToken": []}],
        "parameters": [
            {"name": "source", "in": "path", "required": True, "schema": PATH_STRING},
            {"name": "external_id", "in": "path", "required": True, "schema": PATH_STRING},
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": MEMBERSHIP_PUT}},
        },
        "responses": {
            "200": _json(MEMBERSHIP_ANSWER, "Stored (or already stored): the membership now."),
            "400": _json(ERROR, "The body is not JSON."),
            "401": _json(ERROR, "No live bearer token (see WWW-Authenticate)."),
            "403": _json(ERROR, "A token of another source."),
            "404": _json(ERROR, "No such source: no token was ever made for it."),
            "405": _json(ERROR, "Only PUT."),
            "409": _json(FIELD_ERROR, "The membership is another member's."),
            "413": _json(ERROR, "The body is over 1 MiB."),
            "415": _json(ERROR, "The body is not application/json."),
            "422": _json(FIELD_ERROR, "A field is wrong; `field` names it."),
            "429": _json(ERROR, "Over the rate limit; retry later."),
            "500": _json(MEMBERSHIP_ANSWER, "Stored as failed; it will be replayed."),
            "503": _json(ERROR, "Could not be stored now; nothing was written: retry."),
        },
    }
}


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
            "/api/sources/{source}/memberships/{external_id}": MEMBERSHIP_PATH,
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "responses": {"200": _json(ERROR | {"required": []}, "The process serves.")},
                }
            },
        },
        "components": {
            "securitySchemes": {
                "sourceToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A source's token: flask sources token create NAME.",
                }
            }
        },
    }

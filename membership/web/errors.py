"""JSON errors for the machine-facing routes (API and webhooks), HTML elsewhere."""

from __future__ import annotations

from flask import Flask, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

JSON_PREFIXES = ("/api/", "/webhooks/")


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        if not request.path.startswith(JSON_PREFIXES):
            return exc
        response = exc.get_response()
        response.data = app.json.dumps({"error": exc.description or exc.name})
        response.content_type = "application/json"
        return response

"""GET /healthz (the process serves) and GET /readyz (the database answers)."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from ..database import db
from ..ledger import health

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok"), 200, {"Cache-Control": "no-store"}


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    problem = health.database_problem(db.session)
    if problem is not None:
        log.warning("readyz: database unreachable: %s", problem)
        return (
            jsonify(status="unavailable", database="unreachable"),
            503,
            {"Cache-Control": "no-store"},
        )
    return jsonify(status="ok", database="ok"), 200, {"Cache-Control": "no-store"}

"""GET /admin/audit: who did what, newest first."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from ...accounts import audit as audit_entries
from ...database import db
from . import bp
from .views_common import page_number


@bp.get("/audit")
def audit() -> ResponseReturnValue:
    found = audit_entries.page(db.session, page_number())
    return render_template(
        "admin/audit.html", entries=found.entries, page=found.number, has_next=found.has_next
    )

"""GET /admin/audit: who did what, newest first."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ...database import db
from ...models import AuditEntry
from . import bp
from .views_common import page_number

PER_PAGE = 100


@bp.get("/audit")
def audit() -> ResponseReturnValue:
    page = page_number()
    rows = list(
        db.session.scalars(
            select(AuditEntry)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE + 1)
        )
    )
    return render_template(
        "admin/audit.html", entries=rows[:PER_PAGE], page=page, has_next=len(rows) > PER_PAGE
    )

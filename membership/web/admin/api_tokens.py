"""GET/POST /admin/sources/tokens: the membership API's bearer tokens, made, listed, revoked.

A new token is shown on the page that answers its POST, once: never redirected through a
flashed message, which would carry it in the session cookie.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...database import db
from ...sources.api import tokens, translate
from . import audit_log, bp


def _render(status: int = 200, **shown: object) -> ResponseReturnValue:
    return (
        render_template(
            "admin/api_tokens.html",
            tokens=tokens.listed(db.session),
            new_token=shown.get("new_token"),
            new_source=shown.get("new_source"),
            name=shown.get("name", ""),
            error=shown.get("error"),
        ),
        status,
    )


@bp.get("/sources/tokens")
def api_tokens() -> ResponseReturnValue:
    return _render()


@bp.post("/sources/tokens")
def create_api_token() -> ResponseReturnValue:
    name = request.form.get("source", "")
    try:
        source = translate.source_of(name)
    except translate.BadSourceName as exc:
        return _render(422, name=name, error=str(exc))
    _row, token = tokens.create(db.session, source, audit_log.current_actor())
    return _render(201, new_token=token, new_source=source)


@bp.post("/sources/tokens/revoke")
def revoke_api_token() -> ResponseReturnValue:
    raw = request.form.get("token", "")
    row = tokens.revoke(db.session, int(raw), audit_log.current_actor()) if raw.isdigit() else None
    if row is None:
        flash("No such token.", "error")
    else:
        flash(f"Revoked token {row.id} ({row.hint}…) of {row.source}.", "success")
    return redirect(url_for("admin.api_tokens"))

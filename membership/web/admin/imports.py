"""GET/POST /admin/imports: upload a CSV of members, see what it would change, apply or undo.

An upload is a dry run: the file waits in the instance folder, named by its SHA-256, until
the confirm button applies it (planned again then, against the ledger as it is by that
time). Uploads may be larger than the app-wide MAX_CONTENT_LENGTH, on these routes only and
only for a logged-in admin: the body is read after the login check.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...database import db
from ...sources.imports import runner
from ...sources.imports.translate import BadSourceName
from . import audit_log, bp

UPLOAD_LIMIT = 32 * 1024 * 1024  # a 100,000-row file is about 10 MB
SHA256 = re.compile(r"[0-9a-f]{64}")


@bp.url_value_preprocessor
def _larger_uploads(endpoint: str | None, _values: object) -> None:
    # Runs before the blueprint's before_request (the login and CSRF checks, which read the
    # form), so the larger limit is in force when the body is parsed.
    if endpoint == "admin.upload_import":
        request.max_content_length = current_app.config.get("IMPORT_MAX_BYTES", UPLOAD_LIMIT)


def _waiting(sha256: str) -> Path:
    # The instance folder, not /tmp: another local user cannot plant a file or link there.
    folder = Path(current_app.config.get("IMPORT_UPLOAD_DIR") or current_app.instance_path)
    folder = folder / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder / f"{sha256}.csv"


def _options() -> dict[str, bool]:
    return {
        "full": request.form.get("full") == "on",
        "skip_invalid": request.form.get("skip_invalid") == "on",
    }


def _page(plan: runner.Plan | None = None, error: str = "", status: int = 200):
    return (
        render_template(
            "admin/imports.html",
            plan=plan,
            error=error,
            shown=runner.SHOWN,
            imports=runner.recent(db.session),
            form=request.form,
        ),
        status,
    )


@bp.get("/imports")
def imports() -> ResponseReturnValue:
    return _page()


@bp.post("/imports")
def upload_import() -> ResponseReturnValue:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(error="Choose a CSV file.", status=422)
    data = upload.read()
    try:
        plan = runner.plan(
            db.session,
            request.form.get("source", ""),
            Path(upload.filename).name,
            data,
            runner.Settings.from_config(current_app.config),
            **_options(),
        )
    except BadSourceName as exc:
        return _page(error=str(exc), status=422)
    if not plan.refused:
        _waiting(plan.sha256).write_bytes(data)
    return _page(plan, status=422 if plan.refused else 200)


@bp.post("/imports/apply")
def apply_import() -> ResponseReturnValue:
    sha256 = request.form.get("sha256", "")
    path = _waiting(sha256) if SHA256.fullmatch(sha256) else None
    if path is None or not path.exists():
        return _page(error="That upload is no longer waiting: upload the file again.", status=422)
    settings = runner.Settings.from_config(current_app.config)
    try:
        plan = runner.plan(
            db.session,
            request.form.get("source", ""),
            request.form.get("file_name", "upload.csv")[:200],
            path.read_bytes(),
            settings,
            **_options(),
        )
    except BadSourceName as exc:
        return _page(error=str(exc), status=422)
    if plan.refused:
        return _page(plan, status=422)
    recorded = runner.apply(db.session, plan, settings, audit_log.current_actor())
    path.unlink(missing_ok=True)
    flash(
        f"Imported {plan.file_name} into {plan.source}: {recorded.applied:,} change(s) "
        f"({len(plan.new):,} new, {len(plan.changed):,} changed, {len(plan.lapsed):,} lapsed).",
        "success",
    )
    return redirect(url_for("admin.imports"))


@bp.post("/imports/undo")
def undo_import() -> ResponseReturnValue:
    try:
        undone = runner.undo_import(
            db.session,
            request.form.get("source", ""),
            request.form.get("sha256", ""),
            runner.Settings.from_config(current_app.config),
            audit_log.current_actor(),
        )
    except (BadSourceName, runner.NothingToUndo) as exc:
        return _page(error=str(exc), status=422)
    flash(
        f"Undid import {undone.import_id} of {undone.source}: {undone.events:,} event(s) "
        f"deleted, {undone.memberships:,} membership(s) rebuilt.",
        "success",
    )
    return redirect(url_for("admin.imports"))

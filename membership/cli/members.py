"""`flask members import|import-undo|forget`: memberships from a CSV file, taking an import
back, and a reader's erasure request."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..accounts import audit
from ..database import db
from ..ledger import persons
from ..ledger.identity import fingerprint
from ..models import utcnow
from ..sources.imports import runner
from ..sources.imports.translate import BadSourceName

members_cli = AppGroup("members", help="Members from other places (CSV imports); erasure.")


def show(plan: runner.Plan, echo=click.echo) -> None:  # noqa: ANN001 - click.echo's shape
    """What an import would change: the counts, then the first few of each kind."""
    echo(f"{plan.file_name} (sha256 {plan.sha256}) into {plan.source}: {plan.rows:,} rows")
    for problem in plan.problems[:50]:
        echo(f"  invalid: {problem}")
    if len(plan.problems) > 50:
        echo(f"  … and {len(plan.problems) - 50:,} more problems")
    for label, ids in (
        ("new", plan.new),
        ("changed", plan.changed),
        ("unchanged", plan.unchanged),
        ("lapsed", plan.lapsed),
    ):
        shown = ", ".join(ids[: runner.SHOWN]) + (", …" if len(ids) > runner.SHOWN else "")
        echo(f"  {label}: {len(ids):,}" + (f" ({shown})" if ids else ""))


@members_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "name", required=True, help="The source's name, e.g. bank (csv-bank).")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--full", is_flag=True, help="Lapse this source's memberships missing from FILE.")
@click.option("--skip-invalid", is_flag=True, help="Apply the valid rows even if some are not.")
def import_command(file: Path, name: str, dry_run: bool, full: bool, skip_invalid: bool) -> None:
    """Import memberships from FILE.csv (columns: external_id, started_at, and optionally
    email, ends_at, status, kind) as the source csv-NAME."""
    found = runner.Settings.from_config(current_app.config)
    try:
        plan = runner.plan(
            db.session,
            name,
            file.name,
            file.read_bytes(),
            found,
            full=full,
            skip_invalid=skip_invalid,
        )
    except BadSourceName as exc:
        raise click.BadParameter(str(exc), param_hint="--source") from None
    show(plan)
    if plan.refused:
        raise click.ClickException(f"Nothing imported: {plan.refused}.")
    if dry_run:
        click.echo("Dry run: nothing written.")
        return
    recorded = runner.apply(db.session, plan, found, audit.CLI)
    click.echo(
        f"Imported: {recorded.applied:,} event(s) applied. "
        f"Undo with: flask members import-undo {plan.sha256[:16]} --source {name}"
    )


@members_cli.command("import-undo")
@click.argument("sha256")
@click.option("--source", "name", required=True, help="The source the file was imported into.")
def import_undo_command(sha256: str, name: str) -> None:
    """Undo the latest import of the file with this SHA-256 (16 or more hex digits)."""
    try:
        undone = runner.undo_import(
            db.session, name, sha256, runner.Settings.from_config(current_app.config), audit.CLI
        )
    except BadSourceName as exc:
        raise click.BadParameter(str(exc), param_hint="--source") from None
    except runner.NothingToUndo as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Undid import {undone.import_id} of {undone.source}: {undone.events:,} event(s) "
        f"deleted, {undone.memberships:,} membership(s) rebuilt."
    )


@members_cli.command("forget")
@click.argument("email")
def forget_command(email: str) -> None:
    """Forget EMAIL's fingerprint everywhere (a reader's erasure request).

    Their accounts are counted apart from then on; the email itself was never stored.
    """
    found = fingerprint(email, current_app.config["IDENTITY_KEY"])
    if found is None:
        raise click.UsageError("give an email address, with IDENTITY_KEY set")
    events, members = persons.forget(db.session, found, utcnow())
    audit.record(db.session, audit.CLI, audit.IDENTITY_FORGOTTEN, f"{members} member(s)")
    if not events and not members:
        click.echo("No stored event or member carried that address's fingerprint.")
        return
    click.echo(
        f"Forgot the fingerprint: cleared from {events:,} stored event(s) and {members:,} "
        "member(s); their accounts are now counted apart."
    )

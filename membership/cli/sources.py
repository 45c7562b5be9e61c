"""`flask sources token create|list|revoke`: the membership API's bearer tokens."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..accounts import audit
from ..database import db
from ..sources.api import tokens, translate

sources_cli = AppGroup("sources", help="The membership API's sources and their tokens.")
token_cli = AppGroup("token", help="Make, list and revoke a source's bearer tokens.")
sources_cli.add_command(token_cli)


@token_cli.command("create")
@click.argument("source")
def create_command(source: str) -> None:
    """Make a token for SOURCE (crm or api-crm); it is printed once, never again."""
    try:
        name = translate.source_of(source)
    except translate.BadSourceName as exc:
        raise click.BadParameter(str(exc), param_hint="SOURCE") from None
    row, token = tokens.create(db.session, name, audit.CLI)
    click.echo(f"Token {row.id} for {name} (shown once; keep it in the other system's secrets):")
    click.echo(token)
    click.echo(f"PUT /api/sources/{name}/memberships/<external_id> with Authorization: Bearer …")


@token_cli.command("list")
@click.argument("source", required=False)
def list_command(source: str | None) -> None:
    """Every token (or SOURCE's): id, source, first characters, maker, live or revoked."""
    try:
        name = None if source is None else translate.source_of(source)
    except translate.BadSourceName as exc:
        raise click.BadParameter(str(exc), param_hint="SOURCE") from None
    found = tokens.listed(db.session, name)
    if not found:
        click.echo("No tokens yet: flask sources token create NAME")
    for row in found:
        click.echo(tokens.label(row))


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_command(token_id: int) -> None:
    """Revoke token TOKEN_ID at once; its source stays known, its memberships stay."""
    row = tokens.revoke(db.session, token_id, audit.CLI)
    if row is None:
        raise click.ClickException(f"no token {token_id}")
    click.echo(f"Revoked: {tokens.label(row)}")

"""`flask patreon sync|replay`."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import AppGroup

from ..database import db
from ..models import utcnow
from ..sources.patreon import sync
from ..sources.patreon.client import Client, PatreonError
from ..sources.patreon.envelope import SOURCE
from ..sources.patreon.settings import Settings, SettingsError
from ..sources.patreon.translate import Settings as TranslateSettings
from ..sources.patreon.translate import translator
from . import replay

patreon_cli = AppGroup("patreon", help="Work with Patreon members.")


def _settings() -> Settings:
    try:
        return Settings.from_config(current_app.config, os.environ)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@patreon_cli.command("sync")
@click.option("--apply", "apply_", is_flag=True, help="Write the changes (default: dry run).")
def patreon_sync(apply_: bool) -> None:
    """Heal the ledger's Patreon members from the campaign's members in Patreon's API v2.

    Lists every member of PATREON_CAMPAIGN_ID, and reads one by one each member the ledger
    counts that the list did not return.
    """
    settings = _settings()
    if not settings.campaign_id:
        raise click.ClickException(
            "PATREON_CAMPAIGN_ID is not set (GET /api/oauth2/v2/campaigns with the creator's "
            "token lists it)"
        )
    try:
        report = sync.run(
            db.session,
            TranslateSettings.from_patreon(settings),
            Client(settings.api_base, settings.access_token),
            settings.campaign_id,
            apply=apply_,
            identity_key=settings.identity_key,
            now=utcnow(),
        )
    except PatreonError as exc:
        raise click.ClickException(f"{exc}; nothing was written") from None
    for line in report.lines():
        click.echo(line)
    if report.failed:
        raise click.ClickException("some events failed to apply; see the event log")


@patreon_cli.command("replay")
@click.argument("event_id", required=False)
@click.option("--failed", "all_failed", is_flag=True, help="Every event recorded as failed.")
def patreon_replay(event_id: str | None, all_failed: bool) -> None:
    """Apply stored Patreon events again from their payloads (idempotent)."""
    replay(SOURCE, event_id, all_failed, translator(TranslateSettings.from_patreon(_settings())))

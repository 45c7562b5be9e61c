"""`flask events prune|offers` and `flask recount`: looking after the stored events and the
counts."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .. import recount, sources
from ..campaigns import progress
from ..campaigns import settings as campaigns
from ..database import db
from ..ledger import offers_fill, store
from ..models import utcnow

events_cli = AppGroup("events", help="Look after the stored webhook events.")


@events_cli.command("prune")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(1, 36_500),
    help="Days to keep (default: EVENT_RETENTION_DAYS).",
)
def events_prune(days: int | None) -> None:
    """Delete ignored events past the retention period.

    Applied and failed events stay: they are the ledger's evidence (recount and replay read
    them), and their stored payloads carry no personal data.
    """
    keep = days or current_app.config["EVENT_RETENTION_DAYS"]
    removed = store.prune_ignored(db.session, utcnow() - timedelta(days=keep))
    click.echo(f"Deleted {removed:,} ignored event(s) older than {keep} days.")


@events_cli.command("offers")
def events_offers() -> None:
    """Give memberships the offers their stored events name (prices, plans, payment links,
    metadata keys): run once after upgrading, before a campaign counts by offer."""
    translators = sources.translators(current_app.config)
    filled = offers_fill.fill(db.session, translators, utcnow())
    click.echo(f"Filled in the offers of {filled:,} membership(s).")


@click.command("recount")
@with_appcontext
@click.option("--url", help="Base URL of a running server whose served counts to compare too.")
def recount_command(url: str | None) -> None:
    """Recompute every count from the events and memberships; report any difference."""
    now = utcnow()
    translators = sources.translators(current_app.config)
    report = recount.recount(db.session, translators, now)
    click.echo(f"Replayed {report.events:,} stored events.")
    for line in report.unreadable:
        click.echo(f"  unreadable event {line}")
    for line in report.differences[:200]:
        click.echo(f"  {line}")
    if len(report.differences) > 200:
        click.echo(f"  … and {len(report.differences) - 200:,} more differences")
    clean = report.clean
    for counted in report.campaigns:
        campaign = campaigns.get_campaign(db.session, counted.slug)
        assert campaign is not None
        shown = progress.compute(db.session, campaign, now).count
        line = (
            f"{counted.slug} ({counted.rule}): members {counted.fast:,} "
            f"(from memberships {counted.slow:,}, replayed {counted.replayed:,}); "
            f"shown {shown:,}"
        )
        if url:
            served = _served_count(url, counted.slug)
            line += f"; served {served:,}" if served is not None else "; served: unreachable"
            if served != shown:
                clean = False
                line += "  <-- served figure differs (it may be up to the cache age old)"
        if not counted.agrees:
            line += "  <-- DIFFERS"
        click.echo(line)
    if not clean:
        raise click.ClickException("recount found differences")
    click.echo("All counts agree.")


def _served_count(base_url: str, slug: str) -> int | None:
    try:
        with urllib.request.urlopen(
            f"{base_url.rstrip('/')}/api/campaigns/{slug}", timeout=10
        ) as response:
            return int(json.load(response)["count"])
    except (OSError, ValueError, KeyError):
        return None

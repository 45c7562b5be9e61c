"""`flask notify add|list|remove|digest|run`: a campaign's channels and the outbox worker."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from ..campaigns import milestones
from ..campaigns import settings as campaigns
from ..config_values import ConfigError
from ..database import db
from ..models import Campaign
from ..notify import channels, digest, worker
from ..notify import settings as notify_settings
from . import echo_each

notify_cli = AppGroup("notify", help="Tell the newsroom of milestones: channels and the worker.")


def _settings() -> notify_settings.NotifySettings:
    try:
        return notify_settings.from_config(current_app.config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _campaign(slug: str) -> Campaign:
    campaign = campaigns.get_campaign(db.session, slug)
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    return campaign


@notify_cli.command("add")
@click.argument("slug")
@click.option("--slack", metavar="URL", help="A Slack incoming webhook's URL (kept encrypted).")
@click.option("--email", metavar="ADDRESS", help="An email address (needs SMTP_URL).")
@click.option("--webhook", metavar="URL", help="Your endpoint for signed JSON notices.")
@click.option("--secret", help="The webhook's signing secret (default: one is made and shown).")
@click.option(
    "--milestones", metavar="LABELS", help="Only these milestones, e.g. '50%,goal 25000'."
)
def notify_add(slug: str, secret: str | None, milestones: str | None, **targets: Any) -> None:
    """Add a channel to campaign SLUG: one of --slack, --email or --webhook."""
    given = {kind: target for kind, target in targets.items() if target}
    if len(given) != 1:
        raise click.UsageError("give one of --slack URL, --email ADDRESS or --webhook URL")
    ((kind, target),) = given.items()
    if secret is not None and kind != "webhook":
        raise click.UsageError("--secret is for --webhook only")
    keys = _settings().keys if kind != "email" else ()
    try:
        added = channels.add_channel(
            db.session, _campaign(slug), kind, target, keys, secret=secret, milestones=milestones
        )
    except (channels.ChannelError, ConfigError) as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"Added {channels.describe(added.channel)}")
    if added.generated_secret:
        click.echo(
            "Signing secret (shown this once; give it to the receiver to check "
            f"Membership-Signature): {added.generated_secret}"
        )


@notify_cli.command("list")
@click.argument("slug", required=False)
def notify_list(slug: str | None) -> None:
    """List channels, of campaign SLUG or of all; secrets are masked."""
    campaign = _campaign(slug) if slug else None
    slugs = {c.id: c.slug for c in campaigns.list_campaigns(db.session)}
    echo_each(
        channels.list_channels(db.session, campaign),
        lambda c: f"{slugs.get(c.campaign_id, '?')} {channels.describe(c)}",
        "No channels yet: flask notify add SLUG --slack URL | --email ADDRESS | --webhook URL",
    )
    for each in [campaign] if campaign else campaigns.list_campaigns(db.session):
        if channels.digest_on(db.session, each):
            click.echo(f"{each.slug}: weekly digest on")


@notify_cli.command("remove")
@click.argument("channel_id", type=int)
def notify_remove(channel_id: int) -> None:
    """Remove channel CHANNEL_ID (see `flask notify list`) and its pending deliveries."""
    removed = channels.remove_channel(db.session, channel_id)
    if removed is None:
        raise click.ClickException(f"no channel #{channel_id}")
    click.echo(f"Removed {channels.describe(removed)}")


@notify_cli.command("digest")
@click.argument("slug")
@click.option("--weekly/--off", required=True, help="Send a digest every Monday, or stop.")
def notify_digest(slug: str, weekly: bool) -> None:
    """Turn campaign SLUG's weekly digest (count, pace, projection) on or off."""
    changed = channels.set_digest(db.session, _campaign(slug), weekly)
    state = "on" if weekly else "off"
    click.echo(f"{slug}: weekly digest {state}" + ("" if changed else " (already)"))


@notify_cli.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def notify_run(once: bool) -> None:
    """The worker: detect milestones, queue digests, deliver notices with retries."""
    settings = _settings()
    stop = threading.Event()
    if not once:
        # SIGTERM (a deployment's stop) ends the loop after the delivery in hand.
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stop.set())
        click.echo(f"Delivering notifications every {settings.poll} s; Ctrl-C stops.")
    # Milestones first: a crossing detected this round is delivered this round.
    ticks: list[worker.Tick] = [milestones.detect, digest.enqueue_due]
    worker.run(current_app.extensions["database.sessions"], settings, ticks, once=once, stop=stop)

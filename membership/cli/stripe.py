"""`flask stripe simulate|replay|reconcile`."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import AppGroup

from ..database import db
from ..models import utcnow
from ..sources.stripe import reconcile, simulate
from ..sources.stripe.envelope import SOURCE
from ..sources.stripe.translate import Settings, translator
from . import day, replay, send_signups

stripe_cli = AppGroup("stripe", help="Work with Stripe events.")


def _settings() -> Settings:
    return Settings.from_config(current_app.config)


@stripe_cli.command("simulate")
@click.option(
    "-n",
    "count",
    type=click.IntRange(1, 10_000),
    default=1,
    show_default=True,
    help="Sign-ups to send.",
)
@click.option(
    "--url",
    default="http://127.0.0.1:5000/webhooks/stripe",
    show_default=True,
    help="The webhook endpoint of a running server.",
)
def stripe_simulate(count: int, url: str) -> None:
    """Post N realistic, signed, simulated sign-ups to a running server."""
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--url")
    secrets = current_app.config["STRIPE_WEBHOOK_SECRETS"]
    if not secrets:
        raise click.UsageError("STRIPE_WEBHOOK_SECRET is not set; the server would refuse them")
    # Sign-ups in the mode the deployment counts; with no mode set, test mode, like a new
    # Stripe account. Their ids say they are simulated (evt_demo_…).
    livemode = current_app.config["STRIPE_LIVEMODE"] == "live"
    send_signups(
        count,
        lambda: simulate.signup(created=int(clock.time()), livemode=livemode, demo=True),
        lambda event: simulate.deliver(url, event, secrets[0]),
        url,
    )


@stripe_cli.command("replay")
@click.argument("event_id", required=False)
@click.option("--failed", "all_failed", is_flag=True, help="Every event recorded as failed.")
def stripe_replay(event_id: str | None, all_failed: bool) -> None:
    """Process stored events again from their payloads (idempotent)."""
    replay(SOURCE, event_id, all_failed, translator(_settings()))


@stripe_cli.command("reconcile")
@click.option(
    "--since",
    callback=day,
    help="List events from this day (UTC, YYYY-MM-DD); default 30 days ago, "
    "as far back as Stripe keeps events.",
)
@click.option("--apply", "apply_", is_flag=True, help="Write the changes (default: dry run).")
def stripe_reconcile(since: date | None, apply_: bool) -> None:
    """Heal the ledger from Stripe's API: events, subscriptions, paid checkout sessions."""
    config = current_app.config
    try:
        client = reconcile.make_client(config["STRIPE_API_KEY"], config["STRIPE_API_BASE"])
        report = reconcile.run(
            db.session,
            _settings(),
            client,
            since=datetime.combine(since, time(0), UTC) if since else None,
            apply=apply_,
            now=utcnow(),
        )
    except reconcile.ReconcileError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.lines():
        click.echo(line)
    if report.failed:
        raise click.ClickException("some events failed to apply; see the event log")

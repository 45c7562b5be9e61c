"""Flask commands: `campaign`, `stripe`, `events` and `recount`."""

from __future__ import annotations

import json
import time as clock
import urllib.request
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import demo, recount
from .campaigns import progress
from .campaigns import settings as campaigns
from .database import db
from .ledger import store as ledger
from .ledger.store import Policy
from .models import utcnow
from .sources.stripe import reconcile, simulate

campaign_cli = AppGroup("campaign", help="Create, change and list campaigns.")
stripe_cli = AppGroup("stripe", help="Work with Stripe events.")
events_cli = AppGroup("events", help="Look after the stored webhook events.")


def init_app(app: Flask) -> None:
    app.cli.add_command(campaign_cli)
    app.cli.add_command(stripe_cli)
    app.cli.add_command(events_cli)
    app.cli.add_command(recount_command)


def _day(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from None


def _policy() -> Policy:
    return Policy(
        livemode=current_app.config["STRIPE_LIVEMODE"],
        term=timedelta(days=current_app.config["MEMBERSHIP_TERM_DAYS"]),
    )


def _settings_options(creating: bool):  # noqa: ANN202 - a decorator factory
    def decorate(func):  # noqa: ANN001, ANN202
        options = [
            click.option("--goal", type=int, required=creating, help="Members to reach."),
            click.option("--title", help="Name shown to the newsroom and as the API title."),
            click.option(
                "--starts", "starts_on", callback=_day, help="First day, YYYY-MM-DD (UTC)."
            ),
            click.option("--deadline", callback=_day, help="Last day, included, YYYY-MM-DD (UTC)."),
            click.option(
                "--rule",
                type=click.Choice(campaigns.RULES),
                help="active: members now (default); new: members who first joined "
                "inside the window.",
            ),
            click.option("--baseline", type=int, help="Members from outside Stripe."),
            click.option("--headline", help="Headline above the bar."),
            click.option("--message", help="Message below the headline."),
            click.option("--cta-label", "cta_label", help="Call-to-action button text."),
            click.option("--cta-url", "cta_url", help="Call-to-action link (http or https)."),
            click.option("--locale", help="Language of the copy, e.g. en or uk."),
        ]
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def _show(campaign: Any) -> None:
    figures = progress.compute(db.session, campaign, utcnow())
    window = f"{campaign.starts_on or '…'} to {campaign.deadline or '…'}"
    click.echo(
        f"{campaign.slug}: {figures.count:,} of {figures.goal:,} ({figures.percent}%), "
        f"{figures.status}, rule {campaign.rule}, baseline {campaign.baseline:,}, {window}"
    )


@campaign_cli.command("create")
@click.argument("slug")
@_settings_options(creating=True)
def campaign_create(slug: str, goal: int, **values: Any) -> None:
    """Create a campaign called SLUG."""
    try:
        campaign = campaigns.create_campaign(db.session, slug, goal, **values)
    except campaigns.CampaignError as exc:
        raise click.UsageError(str(exc)) from None
    _show(campaign)


@campaign_cli.command("update")
@click.argument("slug")
@_settings_options(creating=False)
@click.option("--no-start", is_flag=True, help="Remove the start date.")
@click.option("--no-deadline", is_flag=True, help="Remove the deadline.")
def campaign_update(slug: str, no_start: bool, no_deadline: bool, **values: Any) -> None:
    """Change settings of campaign SLUG; options not given stay as they are."""
    if no_start and values.get("starts_on"):
        raise click.UsageError("--no-start and --starts contradict each other")
    if no_deadline and values.get("deadline"):
        raise click.UsageError("--no-deadline and --deadline contradict each other")
    try:
        campaign = campaigns.update_campaign(
            db.session, slug, clear_start=no_start, clear_deadline=no_deadline, **values
        )
    except campaigns.CampaignError as exc:
        raise click.UsageError(str(exc)) from None
    _show(campaign)


@campaign_cli.command("list")
def campaign_list() -> None:
    """List campaigns with their current count."""
    found = campaigns.list_campaigns(db.session)
    if not found:
        click.echo("No campaigns yet: flask --app app campaign create SLUG --goal N")
    for campaign in found:
        _show(campaign)


@campaign_cli.command("adjust")
@click.argument("slug")
@click.option("--delta", type=int, required=True, help="Members to add (or remove, if negative).")
@click.option("--reason", required=True, help="Why, for the record.")
@click.option("--by", "created_by", default="cli", show_default=True, help="Who made it.")
def campaign_adjust(slug: str, delta: int, reason: str, created_by: str) -> None:
    """Add or remove members of SLUG by hand, with a reason."""
    campaign = campaigns.get_campaign(db.session, slug)
    if campaign is None:
        raise click.UsageError(f"no campaign called {slug!r}")
    try:
        campaigns.add_adjustment(db.session, campaign, delta, reason, created_by)
    except campaigns.CampaignError as exc:
        raise click.UsageError(str(exc)) from None
    _show(campaign)


@campaign_cli.command("seed-demo")
@click.option(
    "--no-history", is_flag=True, help="Only the campaign, without the simulated history."
)
def campaign_seed_demo(no_history: bool) -> None:
    """Create the demo campaign (goal 25,000) with six weeks of simulated history, once.

    The history is added only to a database that holds nothing but the demo.
    """
    campaign = campaigns.ensure_demo(db.session)
    if not no_history:
        try:
            summary = demo.seed_history(db.session, campaign, _policy(), utcnow())
        except demo.NoHistory as exc:
            click.echo(str(exc))
        else:
            click.echo(summary.describe())
    _show(campaign)


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
    statuses: dict[int, int] = {}
    for _ in range(count):
        for event in simulate.signup(created=int(clock.time()), livemode=livemode, demo=True):
            try:
                status = simulate.deliver(url, event, secrets[0])
            except OSError as exc:
                raise click.ClickException(f"could not reach {url}: {exc}") from None
            statuses[status] = statuses.get(status, 0) + 1
    summary = ", ".join(f"{n} answered {status}" for status, n in sorted(statuses.items()))
    click.echo(f"Sent {count} sign-up(s) ({sum(statuses.values())} events) to {url}: {summary}")
    if set(statuses) != {200}:
        raise click.ClickException("some deliveries were not accepted; see the server log")


@stripe_cli.command("replay")
@click.argument("event_id", required=False)
@click.option("--failed", "all_failed", is_flag=True, help="Every event recorded as failed.")
def stripe_replay(event_id: str | None, all_failed: bool) -> None:
    """Process stored events again from their payloads (idempotent)."""
    if bool(event_id) == all_failed:
        raise click.UsageError("give one EVENT_ID or --failed")
    session = db.session
    ids = [event_id] if event_id else ledger.failed_event_ids(session)
    if not ids:
        click.echo("No failed events.")
        return
    still_failing = 0
    for each in ids:
        result = ledger.replay(session, each, _policy())
        if result is None:
            raise click.ClickException(f"no stored event {each!r}")
        still_failing += result.outcome == ledger.Outcome.FAILED
        detail = f" ({result.detail})" if result.detail else ""
        click.echo(f"{each}: {result.outcome}{detail}")
    if still_failing:
        raise click.ClickException(f"{still_failing} event(s) still fail")


@stripe_cli.command("reconcile")
@click.option(
    "--since",
    callback=_day,
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
            _policy(),
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
    removed = ledger.prune_ignored(db.session, utcnow() - timedelta(days=keep))
    click.echo(f"Deleted {removed:,} ignored event(s) older than {keep} days.")


@click.command("recount")
@with_appcontext
@click.option("--url", help="Base URL of a running server whose served counts to compare too.")
def recount_command(url: str | None) -> None:
    """Recompute every count from the events and memberships; report any difference."""
    now = utcnow()
    report = recount.recount(db.session, _policy(), now)
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

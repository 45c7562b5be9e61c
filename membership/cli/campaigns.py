"""`flask campaign create|update|list|adjust|milestones|seed-demo`."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from .. import demo
from ..campaigns import milestone_list, milestones, progress
from ..campaigns import settings as campaigns
from ..database import db
from ..models import utcnow
from ..sources.stripe.translate import Settings
from . import day, echo_each

campaign_cli = AppGroup("campaign", help="Create, change and list campaigns.")


def _settings_options(creating: bool):  # noqa: ANN202 - a decorator factory
    def decorate(func):  # noqa: ANN001, ANN202
        options = [
            click.option("--goal", type=int, required=creating, help="Members to reach."),
            click.option(
                "--stretch-goals",
                "stretch_goals",
                help='Goals after the first, going up, e.g. 30000,35000 ("" for none).',
            ),
            click.option(
                "--milestones",
                help="Moments to tell the newsroom besides each goal: percentages of the "
                'first goal and counts, e.g. 10%,50%,10000 ("" for the goals alone).',
            ),
            click.option("--title", help="Name shown to the newsroom and as the API title."),
            click.option(
                "--starts", "starts_on", callback=day, help="First day, YYYY-MM-DD (UTC)."
            ),
            click.option("--deadline", callback=day, help="Last day, included, YYYY-MM-DD (UTC)."),
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


def _summary(campaign: Any) -> str:
    figures = progress.compute(db.session, campaign, utcnow())
    window = f"{campaign.starts_on or '…'} to {campaign.deadline or '…'}"
    summary = (
        f"{campaign.slug}: {figures.count:,} of {figures.goal:,} ({figures.percent}%), "
        f"{figures.status}, rule {campaign.rule}, baseline {campaign.baseline:,}, {window}"
    )
    if len(figures.goals) > 1:
        summary += ", goals " + " > ".join(
            f"{goal.goal:,}" + (" (reached)" if goal.reached_at else "") for goal in figures.goals
        )
    return summary


def _show(campaign: Any) -> None:
    click.echo(_summary(campaign))


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
    echo_each(
        campaigns.list_campaigns(db.session),
        _summary,
        "No campaigns yet: flask --app app campaign create SLUG --goal N",
    )


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
    # Record at once the milestones the adjustment carried the count across.
    _echo_crossings(milestones.detect(db.session, utcnow()))
    _show(campaign)


def _echo_crossings(crossings: list[milestones.Crossing]) -> None:
    for crossing in crossings:
        click.echo(f"{crossing.slug}: crossed {crossing.label} at {crossing.count:,}")


def _entry_line(entry: milestone_list.Entry) -> str:
    if entry.crossed_at is None:
        when = "not yet"
    else:
        when = f"crossed {entry.crossed_at:%Y-%m-%d %H:%M:%S} UTC at {entry.count:,}"
        if not entry.announced:
            when += " (already passed when set; not announced)"
    gone = "" if entry.current else " (no longer a milestone)"
    sent = "".join(
        f"\n{'':>18}{d.channel}: {d.status}, {d.attempts} attempt(s)" for d in entry.deliveries
    )
    return f"{entry.label:>16}  {entry.threshold:>13,}  {when}{gone}{sent}"


@campaign_cli.command("milestones")
@click.argument("slug")
@click.option("--detect", is_flag=True, help="Record the crossings not recorded yet first.")
def campaign_milestones(slug: str, detect: bool) -> None:
    """List the milestones of SLUG and when each was crossed."""
    if detect:
        _echo_crossings(milestones.detect(db.session, utcnow()))
    campaign = campaigns.get_campaign(db.session, slug)
    if campaign is None:
        raise click.UsageError(f"no campaign called {slug!r}")
    for entry in milestone_list.entries(db.session, campaign):
        click.echo(_entry_line(entry))


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
            summary = demo.seed_history(
                db.session, campaign, Settings.from_config(current_app.config), utcnow()
            )
        except demo.NoHistory as exc:
            click.echo(str(exc))
        else:
            click.echo(summary.describe())
    _show(campaign)

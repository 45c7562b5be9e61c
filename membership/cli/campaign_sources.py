"""`flask campaign sources SLUG`: which sources, and which of their offers, a campaign counts."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..accounts import audit
from ..campaigns import definitions
from ..campaigns.settings import get_campaign
from ..campaigns.validation import CampaignError
from ..database import db
from ..sources import offer_kinds


@click.command("sources")
@with_appcontext
@click.argument("slug")
@click.option(
    "--source",
    "written",
    multiple=True,
    metavar="SOURCE[=OFFER,...]",
    help="Count this source: all of it, or only these offers (price:ID, product:ID, "
    "payment_link:ID, metadata:KEY for Stripe; plan:ID for PayPal). Repeat for each source.",
)
@click.option("--all-sources", is_flag=True, help="Count every source and everything in it.")
def sources_command(slug: str, written: tuple[str, ...], all_sources: bool) -> None:
    """Show or choose what counts for campaign SLUG.

    \b
    flask campaign sources members
    flask campaign sources members --source stripe=price:price_123 --source paypal
    flask campaign sources members --all-sources
    """
    campaign = get_campaign(db.session, slug)
    if campaign is None:
        raise click.ClickException(f"no campaign called {slug!r}")
    if written and all_sources:
        raise click.UsageError("give --source or --all-sources, not both")
    if written or all_sources:
        try:
            chosen = definitions.parse(written, offer_kinds)
        except CampaignError as error:
            raise click.ClickException(str(error)) from None
        changed = definitions.save(db.session, campaign, chosen, audit.CLI)
        click.echo("Saved." if changed else "Unchanged.")
    shown = definitions.of(db.session, campaign)
    if not shown:
        click.echo(f"{slug} counts every source, every membership.")
    for definition in shown:
        what = ", ".join(sorted(definition.offers)) or "every membership"
        click.echo(f"{slug} counts {definition.source}: {what}")

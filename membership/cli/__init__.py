"""Flask commands: `campaign`, `stripe`, `events` and `recount` (`admin` is the dashboard's)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

import click
from flask import Flask


def init_app(app: Flask) -> None:
    from . import campaigns, events, members, paypal, stripe

    app.cli.add_command(campaigns.campaign_cli)
    app.cli.add_command(stripe.stripe_cli)
    app.cli.add_command(paypal.paypal_cli)
    app.cli.add_command(events.events_cli)
    app.cli.add_command(events.recount_command)
    app.cli.add_command(members.members_cli)


def day(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """A click callback: a YYYY-MM-DD option as a date."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from None


Shown = TypeVar("Shown")


def echo_each(found: Sequence[Shown], line: Callable[[Shown], str], none_yet: str) -> None:
    """One line per item found, or how to make the first one."""
    if not found:
        click.echo(none_yet)
    for item in found:
        click.echo(line(item))

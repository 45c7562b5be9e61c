"""Flask commands: `campaign`, `stripe`, `events` and `recount` (`admin` is the dashboard's)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar

import click
from flask import Flask


def init_app(app: Flask) -> None:
    from . import (
        campaign_sources,
        campaigns,
        events,
        members,
        notify,
        patreon,
        paypal,
        sources,
        stripe,
    )

    campaigns.campaign_cli.add_command(campaign_sources.sources_command)
    app.cli.add_command(campaigns.campaign_cli)
    app.cli.add_command(stripe.stripe_cli)
    app.cli.add_command(paypal.paypal_cli)
    app.cli.add_command(patreon.patreon_cli)
    app.cli.add_command(events.events_cli)
    app.cli.add_command(events.recount_command)
    app.cli.add_command(members.members_cli)
    app.cli.add_command(notify.notify_cli)
    app.cli.add_command(sources.sources_cli)


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


def replay(source: str, event_id: str | None, all_failed: bool, translate: Any) -> None:
    """`flask SOURCE replay EVENT_ID|--failed`: process stored events again (idempotent)."""
    from ..database import db
    from ..ledger import store

    if bool(event_id) == all_failed:
        raise click.UsageError("give one EVENT_ID or --failed")
    session = db.session
    ids = [event_id] if event_id else [i for _, i in store.failed_events(session, source)]
    if not ids:
        click.echo("No failed events.")
        return
    still_failing = 0
    for each in ids:
        result = store.replay(session, source, each, translate)
        if result is None:
            raise click.ClickException(f"no stored event {each!r}")
        still_failing += result.outcome == store.Outcome.FAILED
        detail = f" ({result.detail})" if result.detail else ""
        click.echo(f"{each}: {result.outcome}{detail}")
    if still_failing:
        raise click.ClickException(f"{still_failing} event(s) still fail")


def send_signups(
    count: int, signup: Callable[[], Sequence[Any]], send: Callable[[Any], int], url: str
) -> None:
    """`flask SOURCE simulate`: send ``count`` sign-ups (each a few deliveries) and report."""
    statuses: dict[int, int] = {}
    for _ in range(count):
        for delivery in signup():
            try:
                status = send(delivery)
            except OSError as exc:
                raise click.ClickException(f"could not reach {url}: {exc}") from None
            statuses[status] = statuses.get(status, 0) + 1
    report_deliveries(count, statuses, url)


def report_deliveries(count: int, statuses: dict[int, int], url: str) -> None:
    """What `flask SOURCE simulate` sent, and a failure if any delivery was not accepted."""
    summary = ", ".join(f"{n} answered {status}" for status, n in sorted(statuses.items()))
    click.echo(f"Sent {count} sign-up(s) ({sum(statuses.values())} events) to {url}: {summary}")
    if set(statuses) != {200}:
        raise click.ClickException("some deliveries were not accepted; see the server log")

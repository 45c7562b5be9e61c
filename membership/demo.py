"""The demo campaign's history: six weeks of simulated sign-ups, cancellations and refunds.

No Flask here. `make run` shows a drive in progress, not "0 out of 25,000": each simulated
Stripe event (test mode, ``_demo_`` in every id) goes through ``ledger.record_event`` exactly
as a webhook delivery would, received when it was sent, so the count, the dashboard's pace,
projection and charts all come from the real ledger. Only ever for the demo campaign of an
otherwise empty database; a history is never added twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .campaigns import settings as campaigns
from .ledger.store import Outcome, record_event
from .models import Campaign, Event
from .sources.stripe import simulate
from .sources.stripe.envelope import parse
from .sources.stripe.translate import Settings, translator

# Members from outside Stripe (bank transfers, the print edition): the drive does not start
# from nothing, and the bar opens well clear of zero.
BASELINE = 8_000
DAYS = 42  # the drive launched six weeks ago
STEADY = 10.0  # sign-ups on an ordinary day once the launch has passed
LAUNCH = 100.0  # extra sign-ups on launch day, halving every two days
NEWSLETTER_DAYS = (13, 27)  # days of the drive on which an appeal went out by newsletter
NEWSLETTER = 35.0  # extra sign-ups on those days, halving every day
# Monday first: fewer readers sign up at the weekend.
WEEKDAY = (1.15, 1.1, 1.05, 1.0, 0.9, 0.7, 0.8)
# Sign-ups by hour of the day (UTC): a morning and an evening reading peak.
HOURS = (1, 1, 1, 1, 1, 2, 4, 7, 8, 7, 6, 6, 6, 6, 5, 5, 5, 6, 7, 8, 8, 6, 4, 2)
ONE_OFF = 0.25  # share of sign-ups paying once for a year rather than monthly
GUEST = 0.3  # share of one-off payers who check out without a customer account
CANCELS = 0.12  # share of monthly members who cancel, on average ...
CANCEL_AFTER_DAYS = 9.0  # ... this many days after joining
REFUNDS = 0.05  # share of one-off payments refunded within a week
RENEWAL = timedelta(days=30)  # a monthly subscription's next payment
SEED = 2026  # the same drive every time: a demo that changes each run is hard to explain
DEMO_EVENT_PREFIX = f"evt{simulate.DEMO_MARKER}"


class NoHistory(Exception):
    """No history was added; the message says why, for the person running the command."""


@dataclass
class Summary:
    """What a demo history holds: the plan's events and what they amount to."""

    launch: date
    signups: int = 0
    one_off: int = 0
    renewals: int = 0
    cancellations: int = 0
    refunds: int = 0
    events: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def describe(self) -> str:
        return (
            f"Demo history (simulated, not real readers) since the drive's launch on "
            f"{self.launch}: {self.signups:,} sign-ups ({self.one_off:,} of them one-off "
            f"yearly payments), {self.renewals:,} renewals, {self.cancellations:,} "
            f"cancellations and {self.refunds:,} refunds, recorded through the ledger as "
            f"{len(self.events):,} test-mode Stripe events with ids like {DEMO_EVENT_PREFIX}…\n"
            f"Plus a baseline of {BASELINE:,} members from outside Stripe."
        )


def plan(now: datetime) -> Summary:
    """The drive's events up to a minute before ``now``, oldest first."""
    rng = random.Random(SEED)
    end = int(now.timestamp()) - 60
    summary = Summary(launch=now.astimezone(UTC).date() - timedelta(days=DAYS - 1))
    events: list[dict[str, Any]] = []
    for day_of_drive in range(DAYS):
        day = summary.launch + timedelta(days=day_of_drive)
        expected = STEADY * WEEKDAY[day.weekday()] + LAUNCH * 0.5 ** (day_of_drive / 2)
        for appeal in NEWSLETTER_DAYS:
            if day_of_drive >= appeal:
                expected += NEWSLETTER * 0.5 ** (day_of_drive - appeal)
        midnight = int(datetime.combine(day, time(0), UTC).timestamp())
        for _ in range(max(0, round(rng.gauss(expected, expected**0.5)))):
            hour = rng.choices(range(24), weights=HOURS)[0]
            at = midnight + hour * 3600 + rng.randrange(3600)
            if at <= end:
                events += _one_reader(rng, summary, at, end)
    events.sort(key=lambda event: event["created"])
    summary.events = events
    return summary


def _one_reader(rng: random.Random, summary: Summary, at: int, end: int) -> list[dict[str, Any]]:
    """A reader's events: joining, then perhaps a renewal, a cancellation or a refund."""
    summary.signups += 1
    if rng.random() < ONE_OFF:
        summary.one_off += 1
        joined = simulate.one_off_payment(
            created=at, livemode=False, guest=rng.random() < GUEST, demo=True
        )
        refunded = at + int(rng.uniform(0.5, 7) * 86_400)
        if rng.random() < REFUNDS and refunded <= end:
            summary.refunds += 1
            payment_intent = joined[0]["data"]["object"]["payment_intent"]
            return joined + simulate.refund(
                payment_intent, created=refunded, livemode=False, demo=True
            )
        return joined
    events = simulate.signup(created=at, livemode=False, demo=True)
    subscription = events[0]["data"]["object"]
    ids = {"subscription": subscription["id"], "customer": subscription["customer"]}
    cancelled = end + 1
    if rng.random() < CANCELS:
        cancelled = at + int(rng.expovariate(1 / CANCEL_AFTER_DAYS) * 86_400)
    renewed = at + int(RENEWAL.total_seconds())
    if renewed < min(cancelled, end):
        summary.renewals += 1
        events += simulate.renewal(**ids, created=renewed, livemode=False, demo=True)
    if cancelled <= end:
        summary.cancellations += 1
        events += simulate.cancellation(
            **ids, started=subscription["created"], created=cancelled, livemode=False, demo=True
        )
    return events


def demo_events(session: Session) -> int:
    """How many simulated demo events the ledger holds."""
    return session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.id.startswith(DEMO_EVENT_PREFIX, autoescape=True))
    )


def refusal(session: Session, campaign: Campaign, settings: Settings) -> str | None:
    """Why a demo history must not be added here, or None if it may."""
    other_events = session.scalar(
        select(func.count())
        .select_from(Event)
        .where(~Event.id.startswith(DEMO_EVENT_PREFIX, autoescape=True))
    )
    others = session.scalars(select(Campaign.slug).where(Campaign.id != campaign.id)).all()
    if other_events:
        return f"the ledger holds {other_events:,} event(s) that are not the demo's"
    if others:
        return f"the database holds other campaigns ({', '.join(sorted(others))})"
    if campaign.cta_url != campaigns.Demo().cta_url:
        # A campaign of that name whose button leads somewhere real is a newsroom's own.
        return f"the campaign {campaign.slug!r} is not the demo: its button links to a real page"
    if settings.livemode == "live":
        return "this deployment counts live-mode events only; the demo's are test mode"
    return None


def seed_history(
    session: Session, campaign: Campaign, settings: Settings, now: datetime
) -> Summary:
    """Record the demo drive's history through the ledger; raise NoHistory if not added."""
    existing = demo_events(session)
    reason = refusal(session, campaign, settings)
    session.rollback()
    if existing:
        raise NoHistory(
            f"The demo history is already in the ledger ({existing:,} simulated events); "
            f"nothing added."
        )
    if reason:
        raise NoHistory(
            f"No demo history added: {reason}. A simulated history is only ever added to the "
            f"demo campaign of a database that holds nothing else."
        )
    summary = plan(now)
    # The drive starts on its launch day, so the charts show the drive rather than months of
    # nothing before it.
    starts_on = min(summary.launch, campaign.deadline or summary.launch)
    campaigns.update_campaign(session, campaign.slug, baseline=BASELINE, starts_on=starts_on)
    translate = translator(settings)
    for event in summary.events:
        # Received a few seconds after it was sent, as a webhook delivery would be.
        received = datetime.fromtimestamp(event["created"] + 2, UTC)
        result = record_event(
            session, parse(event, settings.identity_key), translate, now=min(received, now)
        )
        if result.outcome != Outcome.APPLIED:
            raise RuntimeError(f"demo event {event['id']} was {result.outcome}: {result.detail}")
    return summary

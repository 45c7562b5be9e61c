"""Whether what an event recorded counts for each campaign, and why not: the webhook log's
"not a membership" column. No Flask; each source's translate function is passed in.

A campaign's definitions (definitions.py) are applied when counting, not when an event is
stored, so changing them recounts the past too. An event is therefore never stored as
"ignored" for matching no definition; the log works out, as it shows an event, which
campaigns count the membership it recorded, and says why the others do not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..ledger import offers, store
from ..ledger.rules import OneOffPayment, RecurringChange, key
from ..models import Campaign, CampaignSource
from ..models import Event as StoredEvent
from .definitions import Definition


@dataclass(frozen=True)
class Verdict:
    """What one campaign makes of a membership."""

    campaign: str  # its slug
    counts: bool
    reason: str  # why it does not count; "" when it does


def of_events(
    session: Session, events: Iterable[StoredEvent], translators: Mapping[str, store.Translate]
) -> dict[tuple[str, str], list[Verdict]]:
    """(source, event id) -> each campaign's verdict on the membership the event recorded;
    only for applied events that recorded a membership, and only while some campaign narrows
    what it counts (otherwise every campaign counts everything and there is nothing to say)."""
    chosen = _definitions(session)
    if not any(chosen.values()):
        return {}
    found: dict[tuple[str, str], list[Verdict]] = {}
    for event in events:
        membership = _membership_of(event, translators)
        if membership is not None:
            held = frozenset(offers.of(session, membership))
            found[(event.source, event.id)] = [
                verdict(slug, event.source, held, definitions)
                for slug, definitions in chosen.items()
            ]
    session.rollback()
    return found


def verdict(slug: str, source: str, held: frozenset[str], chosen: list[Definition]) -> Verdict:
    """One campaign's verdict on a membership of ``source`` bought as ``held``."""
    if not chosen:
        return Verdict(slug, True, "")
    mine = next((d for d in chosen if d.source == source), None)
    if mine is None:
        counted = ", ".join(d.source for d in chosen)
        return Verdict(slug, False, f"{slug} counts {counted} only")
    if not mine.offers or held & mine.offers:
        return Verdict(slug, True, "")
    bought = ", ".join(sorted(held)) or "nothing it counts by"
    wanted = ", ".join(sorted(mine.offers))
    return Verdict(slug, False, f"bought as {bought}; {slug} counts {wanted}")


def _definitions(session: Session) -> dict[str, list[Definition]]:
    """Every campaign's definitions by slug (an empty list: everything counts)."""
    chosen: dict[str, list[Definition]] = {
        slug: [] for slug in session.scalars(select(Campaign.slug).order_by(Campaign.slug))
    }
    rows = session.execute(
        select(Campaign.slug, CampaignSource.source, CampaignSource.offers)
        .join(CampaignSource, CampaignSource.campaign_id == Campaign.id)
        .order_by(Campaign.slug, CampaignSource.source)
    )
    for slug, source, written in rows:
        chosen[slug].append(Definition(source, frozenset(written.split())))
    return chosen


def _membership_of(event: StoredEvent, translators: Mapping[str, store.Translate]) -> str | None:
    """The ledger key of the membership an applied event recorded, if it recorded one."""
    translate = translators.get(event.source)
    if event.outcome != store.Outcome.APPLIED or translate is None:
        return None
    try:
        change = translate(store.event_of(event))
    except ValueError:  # a payload this version reads differently; the log still shows it
        return None
    if isinstance(change, RecurringChange | OneOffPayment):
        return key(change.source, change.membership)
    return None

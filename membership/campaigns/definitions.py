"""What counts for a campaign: the sources it counts and, per source, which offers are
memberships. No Flask, no provider: which offer kinds a source has is passed in.

A definition is written ``SOURCE`` (every membership of that source counts) or
``SOURCE=OFFER,OFFER`` (only memberships bought as one of those offers), e.g.
``stripe=price:price_123,metadata:membership`` or ``paypal=plan:P-5ML4271244454362WXNWU5NQ``.
A campaign with no definition counts every source and everything in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, object_session

from ..accounts import audit
from ..ledger.counting import Choice
from ..models import Campaign, CampaignSource, utcnow
from .validation import CampaignError

FIELD = "sources"
SOURCE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
# An offer's value: an id or a metadata key, as the provider spells it; no spaces or commas,
# which separate offers.
OFFER_VALUE = re.compile(r"^[A-Za-z0-9_.:/@+-]{1,200}$")
MAX_OFFERS = 100

# Which offer kinds a source's memberships can be defined by: () for "the whole source only"
# (an import), None for a source this service does not have.
OfferKinds = Callable[[str], tuple[str, ...] | None]


@dataclass(frozen=True)
class Definition:
    source: str
    offers: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return self.source + ("=" + ",".join(sorted(self.offers)) if self.offers else "")


def parse(lines: Iterable[str], kinds: OfferKinds) -> list[Definition]:
    """Definitions from their written form (one per item; blank items skipped), or a
    CampaignError naming the first problem."""
    found: dict[str, Definition] = {}
    for raw in lines:
        text = raw.strip()
        if not text:
            continue
        source, _, listed = text.partition("=")
        source = source.strip()
        if not SOURCE_NAME.match(source):
            raise CampaignError(FIELD, f"{source!r} is not a source name")
        allowed = kinds(source)
        if allowed is None:
            raise CampaignError(FIELD, f"there is no source called {source!r}")
        if source in found:
            raise CampaignError(FIELD, f"{source} is named twice")
        offers = frozenset(o.strip() for o in listed.split(",") if o.strip())
        for offered in sorted(offers):
            kind, _, value = offered.partition(":")
            if kind not in allowed:
                choices = ", ".join(allowed) or "none: it counts as a whole"
                raise CampaignError(
                    FIELD, f"{offered!r}: {source} memberships are defined by {choices}"
                )
            if not OFFER_VALUE.match(value):
                raise CampaignError(FIELD, f"{offered!r} is not an offer ({kind}:ID)")
        if len(offers) > MAX_OFFERS:
            raise CampaignError(FIELD, f"at most {MAX_OFFERS} offers per source")
        found[source] = Definition(source, offers)
    return [found[source] for source in sorted(found)]


def of(session: Session, campaign: Campaign) -> list[Definition]:
    """The campaign's definitions, by source; empty for "every source, everything"."""
    rows = session.scalars(
        select(CampaignSource)
        .where(CampaignSource.campaign_id == campaign.id)
        .order_by(CampaignSource.source)
    )
    return [Definition(row.source, frozenset(row.offers.split())) for row in rows]


def choices(campaign: Campaign) -> tuple[Choice, ...] | None:
    """What the ledger counts for the campaign: None for every membership of every source."""
    session = object_session(campaign)
    if session is None or campaign.id is None:
        return None  # a campaign not saved yet has no definitions
    chosen = tuple(Choice(d.source, d.offers) for d in of(session, campaign))
    return chosen or None


def save(
    session: Session, campaign: Campaign, definitions: list[Definition], actor: audit.Actor
) -> bool:
    """Replace the campaign's definitions and commit, with an audit entry; False (and nothing
    written) if they are the same as before."""
    before = of(session, campaign)
    if before == definitions:
        return False
    session.execute(delete(CampaignSource).where(CampaignSource.campaign_id == campaign.id))
    session.add_all(
        CampaignSource(campaign_id=campaign.id, source=d.source, offers=" ".join(sorted(d.offers)))
        for d in definitions
    )
    # The cached figures are keyed by the campaign's updated_at: they are counted again.
    campaign.updated_at = utcnow()
    written = "; ".join(str(d) for d in definitions) or "every source"
    audit.add(session, actor, audit.CAMPAIGN_SOURCES, f"{campaign.slug}: {written}")
    session.commit()
    return True

"""A campaign's words in other languages than its own: list, store, remove. No Flask here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Campaign, CampaignCopy, utcnow
from .validation import CampaignError, check_copy


def list_copies(session: Session, campaign: Campaign) -> list[CampaignCopy]:
    """The campaign's stored translations, by language."""
    return list(
        session.scalars(
            select(CampaignCopy)
            .where(CampaignCopy.campaign_id == campaign.id)
            .order_by(CampaignCopy.locale)
        )
    )


def check_translation(own_locale: str, locale: str, words: dict[str, str]) -> None:
    """set_copy's rules, writing nothing, for a campaign whose own language is ``own_locale``
    (the one it is about to have, when a form changes it)."""
    if locale == own_locale:
        raise CampaignError("locale", "the campaign's own language is edited on the campaign")
    check_copy(locale, **words)


def _stored(session: Session, campaign: Campaign, locale: str) -> CampaignCopy | None:
    return session.scalar(
        select(CampaignCopy).where(
            CampaignCopy.campaign_id == campaign.id, CampaignCopy.locale == locale
        )
    )


def remove_copy(session: Session, campaign: Campaign, locale: str) -> None:
    """Remove a translation in the caller's transaction, if one is stored."""
    copy = _stored(session, campaign, locale)
    if copy is not None:
        session.delete(copy)


def put_copy(
    session: Session, campaign: Campaign, locale: str, words: dict[str, str]
) -> CampaignCopy | None:
    """Store checked words in the caller's transaction; all three empty removes them."""
    if not any(words.values()):
        remove_copy(session, campaign, locale)
        return None
    copy = _stored(session, campaign, locale)
    if copy is None:
        copy = CampaignCopy(campaign_id=campaign.id, locale=locale)
        session.add(copy)
    copy.headline, copy.message, copy.cta_label = (
        words["headline"],
        words["message"],
        words["cta_label"],
    )
    return copy


def set_copy(
    session: Session,
    campaign: Campaign,
    locale: str,
    *,
    headline: str,
    message: str,
    cta_label: str,
) -> CampaignCopy | None:
    """Set the campaign's words in another language and commit; all three empty removes them.

    The campaign's own locale keeps its copy on the campaign itself.
    """
    words = {"headline": headline, "message": message, "cta_label": cta_label}
    check_translation(campaign.locale, locale, words)
    copy = put_copy(session, campaign, locale, words)
    campaign.updated_at = utcnow()
    session.commit()
    return copy

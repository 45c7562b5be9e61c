"""Members added or removed by hand (offline sign-ups, a partner drive), with a reason and who
made the change. No Flask here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts import audit
from ..models import Adjustment, Campaign, utcnow
from .validation import MAX_GOAL, CampaignError

MAX_REASON = 500


def list_adjustments(session: Session, campaign: Campaign) -> list[Adjustment]:
    """The campaign's adjustments, newest first."""
    return list(
        session.scalars(
            select(Adjustment)
            .where(Adjustment.campaign_id == campaign.id)
            .order_by(Adjustment.created_at.desc(), Adjustment.id.desc())
        )
    )


def add_adjustment(
    session: Session,
    campaign: Campaign,
    delta: int,
    reason: str,
    created_by: str,
    *,
    actor: audit.Actor | None = None,
) -> Adjustment:
    """Add or remove ``delta`` members, with a reason, and commit; CampaignError before
    writing anything. With ``actor`` the audit entry is written in the same commit."""
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise CampaignError("delta", "must be a whole number other than zero")
    if abs(delta) > MAX_GOAL:
        raise CampaignError("delta", f"must be at most {MAX_GOAL:,} either way")
    reason = (reason or "").strip()
    if not reason:
        raise CampaignError("reason", "is required")
    if len(reason) > MAX_REASON:
        raise CampaignError("reason", f"must be at most {MAX_REASON} characters")
    adjustment = Adjustment(
        campaign_id=campaign.id, delta=delta, reason=reason, created_by=created_by[:100]
    )
    session.add(adjustment)
    campaign.updated_at = utcnow()
    if actor is not None:
        detail = f"{campaign.slug}: {delta:+,} ({reason})"
        audit.add(session, actor, audit.ADJUSTMENT, detail)
    session.commit()
    return adjustment

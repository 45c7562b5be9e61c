"""GET/POST /admin/campaigns/<slug>/sources: which sources, and which of their offers, count."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...campaigns import definitions
from ...campaigns.validation import CampaignError
from ...database import db
from ...ledger import offers
from ...models import Campaign, utcnow
from ...sources import OFFER_KINDS, offer_kinds
from . import audit_log, bp
from .views_common import campaign_or_404


def _render(campaign: Campaign, written: str, error: str, status: int) -> ResponseReturnValue:
    return (
        render_template(
            "admin/campaign_sources.html",
            campaign=campaign,
            written=written,
            error=error,
            seen=offers.seen(db.session, utcnow()),
            kinds=OFFER_KINDS,
        ),
        status,
    )


@bp.get("/campaigns/<slug>/sources")
def campaign_sources(slug: str) -> ResponseReturnValue:
    campaign = campaign_or_404(slug)
    written = "\n".join(str(d) for d in definitions.of(db.session, campaign))
    return _render(campaign, written, "", 200)


@bp.post("/campaigns/<slug>/sources")
def save_campaign_sources(slug: str) -> ResponseReturnValue:
    campaign = campaign_or_404(slug)
    written = request.form.get("definitions", "")
    try:
        chosen = definitions.parse(written.splitlines(), offer_kinds)
    except CampaignError as error:
        return _render(campaign, written, error.message, 422)
    actor = audit_log.current_actor()
    if definitions.save(db.session, campaign, chosen, actor):
        flash(f"{slug} now counts {'; '.join(map(str, chosen)) or 'every source'}.", "success")
    else:
        flash("Nothing changed.", "info")
    return redirect(url_for("admin.campaign_sources", slug=slug))

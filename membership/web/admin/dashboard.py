"""GET /admin/ (every campaign), /admin/campaigns/<slug> and its polled summary.json."""

from __future__ import annotations

from flask import jsonify, render_template
from flask.typing import ResponseReturnValue

from ...campaigns import settings as campaign_settings
from ...campaigns.figures import overview, projection_text
from ...database import db
from ...ledger import sources_summary
from ...models import utcnow
from . import bp, charts
from .views_common import campaign_or_404


@bp.get("/")
def index() -> ResponseReturnValue:
    now = utcnow()
    session = db.session
    overviews = [overview(session, c, now) for c in campaign_settings.list_campaigns(session)]
    return render_template(
        "admin/index.html",
        overviews=overviews,
        projection_text=projection_text,
        sources=sources_summary.summary(session, now),
    )


@bp.get("/campaigns/<slug>")
def campaign(slug: str) -> ResponseReturnValue:
    found = overview(db.session, campaign_or_404(slug), utcnow())
    return render_template(
        "admin/campaign.html",
        o=found,
        projection_text=projection_text,
        count_chart=charts.count_chart(found.series, found.campaign),
        flow_chart=charts.flow_chart(found.series),
    )


@bp.get("/campaigns/<slug>/summary.json")
def summary(slug: str) -> ResponseReturnValue:
    return jsonify(overview(db.session, campaign_or_404(slug), utcnow()).summary())

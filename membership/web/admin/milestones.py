"""GET /admin/campaigns/<slug>/milestones: each milestone, when it was crossed, its deliveries."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from ...campaigns import goals, milestone_list
from ...database import db
from . import bp
from .views_common import campaign_or_404


@bp.get("/campaigns/<slug>/milestones")
def milestones(slug: str) -> ResponseReturnValue:
    campaign = campaign_or_404(slug)
    return render_template(
        "admin/milestones.html",
        campaign=campaign,
        entries=milestone_list.entries(db.session, campaign),
        goals=goals.goals(campaign),
    )

"""GET/POST /admin/campaigns/<slug>/adjustments: add or remove members by hand, with a reason."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ...campaigns import adjustments as campaign_adjustments
from ...campaigns.validation import CampaignError
from ...database import db
from ...models import Campaign
from . import audit_log, bp
from .views_common import campaign_or_404


def _render(campaign: Campaign, form: dict[str, str], errors: dict[str, str], status: int):
    listed = campaign_adjustments.list_adjustments(db.session, campaign)
    return (
        render_template(
            "admin/adjustments.html",
            campaign=campaign,
            adjustments=listed,
            total=sum(a.delta for a in listed),
            form=form,
            errors=errors,
        ),
        status,
    )


@bp.get("/campaigns/<slug>/adjustments")
def adjustments(slug: str) -> ResponseReturnValue:
    return _render(campaign_or_404(slug), {"direction": "add"}, {}, 200)


@bp.post("/campaigns/<slug>/adjustments")
def add_adjustment(slug: str) -> ResponseReturnValue:
    campaign = campaign_or_404(slug)
    form = request.form.to_dict()
    errors: dict[str, str] = {}
    direction = form.get("direction", "add")
    if direction not in ("add", "remove"):
        errors["direction"] = "choose add or remove"
    raw = form.get("members", "").strip().replace(",", "")
    if not raw.isdigit() or int(raw) == 0:
        errors["members"] = "must be a whole number above zero"
    reason = form.get("reason", "").strip()
    if not reason:
        errors["reason"] = "is required: say where these members come from"
    if errors:
        return _render(campaign, form, errors, 422)
    delta = int(raw) if direction == "add" else -int(raw)
    try:
        made = campaign_adjustments.add_adjustment(
            db.session,
            campaign,
            delta,
            reason,
            current_user.username,
            actor=audit_log.current_actor(),
        )
    except CampaignError as exc:
        field = {"delta": "members"}.get(exc.field, exc.field)
        return _render(campaign, form, {field: exc.message}, 422)
    flash(f"{made.delta:+,} members recorded for {slug}.", "success")
    return redirect(url_for("admin.adjustments", slug=slug))

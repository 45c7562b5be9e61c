"""GET/POST /admin/campaigns/new and /admin/campaigns/<slug>/edit: settings, copy, embed code.

The form is parsed here (numbers, dates, which language is the campaign's own); the rules (goal
above zero, deadline after the start, http(s) links, lengths, the slug) are the domain's, whose
CampaignError names the field (and the language) to mark. settings.save_campaign checks
everything before it writes, and writes the campaign, its copy and the audit entry in one
commit, so a refused form stores nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...campaigns import settings
from ...campaigns.validation import COPY_FIELDS, RULES, CampaignError
from ...database import db
from ...models import Campaign
from ..embed import embed_snippets
from . import audit_log, bp
from .views_common import campaign_or_404, public_root

# The dashboard edits copy in these two languages; the campaign's own is stored on it.
LANGUAGES = {"en": "English", "uk": "Ukrainian"}
NEW_CAMPAIGN = {"rule": "active", "baseline": "0", "locale": "en"}


class FormError(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _parse(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """Settings and other-language copy from the form, or FormError with every field that is
    not a number, a date or a language the dashboard offers, or is left empty but required."""
    errors: dict[str, str] = {}

    def whole(field: str, required: bool) -> int | None:
        raw = form.get(field, "").strip().replace(",", "").replace(" ", "")
        if not raw:
            if required:
                errors[field] = "is required"
            return None
        try:
            return int(raw)
        except ValueError:
            errors[field] = "must be a whole number"
            return None

    def day(field: str) -> date | None:
        raw = form.get(field, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[field] = "must be a date (YYYY-MM-DD)"
            return None

    locale = form.get("locale", "en")
    if locale not in LANGUAGES:
        errors["locale"] = "must be English or Ukrainian"
        locale = "en"
    values: dict[str, Any] = {
        "slug": form.get("slug", "").strip(),
        "goal": whole("goal", required=True),
        # Checked and tidied by the domain ("30000, 35000" is stored as "30000,35000").
        "stretch_goals": form.get("stretch_goals", "").strip(),
        "milestones": form.get("milestones", "").strip(),
        "baseline": whole("baseline", required=False) or 0,
        "starts_on": day("starts_on"),
        "deadline": day("deadline"),
        "rule": form.get("rule", "active"),
        "title": form.get("title", "").strip(),
        "cta_url": form.get("cta_url", "").strip(),
        "locale": locale,
        **{field: form.get(f"{field}_{locale}", "").strip() for field in COPY_FIELDS},
    }
    if not values["title"]:
        errors["title"] = "is required"
    if errors:
        raise FormError(errors)
    others = {
        other: {field: form.get(f"{field}_{other}", "").strip() for field in COPY_FIELDS}
        for other in LANGUAGES
        if other != locale
    }
    return values, others


def _field_name(error: CampaignError, locale: str) -> str:
    """The form field an error is about: copy fields carry their language."""
    if error.field not in COPY_FIELDS:
        return error.field
    return f"{error.field}_{error.locale or locale}"


def _render(campaign: Campaign | None, form: dict[str, str], errors: dict[str, str], status: int):
    snippets, guessed = None, False
    if campaign is not None:
        # Never the request's Host header when PUBLIC_URL is set: this code goes into every
        # article, and a misrouted request must not put another address there.
        root, guessed = public_root()
        snippets = embed_snippets(campaign.slug, root)
    return (
        render_template(
            "admin/campaign_form.html",
            campaign=campaign,
            form=form,
            errors=errors,
            languages=LANGUAGES,
            rules=RULES,
            snippets=snippets,
            address_guessed=guessed,
            preview_version=int(campaign.updated_at.timestamp()) if campaign else 0,
        ),
        status,
    )


def _save(campaign: Campaign | None, form: dict[str, str]) -> Campaign:
    """Save the form as a new campaign or onto ``campaign``; FormError marks what was refused."""
    values, others = _parse(form)
    slug = None
    if campaign is not None:
        slug = campaign.slug
        del values["slug"]  # the slug is the public address: it does not change here
    try:
        return settings.save_campaign(db.session, slug, values, others, audit_log.current_actor())
    except CampaignError as exc:
        raise FormError({_field_name(exc, values["locale"]): exc.message}) from None


@bp.route("/campaigns/new", methods=["GET", "POST"])
def new_campaign() -> ResponseReturnValue:
    if request.method == "GET":
        return _render(None, dict(NEW_CAMPAIGN), {}, 200)
    form = request.form.to_dict()
    try:
        created = _save(None, form)
    except FormError as exc:
        return _render(None, form, exc.errors, 422)
    flash(f"Campaign {created.slug} created.", "success")
    return redirect(url_for("admin.edit_campaign", slug=created.slug))


@bp.route("/campaigns/<slug>/edit", methods=["GET", "POST"])
def edit_campaign(slug: str) -> ResponseReturnValue:
    campaign = campaign_or_404(slug)
    if request.method == "GET":
        return _render(campaign, settings.as_text(db.session, campaign), {}, 200)
    form = {**request.form.to_dict(), "slug": campaign.slug}
    try:
        _save(campaign, form)
    except FormError as exc:
        return _render(campaign_or_404(slug), form, exc.errors, 422)
    flash("Settings saved.", "success")
    return redirect(url_for("admin.edit_campaign", slug=slug))

"""GET/POST /admin/campaigns/new and /admin/campaigns/<slug>/edit: settings, copy, embed code.

The form is parsed here (numbers, dates); the rules (goal above zero, deadline after the start,
http(s) links, lengths) are campaigns.py's, whose CampaignError names the field to mark. All
checks run before anything is written, so a refused form stores nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import delete, select

from ...campaigns import settings as settings
from ...database import db
from ...models import Campaign, CampaignCopy
from ..embed import embed_snippets
from . import audit_log, bp
from .views_common import campaign_or_404, public_root

# The dashboard edits copy in these two languages; the campaign's own is stored on it.
LANGUAGES = {"en": "English", "uk": "Ukrainian"}
COPY_FIELDS = ("headline", "message", "cta_label")


class FormError(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _form_from(campaign: Campaign | None) -> dict[str, str]:
    """The form's values for an existing campaign (or the defaults for a new one)."""
    if campaign is None:
        return {"rule": "active", "baseline": "0", "locale": "en"}
    values = {
        "slug": campaign.slug,
        "title": campaign.title,
        "goal": str(campaign.goal),
        "starts_on": campaign.starts_on.isoformat() if campaign.starts_on else "",
        "deadline": campaign.deadline.isoformat() if campaign.deadline else "",
        "rule": campaign.rule,
        "baseline": str(campaign.baseline),
        "cta_url": campaign.cta_url,
        "locale": campaign.locale,
    }
    for field in COPY_FIELDS:
        values[f"{field}_{campaign.locale}"] = getattr(campaign, field)
    for copy in db.session.scalars(
        select(CampaignCopy).where(CampaignCopy.campaign_id == campaign.id)
    ):
        for field in COPY_FIELDS:
            values[f"{field}_{copy.locale}"] = getattr(copy, field)
    return values


def _parse(form: dict[str, str], creating: bool) -> tuple[dict[str, Any], dict[str, dict]]:
    """Settings and other-language copy from the form, or FormError with every problem."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

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

    values["goal"] = whole("goal", required=True)
    values["baseline"] = whole("baseline", required=False) or 0
    values["starts_on"] = day("starts_on")
    values["deadline"] = day("deadline")
    values["rule"] = form.get("rule", "active")
    values["title"] = form.get("title", "").strip()
    if not values["title"]:
        errors["title"] = "is required"
    values["cta_url"] = form.get("cta_url", "").strip()
    locale = form.get("locale", "en")
    if locale not in LANGUAGES:
        errors["locale"] = "must be English or Ukrainian"
        locale = "en"
    values["locale"] = locale
    for field in COPY_FIELDS:
        values[field] = form.get(f"{field}_{locale}", "").strip()
    others: dict[str, dict] = {}
    for other in LANGUAGES:
        if other == locale:
            continue
        others[other] = {f: form.get(f"{f}_{other}", "").strip() for f in COPY_FIELDS}
        # Checked before the campaign is saved, so a refused translation stores nothing.
        try:
            settings.check_copy(other, **others[other])
        except settings.CampaignError as error:
            errors[f"{error.field}_{other}"] = error.message
    # The campaign's own copy is checked by campaigns.py; report it under the form's name.
    for field in COPY_FIELDS:
        limit = settings.TEXT_LIMITS[field]
        if len(values[field]) > limit:
            errors[f"{field}_{locale}"] = f"must be at most {limit} characters"
    if creating:
        values["slug"] = form.get("slug", "").strip()
        if not settings.SLUG.fullmatch(values["slug"]):
            errors["slug"] = "must be 1-64 lowercase letters, digits and dashes"
    if errors:
        raise FormError(errors)
    return values, others


def _field_name(error: settings.CampaignError, locale: str) -> str:
    if error.field not in COPY_FIELDS:
        return error.field
    return f"{error.field}_{error.locale or locale}"


def _save_copy(campaign: Campaign, others: dict[str, dict]) -> None:
    session = db.session
    # If the campaign's language changed, a stored translation in its new language is stale.
    session.execute(
        delete(CampaignCopy).where(
            CampaignCopy.campaign_id == campaign.id, CampaignCopy.locale == campaign.locale
        )
    )
    for locale, copy in others.items():
        settings.set_copy(session, campaign, locale, **copy)


def _changes(before: dict[str, str], after: dict[str, str]) -> str:
    changed = sorted(k for k in set(before) | set(after) if before.get(k, "") != after.get(k, ""))
    return ", ".join(changed) or "nothing"


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
            rules=settings.RULES,
            snippets=snippets,
            address_guessed=guessed,
            preview_version=int(campaign.updated_at.timestamp()) if campaign else 0,
        ),
        status,
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
def new_campaign() -> ResponseReturnValue:
    if request.method == "GET":
        return _render(None, _form_from(None), {}, 200)
    form = request.form.to_dict()
    try:
        values, others = _parse(form, creating=True)
        slug = values.pop("slug")
        goal = values.pop("goal")
        created = settings.create_campaign(db.session, slug, goal, **values)
        _save_copy(created, others)
    except FormError as exc:
        db.session.rollback()
        return _render(None, form, exc.errors, 422)
    except settings.CampaignError as exc:
        db.session.rollback()
        return _render(None, form, {_field_name(exc, form.get("locale", "en")): exc.message}, 422)
    audit_log.record(audit_log.CAMPAIGN_CREATED, f"{created.slug}: goal {created.goal:,}")
    flash(f"Campaign {created.slug} created.", "success")
    return redirect(url_for("admin.edit_campaign", slug=created.slug))


@bp.route("/campaigns/<slug>/edit", methods=["GET", "POST"])
def edit_campaign(slug: str) -> ResponseReturnValue:
    campaign = campaign_or_404(slug)
    if request.method == "GET":
        return _render(campaign, _form_from(campaign), {}, 200)
    before = _form_from(campaign)
    form = request.form.to_dict()
    form["slug"] = campaign.slug  # the slug is the public address: it does not change here
    try:
        values, others = _parse(form, creating=False)
        clear_start = values["starts_on"] is None
        clear_deadline = values["deadline"] is None
        updated = settings.update_campaign(
            db.session,
            campaign.slug,
            clear_start=clear_start,
            clear_deadline=clear_deadline,
            **values,
        )
        _save_copy(updated, others)
    except FormError as exc:
        db.session.rollback()
        return _render(campaign_or_404(slug), form, exc.errors, 422)
    except settings.CampaignError as exc:
        db.session.rollback()
        errors = {_field_name(exc, form.get("locale", "en")): exc.message}
        return _render(campaign_or_404(slug), form, errors, 422)
    audit_log.record(
        audit_log.CAMPAIGN_UPDATED, f"{slug}: changed {_changes(before, _form_from(updated))}"
    )
    flash("Settings saved.", "success")
    return redirect(url_for("admin.edit_campaign", slug=slug))

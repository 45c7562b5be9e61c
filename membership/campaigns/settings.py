"""Campaign settings: find, create and change campaigns, and save the admin form's campaign,
copy and audit entry in one transaction. No Flask here.

What a setting may hold is validation.py's; the words in other languages are copy.py's and
manual adjustments adjustments.py's (add_adjustment, check_copy and set_copy are importable from
here too, as the CLI and older callers do).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts import audit
from ..models import Campaign, utcnow
from .adjustments import add_adjustment
from .copy import check_translation, list_copies, put_copy, remove_copy, set_copy
from .milestones import labels, settle
from .validation import (
    COPY_FIELDS,
    FIELDS,
    MAX_GOAL,
    RULES,
    SLUG,
    TEXT_LIMITS,
    CampaignError,
    check_copy,
    check_fields,
    check_goals,
    check_slug,
    check_window,
    milestones,
    printable,
    stretch_goals,
    validate,
)

__all__ = [
    "COPY_FIELDS",
    "FIELDS",
    "MAX_GOAL",
    "RULES",
    "SLUG",
    "TEXT_LIMITS",
    "CampaignError",
    "Demo",
    "add_adjustment",
    "as_text",
    "check_copy",
    "create_campaign",
    "ensure_demo",
    "get_campaign",
    "list_campaigns",
    "printable",
    "save_campaign",
    "set_copy",
    "update_campaign",
]


@dataclass(frozen=True)
class Demo:
    slug: str = "members"
    title: str = "Membership drive {year}"
    goal: int = 25_000
    headline: str = "Quality journalism takes work — and a community that cares."
    # The message names the year of the deadline; see ensure_demo.
    message: str = "Help us reach 25,000 members by the end of {year}."
    cta_label: str = "Become a member"
    cta_url: str = "https://example.org/join"


def get_campaign(session: Session, slug: str) -> Campaign | None:
    return session.scalar(select(Campaign).where(Campaign.slug == slug))


def list_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.slug)))


def _existing(session: Session, slug: str) -> Campaign:
    campaign = get_campaign(session, slug)
    if campaign is None:
        raise CampaignError("slug", f"no campaign called {slug!r}")
    return campaign


def _tidy(values: dict[str, Any]) -> dict[str, Any]:
    """The values without those left unset (None); a pasted link loses its surrounding spaces,
    which would otherwise hide the button."""
    values = {k: v for k, v in values.items() if v is not None}
    if isinstance(values.get("cta_url"), str):
        values["cta_url"] = values["cta_url"].strip()
    return values


def _goals(values: dict[str, Any], goal: int, stretch: str) -> None:
    """Store stretch goals and milestones in one spelling ("30000,35000", "10%,10000"), and
    check the stretch goals against the goal they follow; ``goal`` and ``stretch`` are the
    settings before this change (both may change at once)."""
    if "stretch_goals" in values:
        values["stretch_goals"] = ",".join(map(str, stretch_goals(values["stretch_goals"])))
    if "milestones" in values:
        values["milestones"] = ",".join(milestones(values["milestones"]))
    check_goals(values.get("goal", goal), stretch_goals(values.get("stretch_goals", stretch)))


def _new(session: Session, slug: str, goal: int | None, values: dict[str, Any]) -> Campaign:
    """A checked campaign, not yet added to the session; CampaignError if anything is refused."""
    check_slug(slug)
    check_fields(values)
    values = _tidy(values)
    values.setdefault("title", slug)
    if goal is None:
        raise CampaignError("goal", "is required")
    validate({"goal": goal, **values})
    _goals(values, goal, "")
    if get_campaign(session, slug) is not None:
        raise CampaignError("slug", f"a campaign called {slug!r} already exists")
    check_window(values.get("starts_on"), values.get("deadline"))
    return Campaign(
        slug=slug,
        goal=goal,
        rule=values.pop("rule", "active"),
        baseline=values.pop("baseline", 0),
        locale=values.pop("locale", "en"),
        **{field: values.pop(field, "") for field in (*COPY_FIELDS, "cta_url")},
        **values,
    )


def _changes(
    campaign: Campaign, values: dict[str, Any], clear_start: bool, clear_deadline: bool
) -> dict[str, Any]:
    """The checked settings to set on ``campaign``; CampaignError before any is set."""
    check_fields(values)
    values = _tidy(values)
    validate(values)
    _goals(values, campaign.goal, campaign.stretch_goals)
    if clear_start:
        values["starts_on"] = None
    if clear_deadline:
        values["deadline"] = None
    check_window(
        values.get("starts_on", campaign.starts_on), values.get("deadline", campaign.deadline)
    )
    return values


def _apply(campaign: Campaign, changes: dict[str, Any]) -> None:
    for field, value in changes.items():
        setattr(campaign, field, value)
    campaign.updated_at = utcnow()


def create_campaign(session: Session, slug: str, goal: int, **values: Any) -> Campaign:
    """Create and commit a campaign; raise CampaignError before writing anything."""
    campaign = _new(session, slug, goal, values)
    session.add(campaign)
    session.flush()
    settle(session, campaign, (), utcnow())
    session.commit()
    return campaign


def update_campaign(
    session: Session,
    slug: str,
    *,
    clear_start: bool = False,
    clear_deadline: bool = False,
    **values: Any,
) -> Campaign:
    """Change the given settings in one commit, or none if any is invalid.

    ``None`` leaves a setting as it is; ``clear_start``/``clear_deadline`` remove a date.
    """
    campaign = _existing(session, slug)
    changes = _changes(campaign, values, clear_start, clear_deadline)
    before = labels(campaign)
    _apply(campaign, changes)
    session.flush()
    settle(session, campaign, before, utcnow())
    session.commit()
    return campaign


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def as_text(session: Session, campaign: Campaign) -> dict[str, str]:
    """Every setting as text, each language's words as ``field_locale``: what the admin form
    shows, and what a save compares to say in the audit log what it changed."""
    values = {"slug": campaign.slug}
    for field in FIELDS:
        if field not in COPY_FIELDS:
            values[field] = _text(getattr(campaign, field))
    for field in COPY_FIELDS:
        values[f"{field}_{campaign.locale}"] = getattr(campaign, field)
    for copy in list_copies(session, campaign):
        for field in COPY_FIELDS:
            values[f"{field}_{copy.locale}"] = getattr(copy, field)
    return values


def _changed(before: dict[str, str], after: dict[str, str]) -> str:
    changed = sorted(k for k in set(before) | set(after) if before.get(k, "") != after.get(k, ""))
    return ", ".join(changed) or "nothing"


def save_campaign(
    session: Session,
    slug: str | None,
    values: dict[str, Any],
    copies: dict[str, dict[str, str]],
    actor: audit.Actor,
) -> Campaign:
    """Create a campaign (``slug`` None: ``values`` holds its slug) or change campaign ``slug``,
    with its words in other languages and the audit entry, in one commit.

    ``values`` are the form's settings, all of them: a date left out (None) is no date.
    ``copies`` maps another language to its headline, message and cta_label; all three empty
    removes it. Everything is checked before anything is written, so a CampaignError (naming
    the field, and the language for copy) leaves the campaign as it was.
    """
    values = dict(values)
    try:
        if slug is None:
            campaign = _new(session, values.pop("slug", None), values.pop("goal", None), values)
            changes, before = {}, None
        else:
            campaign = _existing(session, slug)
            no_start, no_deadline = values.get("starts_on") is None, values.get("deadline") is None
            changes = _changes(campaign, values, no_start, no_deadline)
            before = as_text(session, campaign)
        own_locale = changes.get("locale", campaign.locale)
        for locale, words in copies.items():
            check_translation(own_locale, locale, words)
    except CampaignError:
        session.rollback()
        raise
    marks_before = labels(campaign) if before is not None else set()
    if before is None:
        session.add(campaign)
    else:
        _apply(campaign, changes)
    session.flush()  # a new campaign's id, for its copy
    settle(session, campaign, marks_before, utcnow())
    # A translation in the campaign's own language is stale: those words are on the campaign.
    remove_copy(session, campaign, campaign.locale)
    for locale, words in copies.items():
        put_copy(session, campaign, locale, words)
    if before is None:
        detail = f"{campaign.slug}: goal {campaign.goal:,}"
        audit.add(session, actor, audit.CAMPAIGN_CREATED, detail)
    else:
        session.flush()
        detail = f"{campaign.slug}: changed {_changed(before, as_text(session, campaign))}"
        audit.add(session, actor, audit.CAMPAIGN_UPDATED, detail)
    session.commit()
    return campaign


def ensure_demo(session: Session) -> Campaign:
    """The demo campaign `make run` shows; created once, left alone after."""
    demo = Demo()
    campaign = get_campaign(session, demo.slug)
    if campaign is not None:
        return campaign
    # A drive running this calendar year, so the demo shows a live bar whatever the date.
    year = utcnow().year
    return create_campaign(
        session,
        demo.slug,
        demo.goal,
        title=demo.title.format(year=year),
        starts_on=date(year, 1, 1),
        deadline=date(year, 12, 31),
        headline=demo.headline,
        message=demo.message.format(year=year),
        cta_label=demo.cta_label,
        cta_url=demo.cta_url,
        locale="en",
    )

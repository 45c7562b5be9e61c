"""Campaign settings and manual adjustments: validation and storage. No Flask here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Adjustment, Campaign, CampaignCopy, utcnow

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
LOCALE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
RULES = ("active", "new")
# Display copy and its length limits, which match the columns.
TEXT_LIMITS = {
    "title": 200,
    "headline": 200,
    "message": 500,
    "cta_label": 80,
    "cta_url": 500,
    "locale": 16,
}
FIELDS = ("goal", "starts_on", "deadline", "rule", "baseline", *TEXT_LIMITS)
MAX_GOAL = 1_000_000_000
# Characters no campaign text may hold: the badge is XML, and XML 1.0 forbids the C0 controls
# other than tab, LF and CR, lone surrogates and U+FFFE/U+FFFF (one of them and newsletters show
# a broken image). DEL and the C1 controls are legal XML but never meant in copy.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Only the message is typed in a textarea; every surface shows the other fields on one line.
LINE_BREAK = re.compile(r"[\t\n\r]")
MULTI_LINE = ("message",)


class CampaignError(ValueError):
    """A setting is invalid; ``field`` names it for forms and the CLI, ``locale`` the
    translation it belongs to (None for the campaign's own settings)."""

    def __init__(self, field: str, message: str, locale: str | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.locale = locale


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


def printable(text: str) -> str:
    """``text`` without the characters refused in every field, for rows stored before that
    rule: the badge, the embed page and the progress JSON show campaign text through this."""
    return CONTROL.sub("", text)


def _check_characters(field: str, text: str) -> None:
    found = CONTROL.search(text)
    if found:
        code = f"U+{ord(found.group()):04X}"
        raise CampaignError(field, f"must not contain invisible control characters ({code})")
    found = LINE_BREAK.search(text) if field not in MULTI_LINE else None
    if found:
        code = f"U+{ord(found.group()):04X}"
        raise CampaignError(field, f"must be one line, without tabs or line breaks ({code})")


def _whole(value: Any) -> bool:
    # bool is an int in Python; True is not a number of members.
    return isinstance(value, int) and not isinstance(value, bool)


def _validate(values: dict[str, Any]) -> None:
    goal = values.get("goal")
    if goal is not None and (not _whole(goal) or goal <= 0):
        raise CampaignError("goal", "must be a whole number above zero")
    if goal is not None and goal > MAX_GOAL:
        raise CampaignError("goal", f"must be at most {MAX_GOAL:,}")
    baseline = values.get("baseline")
    if baseline is not None and (not _whole(baseline) or not 0 <= baseline <= MAX_GOAL):
        raise CampaignError("baseline", f"must be a whole number from 0 to {MAX_GOAL:,}")
    rule = values.get("rule")
    if rule is not None and rule not in RULES:
        raise CampaignError("rule", "must be 'active' or 'new'")
    for field in ("starts_on", "deadline"):
        if values.get(field) is not None and not isinstance(values[field], date):
            raise CampaignError(field, "must be a date (YYYY-MM-DD)")
    for field, limit in TEXT_LIMITS.items():
        text = values.get(field)
        if text is None:
            continue
        if not isinstance(text, str):
            raise CampaignError(field, "must be text")
        _check_characters(field, text)
        if len(text) > limit:
            raise CampaignError(field, f"must be at most {limit} characters")
    title = values.get("title")
    if title is not None and not title.strip():
        raise CampaignError("title", "must not be empty")
    url = values.get("cta_url")
    if url and any(char.isspace() for char in url):
        raise CampaignError("cta_url", "must not contain spaces (write a space as %20)")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CampaignError("cta_url", "must be an http:// or https:// address")
    locale = values.get("locale")
    if locale is not None and not LOCALE.fullmatch(locale):
        raise CampaignError("locale", "must be a language tag such as 'en' or 'uk'")


def _tidy(values: dict[str, Any]) -> dict[str, Any]:
    """The values without those left unset (None); a pasted link loses its surrounding spaces,
    which would otherwise hide the button."""
    values = {k: v for k, v in values.items() if v is not None}
    if isinstance(values.get("cta_url"), str):
        values["cta_url"] = values["cta_url"].strip()
    return values


def _check_window(campaign: Campaign) -> None:
    if campaign.starts_on and campaign.deadline and campaign.deadline < campaign.starts_on:
        raise CampaignError("deadline", "must not be before the start")


def create_campaign(session: Session, slug: str, goal: int, **values: Any) -> Campaign:
    """Create and commit a campaign; raise CampaignError before writing anything."""
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        raise CampaignError(
            "slug", "must be 1-64 lowercase letters, digits and dashes, not starting with a dash"
        )
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {', '.join(sorted(unknown))}")
    values = _tidy(values)
    values.setdefault("title", slug)
    if goal is None:
        raise CampaignError("goal", "is required")
    _validate({"goal": goal, **values})
    if get_campaign(session, slug) is not None:
        raise CampaignError("slug", f"a campaign called {slug!r} already exists")
    campaign = Campaign(
        slug=slug,
        goal=goal,
        rule=values.pop("rule", "active"),
        baseline=values.pop("baseline", 0),
        locale=values.pop("locale", "en"),
        **{
            field: values.pop(field, "")
            for field in ("headline", "message", "cta_label", "cta_url")
        },
        **values,
    )
    _check_window(campaign)
    session.add(campaign)
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
    campaign = get_campaign(session, slug)
    if campaign is None:
        raise CampaignError("slug", f"no campaign called {slug!r}")
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {', '.join(sorted(unknown))}")
    values = _tidy(values)
    _validate(values)
    if clear_start:
        values["starts_on"] = None
    if clear_deadline:
        values["deadline"] = None
    try:
        for field, value in values.items():
            setattr(campaign, field, value)
        _check_window(campaign)
    except CampaignError:
        session.rollback()
        raise
    campaign.updated_at = utcnow()
    session.commit()
    return campaign


def check_copy(locale: str, *, headline: str, message: str, cta_label: str) -> None:
    """set_copy's rules without writing, so a form can check every language before it saves."""
    try:
        _validate(
            {"locale": locale, "headline": headline, "message": message, "cta_label": cta_label}
        )
    except CampaignError as error:
        raise CampaignError(error.field, error.message, locale=locale) from None


def set_copy(
    session: Session,
    campaign: Campaign,
    locale: str,
    *,
    headline: str,
    message: str,
    cta_label: str,
) -> CampaignCopy | None:
    """Set the campaign's words in another language; all three empty removes them.

    The campaign's own locale keeps its copy on the campaign itself.
    """
    if locale == campaign.locale:
        raise CampaignError("locale", "the campaign's own language is edited on the campaign")
    check_copy(locale, headline=headline, message=message, cta_label=cta_label)
    copy = session.scalar(
        select(CampaignCopy).where(
            CampaignCopy.campaign_id == campaign.id, CampaignCopy.locale == locale
        )
    )
    if not (headline or message or cta_label):
        if copy is not None:
            session.delete(copy)
        copy = None
    else:
        if copy is None:
            copy = CampaignCopy(campaign_id=campaign.id, locale=locale)
            session.add(copy)
        copy.headline, copy.message, copy.cta_label = headline, message, cta_label
    campaign.updated_at = utcnow()
    session.commit()
    return copy


def add_adjustment(
    session: Session, campaign: Campaign, delta: int, reason: str, created_by: str
) -> Adjustment:
    """Add or remove members by hand (offline sign-ups, a partner drive), with a reason."""
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise CampaignError("delta", "must be a whole number other than zero")
    if abs(delta) > MAX_GOAL:
        raise CampaignError("delta", f"must be at most {MAX_GOAL:,} either way")
    reason = (reason or "").strip()
    if not reason:
        raise CampaignError("reason", "is required")
    if len(reason) > 500:
        raise CampaignError("reason", "must be at most 500 characters")
    adjustment = Adjustment(
        campaign_id=campaign.id, delta=delta, reason=reason, created_by=created_by[:100]
    )
    session.add(adjustment)
    campaign.updated_at = utcnow()
    session.commit()
    return adjustment


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

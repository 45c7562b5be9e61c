"""What a campaign's settings and copy may hold: the one place they are checked. No Flask here."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

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
FIELDS = (
    "goal",
    "stretch_goals",
    "milestones",
    "starts_on",
    "deadline",
    "rule",
    "baseline",
    *TEXT_LIMITS,
)
# The words a campaign shows, in its own language or in another.
COPY_FIELDS = ("headline", "message", "cta_label")
MAX_GOAL = 1_000_000_000
# More would crowd the bar and the newsroom's channels; no drive needs them.
MAX_STRETCH_GOALS = 10
MAX_MILESTONES = 20
MAX_PERCENT = 1000
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


def printable(text: str) -> str:
    """``text`` without the characters refused in every field, for rows stored before that
    rule: the badge, the embed page and the progress JSON show campaign text through this."""
    return CONTROL.sub("", text)


def check_slug(slug: Any) -> None:
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        raise CampaignError(
            "slug", "must be 1-64 lowercase letters, digits and dashes, not starting with a dash"
        )


def check_fields(values: dict[str, Any]) -> None:
    """Refuse a name that is not a setting: a programming mistake, not a user's."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {', '.join(sorted(unknown))}")


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


def validate(values: dict[str, Any]) -> None:
    """Check the given settings (a setting left out is not checked); CampaignError names the
    first that is refused."""
    goal = values.get("goal")
    if goal is not None and (not _whole(goal) or goal <= 0):
        raise CampaignError("goal", "must be a whole number above zero")
    if goal is not None and goal > MAX_GOAL:
        raise CampaignError("goal", f"must be at most {MAX_GOAL:,}")
    baseline = values.get("baseline")
    if baseline is not None and (not _whole(baseline) or not 0 <= baseline <= MAX_GOAL):
        raise CampaignError("baseline", f"must be a whole number from 0 to {MAX_GOAL:,}")
    for field in ("stretch_goals", "milestones"):
        if values.get(field) is not None and not isinstance(values[field], str):
            raise CampaignError(field, "must be text")
    if values.get("stretch_goals") is not None:
        stretch_goals(values["stretch_goals"])
    if values.get("milestones") is not None:
        milestones(values["milestones"])
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


def _items(text: str) -> list[str]:
    """The comma-separated items of a setting; spaces around them do not matter."""
    if not text.strip():
        return []
    return [item.strip() for item in text.split(",")]


def _number(field: str, item: str, what: str) -> int:
    # Digits only: "3e4" or "+5" are typing slips. A thousands separator splits a number into
    # items, the second starting with 0 ("30,000" is "30" and "000"): say so.
    if not item.isascii() or not item.isdigit():
        raise CampaignError(field, f"{item!r} is not {what}")
    if len(item) > 1 and item.startswith("0"):
        raise CampaignError(
            field, f"{item!r} is not {what}; commas separate items (write 30000, not 30,000)"
        )
    return int(item)


def stretch_goals(text: str) -> list[int]:
    """The stretch goals in ``text`` ("30000, 35000"), checked on their own: whole numbers
    above zero, each above the one before. check_goals compares them with the goal."""
    goals = []
    for item in _items(text):
        goal = _number("stretch_goals", item, "a whole number above zero")
        if not 0 < goal <= MAX_GOAL:
            raise CampaignError("stretch_goals", f"must each be from 1 to {MAX_GOAL:,}")
        if goals and goal <= goals[-1]:
            raise CampaignError("stretch_goals", f"must go up: {goal:,} comes after {goals[-1]:,}")
        goals.append(goal)
    if len(goals) > MAX_STRETCH_GOALS:
        raise CampaignError("stretch_goals", f"may be at most {MAX_STRETCH_GOALS}")
    return goals


def check_goals(goal: int, stretch: list[int]) -> None:
    if stretch and stretch[0] <= goal:
        raise CampaignError(
            "stretch_goals", f"must each be above the goal ({goal:,}); {stretch[0]:,} is not"
        )


def milestones(text: str) -> list[str]:
    """The milestones in ``text`` ("10%, 50%, 10000"), as labels: a percentage of the first
    goal (1% to 1000%, whole) or a count of members (above zero). The goals are milestones
    without being named here."""
    labels: list[str] = []
    for item in _items(text):
        if item.endswith("%"):
            share = _number("milestones", item[:-1].strip(), "a whole percentage like 50%")
            if not 1 <= share <= MAX_PERCENT:
                raise CampaignError("milestones", f"{item}: a percentage must be 1% to 1000%")
            label = f"{share}%"
        else:
            count = _number("milestones", item, "a count like 10000 or a percentage like 50%")
            if not 0 < count <= MAX_GOAL:
                raise CampaignError("milestones", f"{item}: a count must be 1 to {MAX_GOAL:,}")
            label = str(count)
        if label in labels:
            raise CampaignError("milestones", f"{label} is named twice")
        labels.append(label)
    if len(labels) > MAX_MILESTONES:
        raise CampaignError("milestones", f"may be at most {MAX_MILESTONES}")
    return labels


def check_window(starts_on: date | None, deadline: date | None) -> None:
    if starts_on and deadline and deadline < starts_on:
        raise CampaignError("deadline", "must not be before the start")


def check_copy(locale: str, *, headline: str, message: str, cta_label: str) -> None:
    """The rules for a campaign's words in another language, checked before anything is
    written; CampaignError names the field and the language."""
    try:
        validate(
            {"locale": locale, "headline": headline, "message": message, "cta_label": cta_label}
        )
    except CampaignError as error:
        raise CampaignError(error.field, error.message, locale=locale) from None

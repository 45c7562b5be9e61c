"""Server-side numbers, plurals and copy for the embed page and the badge, in English and Ukrainian.

The iframe page and the SVG badge must read exactly like the widget, which formats in the reader's
browser with Intl.NumberFormat and Intl.PluralRules. So this module follows what Chromium produces
(CLDR data): English groups thousands with "," ("12,345"); Ukrainian groups with U+00A0 NO-BREAK
SPACE from four digits up ("1 234", "12 345") and uses "," as the decimal mark. The browser tests
compare these functions with Chromium's Intl on the same numbers.

COPY is the only copy of these words: the public API sends it as `words` (membership/progress.py),
and the widget says its count line, plurals and messages (reached, ended, the next stretch goal,
past the last goal) with it. widget.src.js keeps only COPY["en"]["label"], the bar's name while it
loads (tests/test_i18n.py checks both). Adding a language here adds it to the widget too.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

LANGUAGES = ("en", "uk")
DEFAULT_LANGUAGE = "en"
NBSP = "\u00a0"

_SEPARATORS = {"en": (",", "."), "uk": (NBSP, ",")}  # (group, decimal)

COPY: dict[str, dict[str, Any]] = {
    "en": {
        "of": "out of",
        "label": "Membership drive",
        "members": {"one": "member", "other": "members"},
        "reached": "Goal reached — thank you!",
        "ended": "This drive has ended. Thank you!",
        # A goal is reached and a stretch goal is the target: {reached} and {goal} are numbers.
        "next": "Goal of {reached} reached! Next: {goal}",
        # The count is past the last goal by {extra}.
        "past": "{extra} past the goal — thank you!",
    },
    "uk": {
        "of": "з",
        "label": "Членська кампанія",
        "members": {"one": "учасник", "few": "учасники", "many": "учасників", "other": "учасника"},
        "reached": "Мету досягнуто — дякуємо!",
        "ended": "Кампанію завершено. Дякуємо!",
        "next": "Мету в {reached} досягнуто! Наступна мета — {goal}",
        "past": "На {extra} понад мету — дякуємо!",
    },
}


def pick_language(*candidates: str | None) -> str:
    """The first candidate whose primary subtag we ship copy for ("uk-UA" -> "uk"), else English.

    Callers pass them in precedence order (for the embed page: ?lang=, then the campaign's locale).
    """
    for tag in candidates:
        primary = (tag or "").split("-")[0].split("_")[0].strip().lower()
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def format_number(value: int | float, lang: str, max_fraction_digits: int = 0) -> str:
    """Like `new Intl.NumberFormat(lang, {maximumFractionDigits}).format(value)` in Chromium."""
    group, decimal = _SEPARATORS.get(lang, _SEPARATORS[DEFAULT_LANGUAGE])
    # Round half away from zero, as Intl does, on the decimal value rather than the binary float.
    quantum = Decimal(1).scaleb(-max_fraction_digits)
    rounded = Decimal(str(abs(value))).quantize(quantum, rounding=ROUND_HALF_UP)
    whole, _, fraction = str(rounded).partition(".")
    fraction = fraction.rstrip("0")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    sign = "-" if value < 0 and rounded else ""
    return sign + group.join(groups) + (decimal + fraction if fraction else "")


def plural_category(count: int | float, lang: str) -> str:
    """CLDR cardinal plural category, like `new Intl.PluralRules(lang).select(count)`."""
    is_integer = float(count).is_integer()
    n = abs(int(count)) if is_integer else None
    if lang == "uk":
        if n is None:
            return "other"
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"


def members(count: int, lang: str) -> str:
    """ "12,345 members" / "12 345 учасників"."""
    words = COPY[lang]["members"]
    return f"{format_number(count, lang)} {words[plural_category(count, lang)]}"


def out_of(count: int, goal: int, lang: str) -> str:
    """ "12,345 out of 25,000" / "12 345 з 25 000": the widget's count line."""
    return f"{format_number(count, lang)} {COPY[lang]['of']} {format_number(goal, lang)}"


def value_text(count: int, goal: int, lang: str) -> str:
    """The progress bar's aria-valuetext: "12,345 members out of 25,000"."""
    return f"{members(count, lang)} {COPY[lang]['of']} {format_number(goal, lang)}"


def say(text: str, lang: str, **numbers: int) -> str:
    """COPY text with its {name} placeholders filled with numbers formatted for `lang`."""
    return re.sub(r"\{(\w+)\}", lambda m: format_number(numbers[m.group(1)], lang), text)


def reached_goal(progress: dict[str, Any]) -> int | None:
    """The goal last reached while a stretch goal is the target (and not met yet), by the
    widget's rule: the last of `goals` below the current `goal`. Every goal below the target
    has been met, even before its crossing is recorded (its `reached_at` may still be null).
    Figures without `goals` (an older server, a last good copy from before stretch goals) have
    one goal: None."""
    goal = progress.get("goal") or 0
    if (progress.get("count") or 0) >= goal:
        return None  # the target is met: it is the last goal, and "reached" says so
    below = [g["goal"] for g in progress.get("goals") or () if g["goal"] < goal]
    return below[-1] if below else None


def is_past_goal(progress: dict[str, Any]) -> bool:
    """Past the last goal: `goal` is the last one once all are reached, so any count above it."""
    goal = progress.get("goal") or 0
    return 0 < goal < (progress.get("count") or 0)


def status_message(progress: dict[str, Any], lang: str) -> str:
    """The line under the bar: the campaign's message, or our own copy once a goal is reached
    (how far past the last one, or which stretch goal is next) or the drive has ended."""
    status = progress.get("status")
    copy = COPY[lang]
    if status != "ended":
        if is_past_goal(progress):
            return say(copy["past"], lang, extra=progress["count"] - progress["goal"])
        reached = reached_goal(progress)
        if reached is not None:
            return say(copy["next"], lang, reached=reached, goal=progress["goal"])
    if status in ("reached", "ended"):
        return str(copy[status])
    return progress.get("message") or ""

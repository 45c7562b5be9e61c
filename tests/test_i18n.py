"""Server-side formatting matches what the widget shows (Chromium's Intl; see tests/browser)."""

from __future__ import annotations

import re

import pytest

from membership import i18n

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (0, "en", "0"),
        (999, "en", "999"),
        (12_345, "en", "12,345"),
        (25_000, "en", "25,000"),
        (1_234_567, "en", "1,234,567"),
        (999, "uk", "999"),
        (1_234, "uk", f"1{NBSP}234"),
        (12_345, "uk", f"12{NBSP}345"),
        (1_234_567, "uk", f"1{NBSP}234{NBSP}567"),
    ],
)
def test_it_groups_digits_like_intl(value: int, lang: str, expected: str) -> None:
    assert i18n.format_number(value, lang) == expected


def test_it_rounds_fractions_half_away_from_zero() -> None:
    assert i18n.format_number(49.45, "en", 1) == "49.5"
    assert i18n.format_number(49.45, "uk", 1) == "49,5"
    assert i18n.format_number(49.0, "en", 1) == "49"
    assert i18n.format_number(-1234.5, "en") == "-1,235"


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "many"),
        (1, "one"),
        (2, "few"),
        (4, "few"),
        (5, "many"),
        (11, "many"),
        (12, "many"),
        (14, "many"),
        (21, "one"),
        (22, "few"),
        (25, "many"),
        (101, "one"),
        (111, "many"),
        (1.5, "other"),
    ],
)
def test_it_picks_ukrainian_plural_forms(count: float, expected: str) -> None:
    assert i18n.plural_category(count, "uk") == expected


def test_it_picks_english_plural_forms() -> None:
    assert [i18n.plural_category(n, "en") for n in (0, 1, 2, 1.5)] == [
        "other",
        "one",
        "other",
        "other",
    ]


def test_it_writes_the_count_line_and_the_value_text() -> None:
    assert i18n.out_of(12_345, 25_000, "en") == "12,345 out of 25,000"
    assert i18n.out_of(12_345, 25_000, "uk") == f"12{NBSP}345 з 25{NBSP}000"
    assert i18n.value_text(1, 100, "en") == "1 member out of 100"
    assert i18n.value_text(22, 100, "uk") == "22 учасники з 100"
    assert i18n.value_text(12_345, 25_000, "uk") == f"12{NBSP}345 учасників з 25{NBSP}000"


def test_it_picks_the_first_language_it_ships() -> None:
    assert i18n.pick_language("uk-UA", "en") == "uk"
    assert i18n.pick_language(None, "uk") == "uk"
    assert i18n.pick_language("de", "en") == "en"
    assert i18n.pick_language("", None) == "en"
    assert i18n.pick_language("UK") == "uk"


def test_reached_and_ended_drives_have_their_own_words() -> None:
    reached = {"status": "reached", "count": 26_001, "message": "Help us"}
    ended = {"status": "ended", "count": 21, "message": "Help us"}
    active = {"status": "active", "count": 5, "message": "Help us"}
    assert i18n.status_message(reached, "en") == "Goal reached — thank you!"
    assert i18n.status_message(ended, "uk") == "Кампанію завершено. Дякуємо!"
    assert i18n.status_message(active, "en") == "Help us"


STRETCH = {
    "status": "active",
    "count": 26_000,
    "goal": 30_000,
    "goals": [
        {"goal": 25_000, "reached_at": "2026-11-30T10:01:02Z"},
        {"goal": 30_000, "reached_at": None},
    ],
    "message": "Help us",
}


def test_every_language_names_the_next_goal_and_how_far_past_the_goal() -> None:
    for lang in i18n.LANGUAGES:
        copy = i18n.COPY[lang]
        assert sorted(re.findall(r"\{(\w+)\}", copy["next"])) == ["goal", "reached"], lang
        assert re.findall(r"\{(\w+)\}", copy["past"]) == ["extra"], lang
        for key in ("of", "label", "reached", "ended", "next", "past"):
            assert "{" not in i18n.say(copy[key], lang, reached=1, goal=2, extra=3), (lang, key)


def test_a_stretch_goal_as_the_target_names_the_goal_reached_and_the_next() -> None:
    assert i18n.status_message(STRETCH, "en") == "Goal of 25,000 reached! Next: 30,000"
    assert i18n.status_message(STRETCH, "uk") == (
        f"Мету в 25{NBSP}000 досягнуто! Наступна мета — 30{NBSP}000"
    )
    assert i18n.reached_goal(STRETCH) == 25_000
    # Its crossing not recorded yet: the goal below the target is still the one reached.
    unrecorded = {**STRETCH, "goals": [{"goal": 25_000, "reached_at": None}, STRETCH["goals"][1]]}
    assert i18n.reached_goal(unrecorded) == 25_000


def test_past_the_last_goal_says_by_how_much_in_each_language() -> None:
    past = {**STRETCH, "status": "reached", "count": 31_234}
    assert i18n.is_past_goal(past)
    assert i18n.status_message(past, "en") == "1,234 past the goal — thank you!"
    assert i18n.status_message(past, "uk") == f"На 1{NBSP}234 понад мету — дякуємо!"
    exactly = {**past, "count": 30_000}
    assert not i18n.is_past_goal(exactly)
    assert i18n.status_message(exactly, "en") == "Goal reached — thank you!"


def test_figures_without_goals_have_one_goal() -> None:
    # An older server's answer or a last good copy from before stretch goals.
    old = {"status": "reached", "count": 25_100, "goal": 25_000, "message": "Help us"}
    assert i18n.reached_goal(old) is None
    assert i18n.status_message(old, "en") == "100 past the goal — thank you!"
    assert i18n.reached_goal({**old, "count": 24_000, "status": "active"}) is None


def test_an_ended_drive_says_it_has_ended_whatever_its_goals() -> None:
    assert i18n.status_message({**STRETCH, "status": "ended"}, "en") == (
        "This drive has ended. Thank you!"
    )


def test_the_widget_ships_no_copy_of_its_own() -> None:
    # The widget says the count with the API's `words` (this module's COPY): one source of truth.
    # Only the loading state's label is in widget.src.js, and it must match.
    from pathlib import Path

    source = (Path(__file__).resolve().parent.parent / "static" / "widget.src.js").read_text(
        encoding="utf-8"
    )
    assert f"'{i18n.COPY['en']['label']}'" in source
    for lang in i18n.LANGUAGES:
        copy = i18n.COPY[lang]
        texts = ("of", "reached", "ended", "next", "past")
        for text in (*(copy[key] for key in texts), *copy["members"].values()):
            assert f"'{text}'" not in source, (lang, text)

"""Server-side formatting matches what the widget shows (Chromium's Intl; see tests/browser)."""

from __future__ import annotations

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
        for text in (copy["of"], copy["reached"], copy["ended"], *copy["members"].values()):
            assert f"'{text}'" not in source, (lang, text)

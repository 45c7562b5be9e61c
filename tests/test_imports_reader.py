"""membership/sources/imports/reader.py: every bad row named by its line, good rows read."""

from __future__ import annotations

from datetime import UTC, datetime

from membership.sources.imports.reader import read
from tests.imports_helpers import csv


def messages(data: bytes) -> list[str]:
    return [str(p) for p in read(data).problems]


def test_a_good_file_reads_every_row_with_defaults():
    parsed = read(
        csv(
            "m1,a@example.org,2024-01-05,,,",
            "m2,,2024-02-01T10:30:00+02:00,2025-02-01,lapsed,one-off",
        )
    )
    assert parsed.problems == []
    first, second = parsed.rows
    assert (first.external_id, first.email, first.status, first.kind) == (
        "m1",
        "a@example.org",
        "active",
        "recurring",
    )
    assert first.started_at == datetime(2024, 1, 5, tzinfo=UTC)
    assert second.started_at == datetime(2024, 2, 1, 8, 30, tzinfo=UTC)
    assert (second.status, second.kind, second.line) == ("lapsed", "one-off", 3)


def test_only_external_id_and_started_at_are_required():
    parsed = read(csv("m1,2024-01-05", header="external_id,started_at"))
    assert parsed.problems == [] and parsed.rows[0].ends_at is None


def test_missing_and_unknown_columns_are_named_on_line_1():
    assert messages(csv("x,2024-01-01", header="id,started_on")) == [
        "line 1: the column 'external_id' is missing",
        "line 1: the column 'started_at' is missing",
        "line 1: unknown column(s) 'id', 'started_on'; known: email, ends_at, external_id, "
        "kind, started_at, status",
    ]


def test_each_bad_row_is_named_by_its_line():
    found = messages(
        csv(
            "ok1,,2024-01-01,,,",
            "bad1,,2024-13-01,,,",
            "bad2,,2024-03-01,2024-02-01,,",
            "ok1,,2024-01-01,,,",
            "bad3,,2024-01-01,,paused,",
            "bad4,,2024-01-01,,,monthly",
            "bad5,not-an-email,2024-01-01,,,",
            ",,2024-01-01,,,",
            "x" * 201 + ",,2024-01-01,,,",
            "bad\x07bell,,2024-01-01,,,",
            "bad6,,,,,",
            "short,row",
        )
    )
    assert found == [
        "line 3: started_at '2024-13-01' is not an ISO date or time "
        "(2024-03-01 or 2024-03-01T09:30:00Z)",
        "line 4: ends_at is not after started_at",
        "line 5: external_id 'ok1' is also on line 2",
        "line 6: status 'paused' is not one of active, lapsed",
        "line 7: kind 'monthly' is not one of recurring, one-off",
        "line 8: email is not an email address",
        "line 9: external_id is empty",
        "line 10: external_id is longer than 200 characters",
        "line 11: external_id holds a control character",
        "line 12: started_at is empty",
        "line 13: 2 fields, the header has 6",
    ]


def test_a_file_that_is_not_text_or_is_empty_is_refused():
    assert messages(b"\xff\xfe\x00") == ["line 1: the file is not UTF-8 text (invalid start byte)"]
    assert messages(b"") == ["line 1: the file is empty"]


def test_blank_lines_are_skipped_and_a_bom_is_allowed():
    parsed = read(b"\xef\xbb\xbf" + csv("m1,,2024-01-01,,,", "", "m2,,2024-01-02,,,"))
    assert [r.external_id for r in parsed.rows] == ["m1", "m2"]
    assert parsed.rows[1].line == 4

"""Read an import's CSV file into checked rows, or say precisely which lines are wrong."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ...ledger import identity

REQUIRED = ("external_id", "started_at")
COLUMNS = frozenset({*REQUIRED, "email", "ends_at", "status", "kind"})
STATUSES = ("active", "lapsed")
KINDS = ("recurring", "one-off")
# An external id becomes the ledger key "csv-<name>:<id>" and the event id
# "<16 hex>.<time>:<id>", both in 255-character columns; 200 leaves room for both.
MAX_ID_LENGTH = 200
MAX_FIELD_LENGTH = 320  # the longest an email address can be
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Row:
    line: int  # the file's line the row ends on, as a spreadsheet user would count it
    external_id: str
    email: str | None
    started_at: datetime
    ends_at: datetime | None
    status: str
    kind: str


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Parsed:
    sha256: str  # of the file's bytes: what identifies the import
    rows: list[Row]
    problems: list[Problem]


def read(data: bytes) -> Parsed:
    """Every valid row and every problem of a CSV file (UTF-8, a header row first)."""
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Parsed(sha256, [], [Problem(1, f"the file is not UTF-8 text ({exc.reason})")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return Parsed(sha256, [], [Problem(1, "the file is empty")])
    except csv.Error as exc:
        return Parsed(sha256, [], [Problem(1, f"not a CSV header: {exc}")])
    problems = _header_problems(header)
    if problems:
        return Parsed(sha256, [], problems)
    rows: list[Row] = []
    seen: dict[str, int] = {}
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(reader.line_num, f"not CSV: {exc}"))
            break
        if not any(v.strip() for v in values):
            continue  # a blank line, as spreadsheets leave at the end
        row = _row(reader.line_num, header, values, problems)
        if row is None:
            continue
        if row.external_id in seen:
            problems.append(
                Problem(
                    row.line,
                    f"external_id {row.external_id!r} is also on line {seen[row.external_id]}",
                )
            )
            continue
        seen[row.external_id] = row.line
        rows.append(row)
    return Parsed(sha256, rows, problems)


def _header_problems(header: list[str]) -> list[Problem]:
    problems = [
        Problem(1, f"the column {name!r} is missing") for name in REQUIRED if name not in header
    ]
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        known = ", ".join(sorted(COLUMNS))
        problems.append(
            Problem(1, f"unknown column(s) {', '.join(map(repr, unknown))}; known: {known}")
        )
    doubled = sorted({name for name in header if header.count(name) > 1})
    if doubled:
        problems.append(Problem(1, f"column(s) given twice: {', '.join(doubled)}"))
    return problems


def _row(line: int, header: list[str], values: list[str], problems: list[Problem]) -> Row | None:
    if len(values) != len(header):
        problems.append(Problem(line, f"{len(values)} fields, the header has {len(header)}"))
        return None
    fields = {name: value.strip() for name, value in zip(header, values, strict=True)}
    found: list[str] = []
    # One look at the whole row first: most rows are clean, and a file has 100,000 of them.
    if (
        CONTROL.search("".join(fields.values()))
        or max(map(len, fields.values())) > MAX_FIELD_LENGTH
    ):
        for name, value in fields.items():
            if CONTROL.search(value):
                found.append(f"{name} holds a control character")
            elif len(value) > MAX_FIELD_LENGTH:
                found.append(f"{name} is longer than {MAX_FIELD_LENGTH} characters")
    external_id = fields["external_id"]
    if not external_id:
        found.append("external_id is empty")
    elif len(external_id) > MAX_ID_LENGTH:
        found.append(f"external_id is longer than {MAX_ID_LENGTH} characters")
    email = fields.get("email") or None
    if email is not None and identity.normalise(email) is None:
        found.append("email is not an email address")
    started_at = _time(fields["started_at"], "started_at", found, required=True)
    ends_at = _time(fields.get("ends_at", ""), "ends_at", found, required=False)
    if started_at and ends_at and ends_at <= started_at:
        found.append("ends_at is not after started_at")
    status = fields.get("status", "").lower() or "active"
    if status not in STATUSES:
        found.append(f"status {status!r} is not one of {', '.join(STATUSES)}")
    kind = fields.get("kind", "").lower() or "recurring"
    if kind not in KINDS:
        found.append(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if found:
        problems.extend(Problem(line, message) for message in found)
        return None
    assert started_at is not None
    return Row(line, external_id, email, started_at, ends_at, status, kind)


def _time(value: str, name: str, found: list[str], *, required: bool) -> datetime | None:
    """An ISO date (midnight UTC) or time (UTC unless it names its offset)."""
    if not value:
        if required:
            found.append(f"{name} is empty")
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        found.append(
            f"{name} {value!r} is not an ISO date or time (2024-03-01 or 2024-03-01T09:30:00Z)"
        )
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)

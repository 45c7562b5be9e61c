"""CSV exports: a campaign's daily series, and the ledger's memberships (each source's ids and
dates, no names or emails). Streamed, and safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from flask import Response, stream_with_context
from flask.typing import ResponseReturnValue

from ...campaigns.figures import overview
from ...database import db
from ...ledger.listing import memberships
from ...models import utcnow
from . import bp
from .views_common import campaign_or_404

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _download(rows: Iterator[Iterable[Any]], filename: str) -> Response:
    # stream_with_context: the rows are read from the database while the body is sent.
    response = Response(stream_with_context(_csv(rows)), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/campaigns/<slug>/daily.csv")
def daily_csv(slug: str) -> ResponseReturnValue:
    found = overview(db.session, campaign_or_404(slug), utcnow())
    header = [["date", "count", "joined", "left"]]
    days = ([d.day.isoformat(), d.count, d.joined, d.left] for d in found.series)
    return _download(itertools.chain(header, days), f"{slug}-daily.csv")


@bp.get("/exports/memberships.csv")
def memberships_csv() -> ResponseReturnValue:
    def rows() -> Iterator[list[Any]]:
        yield [
            "membership",
            "kind",
            "member",
            "state",
            "started_at",
            "active_until",
            "refunded",
            "source",
        ]
        # db.session is taken inside the stream: the view's session closes when the view returns,
        # and the one opened here closes when the stream ends.
        for m in memberships(db.session):
            yield [*m[:6], "yes" if m.refunded else "no", m.source]  # MembershipRow's order

    return _download(rows(), "memberships.csv")

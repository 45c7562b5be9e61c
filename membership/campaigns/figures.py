"""A campaign's figures for the dashboard: progress, daily series, pace. No views here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ..models import Campaign
from . import history, progress

# Without a start date the chart shows this many days up to today.
DEFAULT_DAYS = 90
# Pace needs 30 days of history before today, whatever the chart shows.
PACE_DAYS = 30
MAX_DAYS = 3 * 366  # a chart of more than three years says nothing a CSV does not


@dataclass(frozen=True)
class Overview:
    campaign: Campaign
    progress: progress.Progress
    series: list[history.Day]  # the charted days: from the start (or 90 days ago) to today
    pace: history.Pace
    today: date

    def summary(self) -> dict[str, Any]:
        """The JSON the dashboard polls: raw figures and the text each one shows."""
        p, pace = self.progress, self.pace
        projected = pace.projected.isoformat() if pace.projected else None
        return {
            "slug": p.slug,
            "count": p.count,
            "goal": p.goal,
            "percent": p.percent,
            "remaining": p.remaining,
            "status": p.status,
            "days_to_deadline": pace.days_to_deadline,
            "per_day_7": pace.per_day_7,
            "per_day_30": pace.per_day_30,
            "projected": projected,
            "beats_deadline": pace.beats_deadline,
            "updated_at": p.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "display": {
                "count": f"{p.count:,}",
                "goal": f"{p.goal:,}",
                "percent": f"{p.percent:,.1f}%",
                "remaining": f"{p.remaining:,}",
                "status": p.status,
                "days_to_deadline": _or_dash(pace.days_to_deadline),
                "per_day_7": f"{pace.per_day_7:+,.1f}",
                "per_day_30": f"{pace.per_day_30:+,.1f}",
                "projected": projection_text(pace),
            },
        }


def _or_dash(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def projection_text(pace: history.Pace) -> str:
    if pace.projected is None:
        return "not at the current pace"
    text = pace.projected.isoformat()
    if pace.beats_deadline is True:
        return f"{text}, before the deadline"
    if pace.beats_deadline is False:
        return f"{text}, after the deadline"
    return text


def chart_window(campaign: Campaign, today: date) -> tuple[date, date]:
    first = campaign.starts_on or today - timedelta(days=DEFAULT_DAYS - 1)
    first = max(min(first, today), today - timedelta(days=MAX_DAYS))
    return first, today


def overview(session: Session, campaign: Campaign, now: datetime) -> Overview:
    today = now.date()
    first, last = chart_window(campaign, today)
    figures = progress.compute(session, campaign, now)
    series = history.daily(
        session, campaign, min(first, today - timedelta(days=PACE_DAYS)), last, now
    )
    # Toward the target now: a stretch goal once the first goal is reached.
    pace = history.pace(series, campaign, figures.count, today, figures.goal)
    charted = [day for day in series if day.day >= first]
    return Overview(campaign, figures, charted, pace, today)

"""Server-rendered SVG charts: no JavaScript library, nothing for the CSP to allow.

Colours and line styles come from admin.css through class names; the SVG carries a <title> and
a <desc> for screen readers, and the page shows the same figures as text and CSV.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from markupsafe import Markup, escape

from ...campaigns.history import Day
from ...models import Campaign

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 32
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_BARS = 90


def _nice_ceiling(value: float) -> int:
    """A round number at or above value, for the top of the y axis."""
    if value <= 0:
        return 1
    step = 10 ** (len(str(int(value))) - 1)
    for multiple in (1, 1.5, 2, 2.5, 3, 4, 5, 10):
        if value <= step * multiple:
            return int(step * multiple)
    return int(step * 10)


def _svg(chart_id: str, title: str, desc: str, body: list[str]) -> Markup:
    head = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _y_axis(top: int, y: Callable[[float], float]) -> list[str]:
    parts = []
    for i in range(5):
        value = top * i / 4
        py = y(value)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{py:.1f}" y2="{py:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end">'
            f"{value:,.0f}</text>"
        )
    return parts


def count_chart(series: Sequence[Day], campaign: Campaign) -> Markup:
    """The count at the end of each day, against the straight line to the goal."""
    chart_id = f"count-{campaign.id}"
    if not series:
        return _svg(chart_id, "Members over time", "No days to show yet.", [])
    first = series[0].day
    last = series[-1].day
    deadline = campaign.deadline
    if deadline and deadline > last:
        last = deadline
    span = max((last - first).days, 1)
    top = _nice_ceiling(max(campaign.goal, max(d.count for d in series)) * 1.05)

    def x(day: date) -> float:
        return LEFT + PLOT_W * (day - first).days / span

    def y(value: float) -> float:
        return TOP + PLOT_H * (1 - value / top)

    body = _y_axis(top, y)
    goal_y = y(campaign.goal)
    body.append(
        f'<line class="goal" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{goal_y:.1f}" y2="{goal_y:.1f}"/>'
        f'<text class="axis goal-label" x="{LEFT + PLOT_W}" y="{goal_y - 4:.1f}" '
        f'text-anchor="end">goal {campaign.goal:,}</text>'
    )
    if deadline and deadline > first:
        body.append(
            f'<line class="target" x1="{x(first):.1f}" y1="{y(series[0].count):.1f}" '
            f'x2="{x(deadline):.1f}" y2="{goal_y:.1f}"/>'
        )
    points = " ".join(f"{x(d.day):.1f},{y(d.count):.1f}" for d in series)
    if len(series) == 1:
        d = series[0]
        body.append(f'<circle class="count-dot" cx="{x(d.day):.1f}" cy="{y(d.count):.1f}" r="3"/>')
    else:
        body.append(f'<polyline class="count" points="{points}"/>')
    body.append(
        f'<text class="axis" x="{LEFT}" y="{HEIGHT - 8}">{first.isoformat()}</text>'
        f'<text class="axis" x="{LEFT + PLOT_W}" y="{HEIGHT - 8}" text-anchor="end">'
        f"{last.isoformat()}</text>"
    )
    now = series[-1]
    desc = (
        f"{now.count:,} members on {now.day.isoformat()}, from {series[0].count:,} on "
        f"{first.isoformat()}; goal {campaign.goal:,}"
        + (f" by {deadline.isoformat()}." if deadline else ".")
    )
    return _svg(chart_id, "Members over time, against the line to the goal", desc, body)


def flow_chart(series: Sequence[Day]) -> Markup:
    """Members joining (up) and leaving (down) per day, for the last 90 days at most."""
    days = list(series)[-MAX_BARS:]
    if not days:
        return _svg("flow", "Joined and left per day", "No days to show yet.", [])
    top = _nice_ceiling(max(max(d.joined, d.left) for d in days) or 1)
    middle = TOP + PLOT_H / 2
    half = PLOT_H / 2
    slot = PLOT_W / len(days)
    bar = max(slot * 0.8, 1.0)
    body = [
        f'<line class="grid" x1="{LEFT}" x2="{LEFT + PLOT_W}" '
        f'y1="{middle:.1f}" y2="{middle:.1f}"/>',
        f'<text class="axis" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">+{top:,}</text>',
        f'<text class="axis" x="{LEFT - 6}" y="{middle + 4:.1f}" text-anchor="end">0</text>',
        f'<text class="axis" x="{LEFT - 6}" y="{TOP + PLOT_H + 4}" text-anchor="end">'
        f"−{top:,}</text>",
    ]
    for i, d in enumerate(days):
        bx = LEFT + i * slot + (slot - bar) / 2
        if d.joined:
            h = half * d.joined / top
            body.append(
                f'<rect class="joined" x="{bx:.1f}" y="{middle - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}"><title>{d.day.isoformat()}: {d.joined:,} joined</title></rect>'
            )
        if d.left:
            h = half * d.left / top
            body.append(
                f'<rect class="left" x="{bx:.1f}" y="{middle:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}"><title>{d.day.isoformat()}: {d.left:,} left</title></rect>'
            )
    body.append(
        f'<text class="axis" x="{LEFT}" y="{HEIGHT - 8}">{days[0].day.isoformat()}</text>'
        f'<text class="axis" x="{LEFT + PLOT_W}" y="{HEIGHT - 8}" text-anchor="end">'
        f"{days[-1].day.isoformat()}</text>"
    )
    joined = sum(d.joined for d in days)
    left = sum(d.left for d in days)
    desc = (
        f"From {days[0].day.isoformat()} to {days[-1].day.isoformat()}: "
        f"{joined:,} joined and {left:,} left."
    )
    return _svg("flow", "Joined and left per day", desc, body)

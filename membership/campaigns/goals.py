"""A campaign's goals and milestones as figures: which goal is the target, and its status.

No Flask here. The settings are text on the campaign (validation.py checks them); this module
turns them into goals and thresholds. Goals are milestones too, labelled "goal 25000", so the
record of a goal's crossing is the record of when it was reached.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from ..models import Campaign
from . import validation, windows
from .windows import Status

T = TypeVar("T")


@dataclass(frozen=True)
class Mark:
    """One milestone of a campaign: its label and the count that crosses it."""

    label: str  # "10%", "10000" or "goal 25000"
    threshold: int
    goal: int | None  # the goal, for a goal's mark


def goal_label(goal: int) -> str:
    return f"goal {goal}"


def goals(campaign: Campaign) -> list[int]:
    """The first goal and every stretch goal, in order (always going up)."""
    found = [campaign.goal]
    for goal in _readable(validation.stretch_goals, campaign.stretch_goals):
        if goal > found[-1]:
            found.append(goal)
    return found


def _readable(parse: Callable[[str], list[T]], text: str | None) -> list[T]:
    """The setting parsed; nothing for a row written past the rules (by hand, in SQL), so
    that every surface still shows the count rather than failing on a setting."""
    try:
        return parse(text or "")
    except validation.CampaignError:
        return []


def threshold(label: str, first_goal: int) -> int:
    """The count that crosses a milestone label: a percentage of the first goal, rounded up
    (a milestone is crossed by a whole member, never before), or the count it names."""
    if label.endswith("%"):
        return max(1, -(-first_goal * int(label[:-1]) // 100))
    return int(label)


def marks(campaign: Campaign) -> list[Mark]:
    """Every milestone of the campaign, by threshold: its goals, then those it names.

    A named milestone at the same count as a goal or an earlier name ("100%" with the goal)
    would say the same thing twice at the same moment, so the goal (or the first name) wins.
    """
    found = [Mark(goal_label(goal), goal, goal) for goal in goals(campaign)]
    taken = {mark.threshold for mark in found}
    for label in _readable(validation.milestones, campaign.milestones):
        mark = Mark(label, threshold(label, campaign.goal), None)
        if mark.threshold not in taken:
            taken.add(mark.threshold)
            found.append(mark)
    return sorted(found, key=lambda mark: mark.threshold)


def target(all_goals: list[int], count: int, reached: Collection[int]) -> int:
    """The goal the count is heading for: the first that the count has not met and whose
    crossing was not recorded; the last goal once all are reached.

    A recorded crossing keeps a goal reached when the count dips below it again, so the bar
    does not go back to a goal the newsroom already celebrated.
    """
    for goal in all_goals:
        if count < goal and goal not in reached:
            return goal
    return all_goals[-1]


def status(campaign: Campaign, goal: int, count: int, now: datetime) -> Status:
    """The status against the target ``goal``: "reached" only once the count meets the goal
    it is heading for, so with a stretch goal ahead the drive is "active" again, and status,
    goal, percent and remaining always speak of the same target (clients that know nothing
    of stretch goals read them together)."""
    found = windows.status(campaign, count, now)
    if found is not Status.REACHED or count >= goal:
        return found
    _, end = windows.window(campaign)
    return Status.ENDED if end is not None and now >= end else Status.ACTIVE

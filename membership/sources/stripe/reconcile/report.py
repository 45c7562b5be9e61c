"""The report of a reconcile run: what was read, what changed (or would), what is left."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ....ledger.store import Outcome


@dataclass(frozen=True)
class CampaignChange:
    slug: str
    rule: str
    before: int
    after: int


@dataclass
class Report:
    applied: bool
    since: datetime
    requests: int = 0
    retries: int = 0
    events_seen: int = 0
    events_already: int = 0
    # (event id, type, outcome) of each event the ledger lacked.
    events_new: list[tuple[str, str, str]] = field(default_factory=list)
    objects_seen: int = 0
    objects_other_mode: int = 0
    objects_agreeing: int = 0
    objects_covered: int = 0  # subscription-mode checkout sessions: the subscription says more
    synthesised_new: list[tuple[str, str, str]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    campaigns: list[CampaignChange] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [
            event_id
            for event_id, _, outcome in self.events_new + self.synthesised_new
            if outcome == Outcome.FAILED
        ]

    @property
    def changed(self) -> bool:
        return bool(self.changes) or any(c.before != c.after for c in self.campaigns)

    def lines(self) -> list[str]:
        def outcomes(found: list[tuple[str, str, str]]) -> str:
            tally: dict[str, int] = {}
            for _, _, outcome in found:
                tally[outcome] = tally.get(outcome, 0) + 1
            return ", ".join(f"{n:,} {outcome}" for outcome, n in sorted(tally.items())) or "none"

        verb = "Changed" if self.applied else "Would change"
        out = [
            "Applied to the ledger."
            if self.applied
            else "Dry run: nothing was written. Run again with --apply to make these changes.",
            f"Read Stripe with {self.requests:,} requests ({self.retries:,} retried).",
            f"Events since {self.since:%Y-%m-%d %H:%M} UTC: {self.events_seen:,} seen, "
            f"{self.events_already:,} already recorded, {len(self.events_new):,} new "
            f"({outcomes(self.events_new)}).",
            f"Subscriptions and paid checkout sessions: {self.objects_seen:,} seen, "
            f"{self.objects_agreeing:,} agree with the ledger, "
            f"{self.objects_covered:,} covered by their subscription, "
            f"{self.objects_other_mode:,} in a mode this deployment does not count, "
            f"{len(self.synthesised_new):,} recorded ({outcomes(self.synthesised_new)}).",
        ]
        for counted in self.campaigns:
            mark = "" if counted.before == counted.after else "  <-- changes"
            out.append(
                f"Campaign {counted.slug} ({counted.rule}): {counted.before:,} -> "
                f"{counted.after:,}{mark}"
            )
        out.append(f"{verb} {len(self.changes):,} memberships and members.")
        out += [f"  {line}" for line in self.changes]
        for event_id, kind, outcome in self.events_new + self.synthesised_new:
            if outcome == Outcome.FAILED:
                out.append(f"  event {event_id} ({kind}) failed; see the event log")
        if self.unreadable:
            out.append(f"Unreadable ({len(self.unreadable):,}):")
            out += [f"  {line}" for line in self.unreadable]
        if self.unresolved:
            out.append(
                f"Still different from Stripe after the rules ({len(self.unresolved):,}); "
                "the ledger keeps a newer event, check these in the Stripe Dashboard:"
            )
            out += [f"  {line}" for line in self.unresolved]
        return out

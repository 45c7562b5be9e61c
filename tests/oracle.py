"""The ledger rules of design.md, written a second time as plain Python over event dicts.

A reference to check the database-backed ledger against: no SQL, no shared code with
membership/ledger.py, and no cleverness: sort each membership's events, take the last.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

ACTIVE_STATUSES = {"active", "trialing", "past_due"}
LAPSED_STATUSES = {"canceled", "unpaid", "incomplete_expired", "paused"}
RANK = {"pending": 0, "lapsed": 1, "active": 2}


def _sub_id(invoice: dict[str, Any]) -> str | None:
    if invoice.get("subscription"):
        return invoice["subscription"]
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return details.get("subscription")


def expected_counts(
    events: list[dict[str, Any]],
    now: datetime,
    *,
    livemode: str | None = None,
    term: timedelta = timedelta(days=365),
    windows: dict[str, tuple[date | None, date | None]] | None = None,
) -> dict[str, int]:
    """{"active": n, "new:<name>": n ...} for one delivery of each distinct event."""
    unique = {e["id"]: e for e in events}.values()
    subs: dict[str, dict[str, Any]] = defaultdict(lambda: {"obs": [], "final": False})
    payments: dict[str, dict[str, Any]] = {}
    refunded_intents: set[str] = set()
    for e in unique:
        if livemode == "live" and not e["livemode"]:
            continue
        if livemode == "test" and e["livemode"]:
            continue
        obj, kind = e["data"]["object"], e["type"]
        at = datetime.fromtimestamp(e["created"], UTC)
        if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            if obj["payment_status"] not in ("paid", "no_payment_required"):
                continue
            if obj["mode"] == "subscription":
                s = subs[obj["subscription"]]
                s["customer"] = obj["customer"]
                s["obs"].append((at, RANK["active"], e["id"], "active"))
            elif obj["mode"] == "payment":
                p = payments.setdefault(
                    obj["id"],
                    {
                        "starts": [],
                        "intent": obj["payment_intent"],
                        "member": obj["customer"] or obj["id"],
                    },
                )
                p["starts"].append(at)
        elif kind.startswith("customer.subscription."):
            s = subs[obj["id"]]
            s["customer"] = obj["customer"]
            status = obj["status"]
            if kind.endswith(".deleted") or status in ("canceled", "incomplete_expired"):
                s["final"] = True
            state = (
                "lapsed"
                if kind.endswith(".deleted")
                else "active"
                if status in ACTIVE_STATUSES
                else "lapsed"
                if status in LAPSED_STATUSES
                else "pending"
            )
            s["obs"].append((at, RANK[state], e["id"], state))
        elif kind == "invoice.paid":
            sub = _sub_id(obj)
            if sub:
                s = subs[sub]
                s["customer"] = obj["customer"]
                s["obs"].append((at, RANK["active"], e["id"], "active"))
        elif kind == "charge.refunded" and obj["refunded"] and obj.get("payment_intent"):
            refunded_intents.add(obj["payment_intent"])

    # Per member: is any membership active now; when did the first unrefunded one start.
    active_members: set[str] = set()
    first_start: dict[str, datetime] = {}

    def started(member: str, at: datetime) -> None:
        if member not in first_start or at < first_start[member]:
            first_start[member] = at

    for s in subs.values():
        last = max(s["obs"])
        if last[3] == "active" and not s["final"]:
            active_members.add(s["customer"])
        starts = [o[0] for o in s["obs"] if o[3] == "active"]
        if starts:
            started(s["customer"], min(starts))
    for p in payments.values():
        refunded = p["intent"] is not None and p["intent"] in refunded_intents
        begin = min(p["starts"])
        if refunded:
            continue
        started(p["member"], begin)
        if begin <= now < begin + term:
            active_members.add(p["member"])

    counts = {"active": len(active_members)}
    for name, (first, last) in (windows or {}).items():
        lo = datetime.combine(first, datetime.min.time(), UTC) if first else None
        hi = datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC) if last else None
        counts[f"new:{name}"] = sum(
            1 for at in first_start.values() if (lo is None or at >= lo) and (hi is None or at < hi)
        )
    return counts

"""The ledger rules of design.md, written a second time as plain Python over event dicts.

A reference to check the database-backed ledger against: no SQL, no shared code with
membership/ledger/, and no cleverness: sort each membership's events, take the last.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

ACTIVE_STATUSES = {"active", "trialing", "past_due"}
LAPSED_STATUSES = {"canceled", "unpaid", "incomplete_expired", "paused"}
RANK = {"pending": 0, "lapsed": 1, "active": 2}


def fingerprint(email: Any, key: bytes | None) -> str | None:
    """An email's keyed fingerprint, as design.md describes it (for the well-formed addresses
    the tests use)."""
    if not key or not isinstance(email, str) or "@" not in email:
        return None
    return "id1:" + hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


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
    identity_key: bytes | None = None,
) -> dict[str, int]:
    """{"active": n, "new:<name>": n ...} for one delivery of each distinct event.

    With ``identity_key``, members whose applied events named the same email (by fingerprint)
    are one person; a member seen with several takes the smallest fingerprint.
    """
    identities: dict[str, str] = {}

    def seen(member: str, email: Any) -> None:
        found = fingerprint(email, identity_key)
        if found is not None and (member not in identities or found < identities[member]):
            identities[member] = found

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
            email = (obj.get("customer_details") or {}).get("email") or obj.get("customer_email")
            if obj["mode"] == "subscription":
                s = subs[obj["subscription"]]
                s["customer"] = obj["customer"]
                s["obs"].append((at, RANK["active"], e["id"], "active"))
                seen(obj["customer"], email)
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
                seen(p["member"], email)
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
                seen(obj["customer"], obj.get("customer_email"))
        elif kind == "charge.refunded" and obj["refunded"] and obj.get("payment_intent"):
            refunded_intents.add(obj["payment_intent"])
        elif kind in ("customer.created", "customer.updated"):
            seen(obj["id"], obj.get("email"))

    # Per person: is any membership active now; when did the first unrefunded one start.
    active_members: set[str] = set()
    first_start: dict[str, datetime] = {}

    def person(member: str) -> str:
        return identities.get(member, member)

    def started(member: str, at: datetime) -> None:
        who = person(member)
        if who not in first_start or at < first_start[who]:
            first_start[who] = at

    for s in subs.values():
        last = max(s["obs"])
        if last[3] == "active" and not s["final"]:
            active_members.add(person(s["customer"]))
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
            active_members.add(person(p["member"]))

    counts = {"active": len(active_members)}
    for name, (first, last) in (windows or {}).items():
        lo = datetime.combine(first, datetime.min.time(), UTC) if first else None
        hi = datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC) if last else None
        counts[f"new:{name}"] = sum(
            1 for at in first_start.values() if (lo is None or at >= lo) and (hi is None or at < hi)
        )
    return counts

"""Reconcile: heal a ledger that missed webhook deliveries from what Stripe's API knows.

No Flask here. ``run`` first reads everything it needs from Stripe (events of the last 30
days, every subscription, recent paid checkout sessions), then feeds what the ledger lacks
through the same ``ledger.record_event`` a webhook uses, so the same exactly-once storage and
order-independent rules decide the outcome:

- **Events** Stripe lists are recorded under their own ids, exactly as if delivered; those
  already stored are counted and skipped (not re-recorded, so the webhook's redelivery counter
  keeps meaning "redelivered by Stripe").
- **Objects** (subscriptions, checkout sessions) cover what Stripe no longer lists as events.
  Where the ledger already agrees with an object nothing is written. Otherwise reconcile
  synthesises an event for it with a deterministic id (``reconcile:<object>:<status>:<time>``),
  stamped with the object's own timestamps, never with the time reconcile ran:

  * a subscription's current status is stamped with the earliest moment the object shows
    that status to hold: ``ended_at`` (or ``canceled_at``) for a canceled or expired one,
    ``trial_end`` for one paused when its trial ran out, otherwise the start of its current
    billing period (``current_period_start``, on the items from API 2025-03-31). A real
    event newer than that stamp therefore still wins, and running reconcile again, or in
    another order relative to webhooks, gives the same rows;
  * a subscription whose start the ledger does not know also gets an observation "active (or
    trialing) at ``start_date``" when the object shows it was: active now, began with a
    trial, or renewed at least once; so a `new` campaign sees when it began;
  * a paid one-off checkout session the ledger lacks is recorded as completed at the
    session's ``created``.

A dry run (the default) copies the ledger's tables into a scratch in-memory SQLite database
and does all of the above there, so it reports exactly what ``apply=True`` would change and
writes nothing. Because every read from Stripe happens before the first write, a network
failure also writes nothing in apply mode; once writing, each event is its own transaction
and idempotent, so an interrupted apply is completed by running it again.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from sqlalchemy import create_engine, delete, insert, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from . import ledger, progress
from .models import (
    Adjustment,
    Base,
    Campaign,
    CampaignCopy,
    LedgerState,
    Member,
    Membership,
    Refund,
    StripeEvent,
    utcnow,
)
from .stripe_events import (
    ACTIVE,
    FINAL_STATUSES,
    PAID_CHECKOUT,
    SUBSCRIPTION_STATES,
    InvalidEvent,
    parse_envelope,
)

# The event types the ledger acts on (stripe_events.translate); Stripe accepts up to 20.
EVENT_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "charge.refunded",
)
# Stripe lists events of the last 30 days only.
EVENT_RETENTION = timedelta(days=30)
SYNTHESISED_PREFIX = "reconcile:"
# Fields of a checkout session that name a person; a synthesised payload does without them.
PERSONAL_FIELDS = (
    "customer_details",
    "customer_email",
    "shipping_details",
    "collected_information",
)
MEMBERSHIP_FIELDS = ("kind", "member_key", "state", "final_at", "started_at", "refunded")
MEMBERSHIP_SHOWN = MEMBERSHIP_FIELDS + ("active_until",)
MEMBER_SHOWN = ("active_until", "first_started_at")
# The tables a dry run copies: everything record_event and progress.compute read.
LEDGER_TABLES = (
    LedgerState,
    Campaign,
    CampaignCopy,
    Adjustment,
    Member,
    Membership,
    Refund,
    StripeEvent,
)


class ReconcileError(RuntimeError):
    """Stripe could not be read (after retries), or refused the request; a clear message."""


@dataclass(frozen=True)
class Options:
    """How hard to try. The SDK itself also retries connection errors and 5xx answers
    (``max_network_retries`` in ``make_client``); these attempts wrap each page request."""

    attempts: int = 5
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    max_backoff: float = 30.0
    page_size: int = 100
    sleep: Callable[[float], None] = time.sleep


def make_client(
    api_key: str, api_base: str | None = None, *, max_network_retries: int = 2
) -> stripe.StripeClient:
    """The official SDK's client; ``api_base`` points it elsewhere (tests, stripe-mock)."""
    if not api_key:
        raise ReconcileError("STRIPE_API_KEY is not set: reconcile reads Stripe's API with it")
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=max_network_retries,
    )


# --- reading Stripe ---------------------------------------------------------------------------


@dataclass
class Snapshot:
    """What Stripe knows, as plain dicts, read completely before anything is written."""

    events: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    checkout_sessions: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    retries: int = 0


class _Reader:
    def __init__(self, client: stripe.StripeClient, options: Options) -> None:
        self.client = client
        self.options = options
        self.requests = 0
        self.retries = 0

    def call(self, what: str, fetch: Callable[[], Any]) -> Any:
        """One request, retried with exponential back-off on rate limits and network errors."""
        options = self.options
        for attempt in range(1, options.attempts + 1):
            self.requests += 1
            try:
                return fetch()
            except stripe.RateLimitError as exc:
                problem = f"rate limited (429): {exc.user_message or exc}"
            except stripe.APIConnectionError as exc:
                problem = f"could not connect: {exc.user_message or exc}"
            except stripe.AuthenticationError as exc:
                raise ReconcileError(
                    f"Stripe refused the API key while listing {what} "
                    f"({exc.http_status}): check STRIPE_API_KEY"
                ) from None
            except stripe.PermissionError as exc:
                raise ReconcileError(
                    f"the API key may not list {what} ({exc.http_status}): a restricted key "
                    "needs read access to events, subscriptions and Checkout sessions"
                ) from None
            except stripe.APIError as exc:
                if exc.http_status is not None and exc.http_status < 500:
                    raise ReconcileError(f"Stripe refused listing {what}: {exc}") from None
                problem = f"Stripe answered {exc.http_status}: {exc.user_message or exc}"
            except stripe.StripeError as exc:
                raise ReconcileError(f"Stripe refused listing {what}: {exc}") from None
            if attempt == options.attempts:
                raise ReconcileError(
                    f"gave up listing {what} after {attempt} attempts; last: {problem}. "
                    "Nothing was written; run reconcile again later."
                )
            self.retries += 1
            delay = min(options.backoff * 2 ** (attempt - 1), options.max_backoff)
            options.sleep(delay * random.uniform(0.5, 1.0))  # jitter spreads concurrent callers
        raise AssertionError("unreachable")

    def list_all(self, what: str, lister: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item of a Stripe list, page by page.

        Pages are requested one at a time with ``starting_after`` (what the SDK's
        ``auto_paging_iter`` does) so that a failed page is retried by itself instead of the
        whole listing starting over.
        """
        items: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            page_params = {**params, "limit": self.options.page_size}
            if after is not None:
                page_params["starting_after"] = after
            page = self.call(what, lambda p=page_params: lister.list(params=p))
            data = _raw_items(page)
            items.extend(data)
            if not page.has_more or not data:
                return items
            after = data[-1]["id"]


def _raw_items(page: Any) -> list[dict[str, Any]]:
    """The items exactly as Stripe sent them (the JSON a webhook would carry), not the SDK's
    objects, which turn decimal strings into Decimal and would not serialise back the same."""
    response = page.last_response
    if response is not None and isinstance(getattr(response, "body", None), str):
        body = json.loads(response.body)
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            return [item for item in body["data"] if isinstance(item, dict)]
    return [item.to_dict(for_json=True) for item in page.data]


def fetch(
    client: stripe.StripeClient,
    since: datetime,
    now: datetime,
    policy: ledger.Policy,
    options: Options = Options(),
) -> Snapshot:
    reader = _Reader(client, options)
    v1 = client.v1
    snapshot = Snapshot()
    snapshot.events = reader.list_all(
        "events",
        v1.events,
        {"created": {"gte": int(since.timestamp())}, "types": list(EVENT_TYPES)},
    )
    snapshot.subscriptions = reader.list_all("subscriptions", v1.subscriptions, {"status": "all"})
    # A one-off payment older than the term makes nobody a member now.
    sessions_since = int((now - policy.term - timedelta(days=1)).timestamp())
    snapshot.checkout_sessions = reader.list_all(
        "checkout sessions",
        v1.checkout.sessions,
        {"status": "complete", "created": {"gte": sessions_since}},
    )
    snapshot.requests, snapshot.retries = reader.requests, reader.retries
    return snapshot


# --- synthesising events from objects ---------------------------------------------------------


def _timestamp(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _period_start(subscription: dict[str, Any]) -> int | None:
    """The start of the current billing period, at the top level (before API 2025-03-31) or
    on each item (from then on)."""
    starts = [_timestamp(subscription.get("current_period_start"))]
    items = subscription.get("items")
    if isinstance(items, dict) and isinstance(items.get("data"), list):
        starts += [
            _timestamp(item.get("current_period_start"))
            for item in items["data"]
            if isinstance(item, dict)
        ]
    known = [s for s in starts if s is not None]
    return max(known) if known else None


def status_since(subscription: dict[str, Any]) -> int:
    """The earliest moment the object shows its current status to hold. See the module doc."""
    status = subscription.get("status")
    created = _timestamp(subscription.get("created")) or 0
    if status in FINAL_STATUSES:
        return (
            _timestamp(subscription.get("ended_at"))
            or _timestamp(subscription.get("canceled_at"))
            or created
        )
    if status == "paused" and _timestamp(subscription.get("trial_end")):
        return subscription["trial_end"]
    start = _timestamp(subscription.get("start_date")) or created
    period = _period_start(subscription)
    return max(start, period) if period else start


def _event(kind: str, event_id: str, created: int, obj: dict[str, Any], source: str) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "api_version": None,
        "created": created,
        "data": {"object": obj},
        "livemode": bool(obj.get("livemode", False)),
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
        # Not Stripe's: says where a synthesised event came from, for the event log.
        "reconcile": {"source": source},
    }


def subscription_events(
    subscription: dict[str, Any], *, status_known: bool = False, start_known: bool = False
) -> list[dict[str, Any]]:
    """Synthesised events for a subscription: its current status unless the ledger already
    holds it, and its start if the ledger knows none and the object shows one."""
    sub_id, status = subscription["id"], subscription["status"]
    at = status_since(subscription)
    found = []
    if not status_known:
        found.append(
            _event(
                "customer.subscription.updated",
                f"{SYNTHESISED_PREFIX}{sub_id}:{status}:{at}",
                at,
                subscription,
                "GET /v1/subscriptions",
            )
        )
    start = _timestamp(subscription.get("start_date")) or _timestamp(subscription.get("created"))
    began = _began_as(subscription, start)
    if not start_known and began is not None and start is not None and start < at:
        found.append(
            _event(
                "customer.subscription.updated",
                f"{SYNTHESISED_PREFIX}{sub_id}:start:{start}",
                start,
                {**subscription, "status": began},
                "GET /v1/subscriptions (start_date)",
            )
        )
    return found


def _began_as(subscription: dict[str, Any], start: int | None) -> str | None:
    """The status the subscription certainly had at its start, if the object shows one that
    counts: active now, a trial (trialing from ``trial_start``), or renewed at least once
    (its current period began after it did). A subscription canceled before any of these may
    never have been paid, so it gets no start."""
    status = subscription.get("status")
    trial_start = _timestamp(subscription.get("trial_start"))
    if trial_start is not None and trial_start == start:
        return "trialing"
    if SUBSCRIPTION_STATES.get(status) == ACTIVE:  # type: ignore[arg-type]
        return str(status)
    period = _period_start(subscription)
    if period is not None and start is not None and period > start:
        return "active"
    return None


def checkout_event(checkout_session: dict[str, Any]) -> dict[str, Any]:
    obj = {
        **checkout_session,
        **{name: None for name in PERSONAL_FIELDS if name in checkout_session},
    }
    created = checkout_session["created"]
    return _event(
        "checkout.session.completed",
        f"{SYNTHESISED_PREFIX}{checkout_session['id']}:paid:{created}",
        created,
        obj,
        "GET /v1/checkout/sessions",
    )


# --- the report -------------------------------------------------------------------------------


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
            if outcome == ledger.Outcome.FAILED
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
            if outcome == ledger.Outcome.FAILED:
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


# --- running it -------------------------------------------------------------------------------


def run(
    session: Session,
    policy: ledger.Policy,
    client: stripe.StripeClient,
    since: datetime | None = None,
    apply: bool = False,
    now: datetime | None = None,
    options: Options = Options(),
) -> Report:
    """Read Stripe, then feed what the ledger lacks into it (apply) or into a scratch copy."""
    now = now or utcnow()
    since = since or now - EVENT_RETENTION
    snapshot = fetch(client, since, now, policy, options)
    report = Report(
        applied=apply, since=since, requests=snapshot.requests, retries=snapshot.retries
    )
    with _target(session, apply) as target:
        members_before = _rows(target, Member, MEMBER_SHOWN)
        memberships_before = _rows(target, Membership, MEMBERSHIP_SHOWN)
        counts_before = _counts(target, now)
        target.rollback()

        _feed_events(target, snapshot, policy, now, report)
        _feed_objects(target, snapshot, policy, now, report)

        memberships_after = _rows(target, Membership, MEMBERSHIP_SHOWN)
        _diff("membership", memberships_before, memberships_after, MEMBERSHIP_SHOWN, report)
        members_after = _rows(target, Member, MEMBER_SHOWN)
        _diff("member", members_before, members_after, MEMBER_SHOWN, report)
        counts_after = _counts(target, now)
        report.campaigns = [
            CampaignChange(slug, rule, before, counts_after.get(slug, (rule, before))[1])
            for slug, (rule, before) in counts_before.items()
        ]
        target.rollback()
    return report


@contextmanager
def _target(session: Session, apply: bool) -> Iterator[Session]:
    if apply:
        try:
            yield session
        finally:
            session.rollback()
        return
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(engine)
    try:
        with engine.begin() as scratch:
            scratch.execute(delete(LedgerState))
            for model in LEDGER_TABLES:
                table = model.__table__
                columns = [c for c in table.columns if c.name != "payload"]
                rows = [dict(row) for row in session.execute(select(*columns)).mappings()]
                if table.name == "stripe_event":
                    # A dry run needs to know which events are stored, not what they said.
                    for row in rows:
                        row["payload"] = ""
                if rows:
                    scratch.execute(insert(table), rows)
        session.rollback()
        copy = sessionmaker(engine, expire_on_commit=False)()
        try:
            yield copy
        finally:
            copy.close()
    finally:
        engine.dispose()


def _record(
    target: Session,
    event: dict[str, Any],
    policy: ledger.Policy,
    now: datetime,
    report: Report,
) -> ledger.Outcome | None:
    try:
        envelope = parse_envelope(event)
        result = ledger.record_event(target, envelope, json.dumps(event), policy, now=now)
    except InvalidEvent as exc:
        report.unreadable.append(f"{event.get('id')}: {exc}")
        return None
    except ledger.StorageError as exc:
        raise ReconcileError(
            f"{exc}. Events recorded before it stay recorded; run reconcile again."
        ) from exc
    return result.outcome


def _feed_events(
    target: Session,
    snapshot: Snapshot,
    policy: ledger.Policy,
    now: datetime,
    report: Report,
) -> None:
    events = sorted(snapshot.events, key=lambda e: (e.get("created") or 0, str(e.get("id"))))
    report.events_seen = len(events)
    stored = _stored(target, [str(e.get("id")) for e in events])
    for event in events:
        if event.get("id") in stored:
            report.events_already += 1
            continue
        outcome = _record(target, event, policy, now, report)
        if outcome == ledger.Outcome.DUPLICATE:  # a webhook delivered it meanwhile
            report.events_already += 1
        elif outcome is not None:
            report.events_new.append((event["id"], event["type"], outcome.value))


def _stored(target: Session, ids: list[str]) -> set[str]:
    """Ids already stored with a final outcome (a failed one is worth another try)."""
    found: set[str] = set()
    for i in range(0, len(ids), 500):
        found.update(
            target.scalars(
                select(StripeEvent.id).where(
                    StripeEvent.id.in_(ids[i : i + 500]),
                    StripeEvent.outcome != ledger.Outcome.FAILED.value,
                )
            )
        )
    target.rollback()
    return found


def _counted_mode(policy: ledger.Policy, obj: dict[str, Any]) -> bool:
    livemode = bool(obj.get("livemode", False))
    return policy.livemode is None or livemode == (policy.livemode == "live")


def _agrees(membership: Membership | None, subscription: dict[str, Any]) -> bool:
    if membership is None or membership.kind != "subscription":
        return False
    status = subscription.get("status")
    final = status in FINAL_STATUSES
    state = SUBSCRIPTION_STATES.get(status)  # type: ignore[arg-type]
    return membership.state == state and (membership.final_at is not None) == final


def _feed_objects(
    target: Session,
    snapshot: Snapshot,
    policy: ledger.Policy,
    now: datetime,
    report: Report,
) -> None:
    fed: list[dict[str, Any]] = []
    for subscription in sorted(snapshot.subscriptions, key=lambda s: str(s.get("id"))):
        report.objects_seen += 1
        if not _counted_mode(policy, subscription):
            report.objects_other_mode += 1
            continue
        if subscription.get("status") not in SUBSCRIPTION_STATES or not isinstance(
            subscription.get("id"), str
        ):
            report.unreadable.append(
                f"subscription {subscription.get('id')}: status {subscription.get('status')!r}"
            )
            continue
        membership = target.get(Membership, subscription["id"])
        agrees = _agrees(membership, subscription)
        # A start is only ever added to a membership whose start the ledger does not know:
        # where its own events dated one, they are more exact than the object.
        start_known = membership is not None and membership.started_at is not None
        target.rollback()
        events = subscription_events(subscription, status_known=agrees, start_known=start_known)
        if not events:
            report.objects_agreeing += 1
            continue
        fed.append(subscription)
        for event in events:
            _record_synthesised(target, event, policy, now, report)

    for checkout_session in sorted(snapshot.checkout_sessions, key=lambda s: str(s.get("id"))):
        report.objects_seen += 1
        if not _counted_mode(policy, checkout_session):
            report.objects_other_mode += 1
            continue
        if checkout_session.get("payment_status") not in PAID_CHECKOUT:
            report.objects_agreeing += 1  # nothing to count: an unpaid delayed payment
            continue
        if checkout_session.get("mode") != "payment":
            report.objects_covered += 1
            continue
        known = target.get(Membership, checkout_session.get("id")) is not None
        target.rollback()
        if known:
            report.objects_agreeing += 1
            continue
        _record_synthesised(target, checkout_event(checkout_session), policy, now, report)

    for subscription in fed:
        membership = target.get(Membership, subscription["id"])
        if membership is not None and not _agrees(membership, subscription):
            report.unresolved.append(
                f"subscription {subscription['id']} ({membership.member_key}): Stripe says "
                f"{subscription['status']}, the ledger keeps {membership.state}"
                f"{' (ended)' if membership.final_at else ''} from event "
                f"{membership.state_event_id} of {membership.state_at:%Y-%m-%d %H:%M:%S}"
            )
    target.rollback()


def _record_synthesised(
    target: Session,
    event: dict[str, Any],
    policy: ledger.Policy,
    now: datetime,
    report: Report,
) -> None:
    outcome = _record(target, event, policy, now, report)
    if outcome is not None and outcome != ledger.Outcome.DUPLICATE:
        report.synthesised_new.append((event["id"], event["type"], outcome.value))


# --- comparing before and after ---------------------------------------------------------------


def _rows(target: Session, model: type, fields: tuple[str, ...]) -> dict[str, tuple]:
    columns = [getattr(model, name) for name in fields]
    rows = {row[0]: tuple(row[1:]) for row in target.execute(select(model.key, *columns))}
    target.rollback()
    return rows


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return "forever" if value.year == 9999 else value.astimezone(UTC).strftime("%Y-%m-%d")
    return "-" if value is None else str(value)


def _diff(
    kind: str,
    before: dict[str, tuple],
    after: dict[str, tuple],
    fields: tuple[str, ...],
    report: Report,
) -> None:
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None:
            assert new is not None
            shown = ", ".join(
                f"{name} {_show(value)}" for name, value in zip(fields, new, strict=True)
            )
            report.changes.append(f"{kind} {key}: new ({shown})")
        elif new is None:
            report.changes.append(f"{kind} {key}: gone")
        else:
            shown = ", ".join(
                f"{name} {_show(a)} -> {_show(b)}"
                for name, a, b in zip(fields, old, new, strict=True)
                if a != b
            )
            report.changes.append(f"{kind} {key}: {shown}")


def _counts(target: Session, now: datetime) -> dict[str, tuple[str, int]]:
    counts = {
        campaign.slug: (campaign.rule, progress.compute(target, campaign, now).count)
        for campaign in target.scalars(select(Campaign).order_by(Campaign.slug))
    }
    target.rollback()
    return counts

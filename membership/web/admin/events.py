"""GET /admin/events (webhook health), one event's payload, and reprocessing a failed one."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from ...database import db
from ...ledger import store as ledger
from ...models import StripeEvent
from ...sources.stripe.events import InvalidEvent, load
from . import audit_log, bp
from .views_common import page_number

PER_PAGE = 50
OUTCOMES = ("applied", "ignored", "failed")
# Stripe's type names; no length limit, as stripe_event.type is unbounded text.
EVENT_TYPE = re.compile(r"^[a-z0-9_.]+$")


def _filters() -> tuple[str, str]:
    outcome = request.args.get("outcome", "").strip()
    if outcome and outcome not in OUTCOMES:
        abort(400, f"outcome must be one of {', '.join(OUTCOMES)}")
    event_type = request.args.get("type", "").strip()
    if event_type and not EVENT_TYPE.fullmatch(event_type):
        abort(400, "type must be a Stripe event type such as invoice.paid")
    return outcome, event_type


@bp.get("/events")
def events() -> ResponseReturnValue:
    outcome, event_type = _filters()
    page = page_number()
    session = db.session
    query = select(StripeEvent)
    if outcome:
        query = query.where(StripeEvent.outcome == outcome)
    if event_type:
        query = query.where(StripeEvent.type == event_type)
    rows = list(
        session.scalars(
            query.order_by(StripeEvent.received_at.desc(), StripeEvent.id.desc())
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE + 1)  # one more tells whether there is a next page
        )
    )
    types = list(session.scalars(select(StripeEvent.type).distinct().order_by(StripeEvent.type)))
    totals = {
        outcome_name: n
        for outcome_name, n in session.execute(
            select(StripeEvent.outcome, func.count()).group_by(StripeEvent.outcome)
        )
    }
    return render_template(
        "admin/events.html",
        events=rows[:PER_PAGE],
        has_next=len(rows) > PER_PAGE,
        page=page,
        outcome=outcome,
        event_type=event_type,
        outcomes=OUTCOMES,
        types=types,
        totals=totals,
    )


def _event_or_404(event_id: str) -> StripeEvent:
    event = db.session.get(StripeEvent, event_id)
    if event is None:
        abort(404, "No such event.")
    return event


@bp.get("/events/<event_id>")
def event(event_id: str) -> ResponseReturnValue:
    stored = _event_or_404(event_id)
    try:
        pretty = json.dumps(load(stored.payload), indent=2, ensure_ascii=False)
    except InvalidEvent:  # not JSON, or nested too deep to indent safely: shown as stored
        pretty = stored.payload
    return render_template("admin/event.html", event=stored, payload=pretty)


@bp.post("/events/<event_id>/replay")
def replay(event_id: str) -> ResponseReturnValue:
    _event_or_404(event_id)
    config = current_app.config
    policy = ledger.Policy(
        livemode=config["STRIPE_LIVEMODE"], term=timedelta(days=config["MEMBERSHIP_TERM_DAYS"])
    )
    try:
        result = ledger.replay(db.session, event_id, policy)
    except (ledger.StorageError, InvalidEvent) as exc:
        db.session.rollback()
        flash(f"Could not reprocess {event_id}: {exc}", "error")
        return redirect(url_for("admin.event", event_id=event_id))
    outcome = result.outcome.value if result else "missing"
    detail = f" ({result.detail})" if result and result.detail else ""
    audit_log.record(audit_log.REPLAY, f"{event_id}: {outcome}{detail}")
    flash(
        f"Reprocessed {event_id}: {outcome}{detail}.",
        "error" if outcome == "failed" else "success",
    )
    return redirect(url_for("admin.event", event_id=event_id))

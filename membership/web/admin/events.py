"""GET /admin/events (webhook health), one event's payload, and reprocessing a failed one."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...accounts import audit
from ...database import db
from ...ledger import event_log
from ...ledger import store as ledger
from ...models import StripeEvent
from ...sources.payloads import NotAnEvent as InvalidEvent  # (lead: interim, until merged)
from ...sources.payloads import load
from . import audit_log, bp
from .views_common import page_number

# Stripe's type names; no length limit, as stripe_event.type is unbounded text.
EVENT_TYPE = re.compile(r"^[a-z0-9_.]+$")


def _filters() -> tuple[str, str]:
    outcome = request.args.get("outcome", "").strip()
    if outcome and outcome not in event_log.OUTCOMES:
        abort(400, f"outcome must be one of {', '.join(event_log.OUTCOMES)}")
    event_type = request.args.get("type", "").strip()
    if event_type and not EVENT_TYPE.fullmatch(event_type):
        abort(400, "type must be a Stripe event type such as invoice.paid")
    return outcome, event_type


@bp.get("/events")
def events() -> ResponseReturnValue:
    outcome, event_type = _filters()
    found = event_log.page(db.session, page_number(), outcome=outcome, event_type=event_type)
    return render_template(
        "admin/events.html",
        events=found.events,
        has_next=found.has_next,
        page=found.number,
        outcome=outcome,
        event_type=event_type,
        outcomes=event_log.OUTCOMES,
        types=found.types,
        totals=found.totals,
    )


def _event_or_404(event_id: str) -> StripeEvent:
    event = event_log.get_event(db.session, event_id)
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
    audit_log.record(audit.REPLAY, f"{event_id}: {outcome}{detail}")
    flash(
        f"Reprocessed {event_id}: {outcome}{detail}.",
        "error" if outcome == "failed" else "success",
    )
    return redirect(url_for("admin.event", event_id=event_id))

"""GET /admin/events (webhook health), one event's payload, and reprocessing a failed one."""

from __future__ import annotations

import json
import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ... import sources
from ...accounts import audit
from ...campaigns import counted
from ...database import db
from ...ledger import event_log, store
from ...models import Event
from ...sources.payloads import NotAnEvent, load
from . import audit_log, bp
from .views_common import page_number

# Providers' type names (invoice.paid, members:pledge:update); no length limit, as
# event.type is unbounded text.
EVENT_TYPE = re.compile(r"^[a-z0-9_.:]+$")


def _filters() -> tuple[str, str]:
    outcome = request.args.get("outcome", "").strip()
    if outcome and outcome not in event_log.OUTCOMES:
        abort(400, f"outcome must be one of {', '.join(event_log.OUTCOMES)}")
    event_type = request.args.get("type", "").strip()
    if event_type and not EVENT_TYPE.fullmatch(event_type):
        abort(400, "type must be an event type such as invoice.paid")
    return outcome, event_type


@bp.get("/events")
def events() -> ResponseReturnValue:
    outcome, event_type = _filters()
    found = event_log.page(db.session, page_number(), outcome=outcome, event_type=event_type)
    translators = sources.translators(current_app.config)
    return render_template(
        "admin/events.html",
        events=found.events,
        verdicts=counted.of_events(db.session, found.events, translators),
        has_next=found.has_next,
        page=found.number,
        outcome=outcome,
        event_type=event_type,
        outcomes=event_log.OUTCOMES,
        types=found.types,
        totals=found.totals,
    )


def _event_or_404(source: str, event_id: str) -> Event:
    event = event_log.get_event(db.session, source, event_id)
    if event is None:
        abort(404, "No such event.")
    return event


@bp.get("/events/<source>/<event_id>")
def event(source: str, event_id: str) -> ResponseReturnValue:
    stored = _event_or_404(source, event_id)
    try:
        pretty = json.dumps(load(stored.payload), indent=2, ensure_ascii=False)
    except NotAnEvent:  # not JSON, or nested too deep to indent safely: shown as stored
        pretty = stored.payload
    translators = sources.translators(current_app.config)
    verdicts = counted.of_events(db.session, [stored], translators)
    return render_template(
        "admin/event.html",
        event=stored,
        payload=pretty,
        verdicts=verdicts.get((stored.source, stored.id), []),
    )


@bp.post("/events/<source>/<event_id>/replay")
def replay(source: str, event_id: str) -> ResponseReturnValue:
    _event_or_404(source, event_id)
    translate = sources.translators(current_app.config).get(source)
    if translate is None:
        abort(404, f"No source called {source!r} is configured.")
    here = url_for("admin.event", source=source, event_id=event_id)
    try:
        result = store.replay(db.session, source, event_id, translate)
    except (store.StorageError, ValueError) as exc:  # a stored payload that is not JSON any more
        db.session.rollback()
        flash(f"Could not reprocess {event_id}: {exc}", "error")
        return redirect(here)
    outcome = result.outcome.value if result else "missing"
    detail = f" ({result.detail})" if result and result.detail else ""
    audit_log.record(audit.REPLAY, f"{event_id}: {outcome}{detail}")
    flash(
        f"Reprocessed {event_id}: {outcome}{detail}.",
        "error" if outcome == "failed" else "success",
    )
    return redirect(here)

"""GET /admin/events, /admin/events/<source>/<id> and POST …/<source>/<id>/replay."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

from sqlalchemy import select

from membership.database import db
from membership.models import Event, utcnow
from tests import stripe_factory as sf
from tests.admin.conftest import audit_rows
from tests.conftest import count_of, csrf_token


def signup(n: int, **extra) -> dict:
    return sf.checkout_event(
        f"cs_{n}", int(time.time()), customer=f"cus_{n}", subscription=f"sub_{n}", **extra
    )


def store_failed(app, event: dict, minutes_ago: int = 0) -> str:
    """A stored event whose handling failed, as the webhook records one."""
    at = utcnow() - timedelta(minutes=minutes_ago)
    with app.app_context():
        db.session.add(
            Event(
                source="stripe",
                id=event["id"],
                type=event["type"],
                created=at,
                livemode=False,
                outcome="failed",
                detail="OperationalError: database is locked",
                payload=json.dumps(event),
                received_at=at,
                processed_at=at,
            )
        )
        db.session.commit()
    return event["id"]


def test_events_are_listed_newest_first_with_type_outcome_and_error(admin, admin_app, deliver):
    first, second = signup(1), sf.other_event("customer.created", int(time.time()))
    deliver(first)
    deliver(second)
    failed = store_failed(admin_app, signup(2), minutes_ago=-1)
    html = admin.get("/admin/events").get_data(as_text=True)
    assert re.findall(r'href="/admin/events/stripe/(evt_[^"]+)"', html) == [
        failed,
        second["id"],
        first["id"],
    ]
    assert "OperationalError: database is locked" in html
    assert '<span class="tag failed">failed</span>' in html
    assert '<span class="tag ignored">ignored</span>' in html
    assert '<span class="tag applied">applied</span>' in html


def test_events_filter_by_outcome_and_type(admin, admin_app, deliver):
    deliver(signup(1))
    deliver(sf.other_event("customer.created", int(time.time())))
    failed = store_failed(admin_app, signup(2))
    html = admin.get("/admin/events?outcome=failed").get_data(as_text=True)
    assert failed in html
    assert "customer.created</td>" not in html
    html = admin.get("/admin/events?type=customer.created").get_data(as_text=True)
    assert "customer.created</td>" in html
    assert failed not in html
    assert "No events match" in admin.get("/admin/events?outcome=ignored&type=invoice.paid").text


def test_event_filters_are_validated(admin):
    assert admin.get("/admin/events?outcome=exploded").status_code == 400
    assert admin.get("/admin/events?type=<script>").status_code == 400
    assert admin.get("/admin/events?page=0").status_code == 400
    assert admin.get("/admin/events?page=abc").status_code == 400


def test_events_are_paginated(admin, admin_app):
    now = utcnow()
    with admin_app.app_context():
        for n in range(55):
            at = now - timedelta(minutes=n)
            db.session.add(
                Event(
                    source="stripe",
                    id=f"evt_{n:03}",
                    type="customer.created",
                    created=at,
                    livemode=False,
                    outcome="ignored",
                    payload="{}",
                    received_at=at,
                    processed_at=at,
                )
            )
        db.session.commit()
    first = admin.get("/admin/events?type=customer.created").get_data(as_text=True)
    assert "evt_000" in first and "evt_049" in first and "evt_050" not in first
    assert 'href="/admin/events?page=2&amp;type=customer.created"' in first
    second = admin.get("/admin/events?page=2&type=customer.created").get_data(as_text=True)
    assert "evt_050" in second and "evt_054" in second and "evt_049" not in second
    assert 'rel="next"' not in second


def test_an_event_page_shows_its_payload_escaped(admin, admin_app):
    event = signup(1)
    event["data"]["object"]["client_reference_id"] = "<script>alert(1)</script>"
    store_failed(admin_app, event)
    response = admin.get(f"/admin/events/stripe/{event['id']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert '"type": "checkout.session.completed"' in html.replace("&#34;", '"')


def test_a_genuine_event_the_rules_cannot_read_is_in_the_log_with_its_reason(admin, deliver):
    event = signup(1, mode="payment")
    del event["data"]["object"]["mode"]  # as older API versions sent checkout sessions
    event["api_version"] = "2019-05-16"
    assert deliver(event).status_code == 500
    html = admin.get("/admin/events?outcome=failed").get_data(as_text=True)
    assert f'href="/admin/events/stripe/{event["id"]}"' in html
    assert "UnreadableEvent: the checkout.session has no mode" in html
    page = admin.get(f"/admin/events/stripe/{event['id']}").get_data(as_text=True)
    assert "<dt>API version</dt><dd>2019-05-16</dd>" in page
    assert "Reprocess this event" in page


def test_events_of_a_long_type_can_be_listed_by_type(admin, deliver):
    kind = "v2.core." + "a_long_resource_name." * 10 + "updated"
    event = sf.other_event(kind, int(time.time()))
    assert deliver(event).status_code == 200
    response = admin.get(f"/admin/events?type={kind}")
    assert response.status_code == 200
    assert f'href="/admin/events/stripe/{event["id"]}"' in response.get_data(as_text=True)


def test_an_unknown_event_is_a_404(admin):
    assert admin.get("/admin/events/stripe/evt_nope").status_code == 404
    response = admin.post(
        "/admin/events/stripe/evt_nope/replay", data={"csrf_token": csrf_token(admin, "/admin/")}
    )
    assert response.status_code == 404


def test_a_failed_event_can_be_reprocessed_and_it_is_audited(admin, admin_app, campaign):
    campaign()
    failed = store_failed(admin_app, signup(1))
    page = admin.get(f"/admin/events/stripe/{failed}").get_data(as_text=True)
    assert "Reprocess this event" in page
    assert count_of(admin) == 0
    response = admin.post(
        f"/admin/events/stripe/{failed}/replay", data={"csrf_token": csrf_token(admin, "/admin/")}
    )
    assert response.status_code == 302
    assert "applied" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert count_of(admin) == 1
    with admin_app.app_context():
        assert db.session.scalar(select(Event.outcome)) == "applied"
    [entry] = [r for r in audit_rows(admin_app) if r.action == "event.replayed"]
    assert entry.actor == "editor"
    assert failed in entry.detail and "applied" in entry.detail


def test_reprocessing_an_applied_event_changes_nothing(admin, deliver, campaign):
    campaign()
    event = signup(1)
    deliver(event)
    assert "Reprocess" not in admin.get(f"/admin/events/stripe/{event['id']}").get_data(
        as_text=True
    )
    response = admin.post(
        f"/admin/events/stripe/{event['id']}/replay",
        data={"csrf_token": csrf_token(admin, "/admin/")},
    )
    assert "duplicate" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert count_of(admin) == 1


def test_an_event_of_a_source_this_deployment_does_not_know_is_shown_but_not_reprocessed(
    admin, app
):
    event = signup(7)
    store_failed(app, event)
    with app.app_context():
        stored = db.session.get(Event, ("stripe", event["id"]))
        stored.source = "retired-crm"
        db.session.commit()
    page = f"/admin/events/retired-crm/{event['id']}"
    assert admin.get(page).status_code == 200
    assert admin.get(f"/admin/events/stripe/{event['id']}").status_code == 404
    response = admin.post(f"{page}/replay", data={"csrf_token": csrf_token(admin, "/admin/")})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Event, ("retired-crm", event["id"])).attempts == 1

"""/admin/sources/tokens: the membership API's tokens made (shown once), listed and revoked,
each in the audit log; and the dashboard's per-source summary shows an API source."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from membership.database import db
from membership.models import Event, SourceToken
from tests.admin.conftest import audit_rows, post_form

PAGE = "/admin/sources/tokens"
TOKEN = re.compile(r'<code id="new-token">(mk_[A-Za-z0-9_-]+)</code>')


def make(admin, name: str = "crm") -> str:
    answer = post_form(admin, PAGE, {"source": name}, token_from=PAGE)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    found = TOKEN.search(answer.get_data(as_text=True))
    assert found
    return found.group(1)


def test_a_token_is_made_shown_once_listed_by_its_start_and_revoked(admin, admin_app):
    token = make(admin)
    page = admin.get(PAGE).get_data(as_text=True)
    assert token not in page  # never again
    assert token[:7] in page and "api-crm" in page and "live" in page
    with admin_app.app_context():
        row = db.session.scalars(select(SourceToken)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert row.created_by == "editor"
        token_id = row.id
    revoked = post_form(admin, PAGE + "/revoke", {"token": token_id}, token_from=PAGE)
    assert revoked.status_code == 302
    assert "revoked" in admin.get(PAGE).get_data(as_text=True)
    actions = [(e.action, e.actor) for e in audit_rows(admin_app)]
    assert ("source_token.created", "editor") in actions
    assert ("source_token.revoked", "editor") in actions
    refused = admin.put(
        "/api/sources/api-crm/memberships/m1",
        json={"member": "p1", "status": "active", "started_at": "2026-01-01T00:00:00Z",
              "updated_at": "2026-01-02T00:00:00Z"},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert refused.status_code == 401


def test_a_bad_source_name_is_refused_and_nothing_is_made(admin, admin_app):
    answer = post_form(admin, PAGE, {"source": "Not a name!"}, token_from=PAGE)
    assert answer.status_code == 422
    assert "is not a source name" in answer.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.scalars(select(SourceToken)).all() == []


def test_the_dashboard_shows_an_api_source_with_its_members(admin, admin_app, campaign):
    campaign()
    token = make(admin, "app-store")
    now = datetime.now(UTC)
    answer = admin.put(
        "/api/sources/api-app-store/memberships/sub-1",
        json={
            "member": "user-1",
            "status": "active",
            "started_at": (now - timedelta(days=9)).isoformat(),
            "updated_at": (now - timedelta(days=1)).isoformat(),
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.json
    section = admin.get("/admin/").get_data(as_text=True).split('id="sources"')[1]
    row = section.split("<td>api-app-store</td>")[1].split("</tr>")[0]
    assert re.search(r"<td>1</td>", row), row  # one active member
    # The webhook log shows the stored PUT, replays it as a duplicate; the ledger CSV lists it.
    log = admin.get("/admin/events").get_data(as_text=True)
    assert "membership.put" in log and "api-app-store" in log
    event_page = admin.get(f"/admin/events/api-app-store/{answer.json['event_id']}")
    assert event_page.status_code == 200
    replayed = post_form(admin, f"/admin/events/api-app-store/{answer.json['event_id']}/replay", {})
    assert replayed.status_code in (200, 302)
    with admin_app.app_context():
        stored = db.session.get(Event, ("api-app-store", answer.json["event_id"]))
        assert (stored.outcome, stored.duplicates) == ("applied", 1)
    ledger = admin.get("/admin/exports/memberships.csv").get_data(as_text=True)
    assert "sub-1" in ledger and "api-app-store" in ledger


def test_the_page_needs_a_login(client, admin_app):
    assert client.get(PAGE).status_code == 302
    assert client.post(PAGE, data={"source": "crm"}).status_code in (302, 400)

"""CSV exports: /admin/campaigns/<slug>/daily.csv and /admin/exports/memberships.csv."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

import pytest

from membership.models import utcnow
from membership.web.admin.exports import safe_cell
from tests import stripe_factory as sf


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_daily_series_is_exported_as_csv(admin, campaign, deliver):
    today = utcnow().date()
    campaign(starts_on=today - timedelta(days=2), baseline=10)
    deliver(sf.checkout_event("cs_1", int(time.time()), customer="cus_1", subscription="sub_1"))
    response = admin.get("/admin/campaigns/drive/daily.csv")
    assert 'filename="drive-daily.csv"' in response.headers["Content-Disposition"]
    rows = rows_of(response)
    assert rows[0] == ["date", "count", "joined", "left"]
    assert [r[0] for r in rows[1:]] == [(today - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    assert rows[-1] == [today.isoformat(), "11", "1", "0"]


def test_the_ledger_export_has_stripe_ids_and_dates_but_no_personal_data(admin, deliver):
    event = sf.checkout_event("cs_1", int(time.time()), customer="cus_1", subscription="sub_1")
    event["data"]["object"]["customer_details"] = {"email": "reader@example.org", "name": "Ada"}
    deliver(event)
    response = admin.get("/admin/exports/memberships.csv")
    body = response.get_data(as_text=True)
    rows = rows_of(response)
    assert rows[0] == [
        "membership",
        "kind",
        "member",
        "state",
        "started_at",
        "active_until",
        "refunded",
        "source",
    ]
    assert rows[1][0] == "sub_1"
    assert rows[1][7] == "stripe"
    assert rows[1][2] == "cus_1"
    assert rows[1][3] == "active"
    assert rows[1][4].endswith("Z")
    assert rows[1][6] == "no"
    assert "reader@example.org" not in body and "Ada" not in body


def test_the_ledger_export_shows_a_subscription_stripe_ended_as_lapsed(admin, deliver):
    now = int(time.time())
    # Created and deleted in one second: the tie keeps "active" in the state register.
    deliver(sf.subscription_event("created", "sub_1", "cus_1", "active", now))
    deliver(sf.subscription_event("deleted", "sub_1", "cus_1", "canceled", now))
    deliver(sf.subscription_event("created", "sub_2", "cus_2", "active", now))
    rows = rows_of(admin.get("/admin/exports/memberships.csv"))
    assert [(r[0], r[3]) for r in rows[1:]] == [("sub_1", "lapsed"), ("sub_2", "active")]


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("sub_123", "sub_123"),
        (-5, -5),
        (12, 12),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_neutralised(value, safe):
    assert safe_cell(value) == safe


def test_text_cells_in_the_export_are_neutralised(admin, deliver):
    event = sf.checkout_event("=cmd|'/c calc'!A1", int(time.time()), mode="payment")
    event["data"]["object"]["customer"] = None
    assert deliver(event).status_code == 200
    rows = rows_of(admin.get("/admin/exports/memberships.csv"))
    assert rows[1][0] == "'=cmd|'/c calc'!A1"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_exports_need_a_login(admin_app, client, campaign):
    campaign()
    for url in ("/admin/campaigns/drive/daily.csv", "/admin/exports/memberships.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/login")

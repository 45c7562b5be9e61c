"""GET /admin/audit: every admin action, newest first, without passwords."""

from __future__ import annotations

from membership.database import db
from membership.models import AuditEntry
from tests.admin.conftest import post_form
from tests.conftest import PASSWORD, login


def test_the_audit_log_lists_logins_settings_adjustments_and_replays(admin, admin_app, campaign):
    campaign()
    post_form(
        admin,
        "/admin/campaigns/drive/adjustments",
        {"direction": "add", "members": "2", "reason": "Stand at the fair"},
    )
    html = admin.get("/admin/audit").get_data(as_text=True)
    assert "<code>login</code>" in html
    assert "<code>adjustment.added</code>" in html
    assert "drive: +2 (Stand at the fair)" in html
    assert html.index("adjustment.added") < html.index("<code>login</code>")  # newest first
    assert "127.0.0.1" in html


def test_failed_logins_show_the_username_tried_and_never_the_password(admin_app, client, user):
    login(client, username="editor", password="typo-in-the-password")
    login(client)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "login.failed" in html
    assert "username tried: &#39;editor&#39;" in html
    assert "typo-in-the-password" not in html
    assert PASSWORD not in html


def test_audit_text_is_escaped(admin, admin_app):
    with admin_app.app_context():
        db.session.add(AuditEntry(actor="x", action="test", detail="<b>bold</b>"))
        db.session.commit()
    html = admin.get("/admin/audit").get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_the_audit_log_is_paginated(admin, admin_app):
    with admin_app.app_context():
        for n in range(120):
            db.session.add(AuditEntry(actor="x", action="test", detail=f"entry {n:03}"))
        db.session.commit()
    first = admin.get("/admin/audit").get_data(as_text=True)
    assert "entry 119" in first and 'rel="next"' in first
    second = admin.get("/admin/audit?page=2").get_data(as_text=True)
    assert "entry 000" in second and "entry 119" not in second
    assert admin.get("/admin/audit?page=-1").status_code == 400


def test_a_password_typed_into_the_username_field_is_not_kept(admin_app, client, user):
    login(client, username="s3cret-typed-in-the-wrong-box", password="whatever")
    login(client)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "s3cret-typed-in-the-wrong-box" not in html
    assert "username tried: &#39;(no such user)&#39;" in html

"""GET/POST /admin/login, POST /admin/logout: accounts, sessions and their cookies."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from sqlalchemy import select

from membership import create_app
from membership.accounts import users
from membership.database import db
from membership.models import AdminSession, AdminUser, utcnow
from tests.admin.conftest import audit_rows
from tests.conftest import PASSWORD, USERNAME, csrf_token, login


def session_cookie(client):
    return client.get_cookie("session")


def test_the_login_form_has_exactly_username_password_and_csrf_token(admin_app, client):
    html = client.get("/admin/login").get_data(as_text=True)
    names = set(re.findall(r'<input[^>]*name="([^"]+)"', html))
    assert names == {"username", "password", "csrf_token"}
    assert 'type="password"' in html
    assert '<label for="username">' in html and '<label for="password">' in html


def test_a_user_logs_in_and_sees_the_dashboard(admin_app, client, user):
    response = login(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert USERNAME in page.get_data(as_text=True)
    assert "Sign out" in page.get_data(as_text=True)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(admin_app, client, user):
    wrong_password = login(client, password="not the password at all")
    unknown_user = login(client, username="nobody", password=PASSWORD)
    for response in (wrong_password, unknown_user):
        assert response.status_code == 401
        assert "Wrong username or password" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_a_failed_login_keeps_the_username_but_never_the_password(admin_app, client, user):
    html = login(client, password="sekret-typed-wrong").get_data(as_text=True)
    assert f'value="{USERNAME}"' in html
    assert "sekret-typed-wrong" not in html


def test_logins_and_failures_are_audited_without_the_password(admin_app, client, user, caplog):
    caplog.set_level(logging.DEBUG)
    login(client, password="sekret-typed-wrong")
    login(client)
    rows = audit_rows(admin_app)
    assert [r.action for r in rows] == ["login.failed", "login"]
    assert "editor" in rows[0].detail
    assert rows[1].actor == USERNAME
    assert rows[0].ip == "127.0.0.1"
    everything = " ".join(f"{r.actor} {r.action} {r.detail}" for r in rows) + caplog.text
    assert "sekret-typed-wrong" not in everything
    assert PASSWORD not in everything


def test_passwords_are_stored_only_as_scrypt_hashes(admin_app, user):
    with admin_app.app_context():
        stored = db.session.scalar(select(AdminUser))
        assert stored.password_hash.startswith("scrypt:")
        assert PASSWORD not in stored.password_hash
        assert users.verify(db.session, USERNAME, PASSWORD) is not None
        assert users.verify(db.session, USERNAME, PASSWORD + "x") is None
        assert users.verify(db.session, "nobody", PASSWORD) is None


def test_the_session_cookie_is_httponly_and_samesite_lax(admin_app, client, user):
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # MEMBERSHIP_ENV=test serves plain http


def test_the_session_cookie_is_secure_in_production(db_url):
    from membership.web.admin import init_app

    app = create_app(
        {
            "DATABASE_URL": db_url,
            "ENVIRON": {"MEMBERSHIP_ENV": "production", "SECRET_KEY": "x" * 40},
        }
    )
    if "admin" not in app.blueprints:
        init_app(app)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/admin/login", base_url="https://admin.example")
    assert "Secure" in response.headers["Set-Cookie"]
    app.extensions["database.engine"].dispose()


def test_the_session_changes_at_login_and_old_tokens_stop_working(admin_app, client, user):
    before_token = csrf_token(client)
    before_cookie = session_cookie(client).value
    login(client)
    assert session_cookie(client).value != before_cookie
    response = client.post(
        "/admin/campaigns/new", data={"csrf_token": before_token, "slug": "x", "goal": "1"}
    )
    assert response.status_code == 400


def test_the_next_page_is_followed_only_inside_the_dashboard(admin_app, client, user):
    assert login(client, next="/admin/events").headers["Location"] == "/admin/events"
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    for evil in ("https://evil.example/", "//evil.example/admin", "/\\evil.example", "/elsewhere"):
        assert login(client, next=evil).headers["Location"] == "/admin/", evil
        client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})


def test_a_logged_out_visit_remembers_where_it_was_going(admin_app, client, user):
    response = client.get("/admin/events?outcome=failed")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login?next=/admin/events?outcome%3Dfailed"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/admin/events?outcome=failed"' in html


def test_logout_ends_the_session(admin, admin_app):
    response = admin.post("/admin/logout", data={"csrf_token": csrf_token(admin, "/admin/")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"
    assert admin.get("/admin/").status_code == 302
    assert "logout" in [r.action for r in audit_rows(admin_app)]


def test_logout_is_a_post_only(admin):
    assert admin.get("/admin/logout").status_code == 405
    assert admin.get("/admin/").status_code == 200


def test_a_password_change_ends_existing_sessions(admin, admin_app):
    assert admin.get("/admin/").status_code == 200
    with admin_app.app_context():
        users.set_password(db.session, USERNAME, "a brand new password")
    assert admin.get("/admin/").status_code == 302
    assert login(admin, password="a brand new password").status_code == 302


def test_a_deleted_user_is_logged_out(admin, admin_app):
    with admin_app.app_context():
        users.delete_user(db.session, USERNAME)
    assert admin.get("/admin/").status_code == 302


def test_a_session_past_its_expiry_ends(admin, admin_app):
    assert admin.get("/admin/").status_code == 200
    with admin_app.app_context():
        [row] = db.session.scalars(select(AdminSession))
        assert row.expires_at - row.created_at == timedelta(hours=12)  # ADMIN_SESSION_HOURS
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert admin.get("/admin/").status_code == 302


def test_a_session_from_another_browser_is_refused(admin, admin_app):
    # session_protection="strong": a cookie replayed with another User-Agent is dropped.
    response = admin.get("/admin/", headers={"User-Agent": "stolen-cookie/1.0"})
    assert response.status_code == 302


def test_a_logged_in_user_visiting_the_login_page_goes_to_the_dashboard(admin):
    response = admin.get("/admin/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"

"""Admin logins kept on the server: a copied cookie dies with its login; the CLI lists them."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from membership.accounts import sessions, users
from membership.database import db
from membership.models import AdminSession, AdminUser, utcnow
from tests.admin.conftest import audit_rows
from tests.conftest import PASSWORD, USERNAME, csrf_token, login


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie, as a thief would."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def stored_sessions(app: Flask) -> list[AdminSession]:
    with app.app_context():
        return list(db.session.scalars(select(AdminSession).order_by(AdminSession.created_at)))


def logout(client: FlaskClient):
    return client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})


def test_a_copied_cookie_works_while_the_login_is_open(admin, admin_app):
    # The premise of the tests below: the copy is as good as the original until the login ends.
    assert copy_of(admin_app, admin).get("/admin/").status_code == 200


def test_a_copied_cookie_stops_working_after_logout(admin, admin_app):
    thief = copy_of(admin_app, admin)
    assert logout(admin).status_code == 302
    response = thief.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")
    assert thief.get("/admin/campaigns/drive/summary.json").status_code == 401
    assert stored_sessions(admin_app) == []


def test_a_copied_cookie_stops_working_after_a_password_change(admin, admin_app):
    thief = copy_of(admin_app, admin)
    runner = admin_app.test_cli_runner()
    result = runner.invoke(
        args=["admin", "set-password", USERNAME, "--password-stdin"], input="a new long password\n"
    )
    assert result.exit_code == 0, result.output
    assert thief.get("/admin/").status_code == 302
    assert admin.get("/admin/").status_code == 302
    assert stored_sessions(admin_app) == []


def test_a_copied_cookie_stops_working_when_the_user_is_deleted(admin, admin_app):
    thief = copy_of(admin_app, admin)
    result = admin_app.test_cli_runner().invoke(args=["admin", "delete-user", USERNAME])
    assert result.exit_code == 0, result.output
    assert thief.get("/admin/").status_code == 302
    assert stored_sessions(admin_app) == []


def test_logging_out_ends_only_that_login(admin, admin_app):
    laptop_copy = copy_of(admin_app, admin)
    phone = admin_app.test_client()
    assert login(phone).status_code == 302
    assert len(stored_sessions(admin_app)) == 2
    logout(phone)
    assert admin.get("/admin/").status_code == 200
    assert laptop_copy.get("/admin/").status_code == 200
    assert len(stored_sessions(admin_app)) == 1


def test_the_server_keeps_only_a_hash_of_the_cookies_session_id(admin, admin_app):
    cookie = admin.get_cookie("session").value
    serializer = admin_app.session_interface.get_signing_serializer(admin_app)
    session_id = serializer.loads(cookie)["_user_id"]
    [row] = stored_sessions(admin_app)
    assert row.id_hash == hashlib.sha256(session_id.encode()).hexdigest()
    assert session_id not in (row.id_hash, row.user_agent, row.ip)
    assert len(session_id) >= 40  # 32 random bytes


def test_a_login_records_when_from_where_and_which_browser(admin, admin_app):
    [row] = stored_sessions(admin_app)
    assert row.ip == "127.0.0.1"
    assert row.user_agent.startswith("Werkzeug/")  # the test client's User-Agent
    assert row.expires_at - row.created_at == timedelta(hours=12)
    assert row.last_seen_at == row.created_at


def test_a_cookie_from_before_server_side_sessions_is_not_a_login(admin_app, user):
    # Such cookies held "user id:session token"; the signature is valid, the login is not.
    serializer = admin_app.session_interface.get_signing_serializer(admin_app)
    client = admin_app.test_client()
    client.set_cookie("session", serializer.dumps({"_user_id": "1:0123456789abcdef"}))
    assert client.get("/admin/").status_code == 302


def test_expired_logins_are_cleared_at_the_next_login(admin, admin_app):
    with admin_app.app_context():
        [row] = db.session.scalars(select(AdminSession))
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    other = admin_app.test_client()
    login(other)
    [left] = stored_sessions(admin_app)
    assert left.expires_at > left.created_at
    assert other.get("/admin/").status_code == 200
    assert admin.get("/admin/").status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(admin_app, user):
    start = utcnow()
    with admin_app.app_context():
        account = users.get_user(db.session, USERNAME)
        session_id = sessions.start(
            db.session, account, hours=12, ip="192.0.2.1", user_agent="UA", now=start
        )
        found = sessions.find(db.session, session_id, now=start + timedelta(seconds=59))
        assert found is not None and found.last_seen_at == start
        later = start + timedelta(minutes=5)
        assert sessions.find(db.session, session_id, now=later).last_seen_at == later
        db.session.expire_all()
        assert db.session.get(AdminSession, sessions.hash_id(session_id)).last_seen_at == later
        assert sessions.find(db.session, session_id, now=start + timedelta(hours=12)) is None
        assert sessions.find(db.session, "not-a-session") is None
        assert sessions.find(db.session, "") is None


# --- flask admin sessions | end-sessions ---------------------------------------------------------


def test_the_cli_lists_a_users_open_sessions_without_their_ids(admin, admin_app):
    phone = admin_app.test_client()
    token = csrf_token(phone)
    phone.post(
        "/admin/login",
        data={"username": USERNAME, "password": PASSWORD, "csrf_token": token},
        headers={"User-Agent": "Phone browser/1.0"},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    result = admin_app.test_cli_runner().invoke(args=["admin", "sessions", USERNAME])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert "ip 127.0.0.1" in lines[0] and "Werkzeug/" in lines[0]
    assert "ip 198.51.100.4" in lines[1] and "Phone browser/1.0" in lines[1]
    for line in lines:
        assert "created " in line and "last seen " in line and "expires " in line
    for row in stored_sessions(admin_app):
        assert row.id_hash not in result.output
    assert admin.get_cookie("session").value not in result.output


def test_the_cli_says_when_a_user_has_no_open_sessions_or_does_not_exist(admin_app, user):
    runner = admin_app.test_cli_runner()
    result = runner.invoke(args=["admin", "sessions", USERNAME])
    assert result.exit_code == 0
    assert f"{USERNAME} has no open sessions." in result.output
    missing = runner.invoke(args=["admin", "sessions", "nobody"])
    assert missing.exit_code != 0 and "no user called 'nobody'" in missing.output


def test_the_cli_ends_a_users_sessions_and_the_password_still_works(admin, admin_app):
    thief = copy_of(admin_app, admin)
    runner = admin_app.test_cli_runner()
    result = runner.invoke(args=["admin", "end-sessions", USERNAME])
    assert result.exit_code == 0, result.output
    assert f"Ended 1 open session of {USERNAME}." in result.output
    assert thief.get("/admin/").status_code == 302
    assert admin.get("/admin/").status_code == 302
    assert login(admin).status_code == 302
    assert [r.action for r in audit_rows(admin_app)][-2:] == ["user.sessions_ended", "login"]
    with admin_app.app_context():
        assert db.session.scalar(select(AdminUser.username)) == USERNAME

"""flask admin create-user | set-password | delete-user | list-users."""

from __future__ import annotations

from sqlalchemy import select

from membership.database import db
from membership.models import AdminUser
from tests.admin.conftest import audit_rows
from tests.conftest import login

PASSWORD = "a long and secret password"


def stored_users(app) -> list[AdminUser]:
    with app.app_context():
        return list(db.session.scalars(select(AdminUser)))


def test_create_user_reads_the_password_from_stdin_and_hashes_it(admin_app, runner, client):
    result = runner.invoke(
        args=["admin", "create-user", "alice", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created admin user alice" in result.output
    assert PASSWORD not in result.output
    [stored] = stored_users(admin_app)
    assert stored.username == "alice"
    assert stored.password_hash.startswith("scrypt:")
    assert login(client, "alice", PASSWORD).status_code == 302
    assert [r.action for r in audit_rows(admin_app)][0] == "user.created"


def test_create_user_prompts_twice_without_stdin(admin_app, runner):
    result = runner.invoke(
        args=["admin", "create-user", "alice"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output


def test_a_short_password_is_refused(admin_app, runner):
    result = runner.invoke(
        args=["admin", "create-user", "alice", "--password-stdin"], input="short\n"
    )
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert stored_users(admin_app) == []


def test_a_bad_or_taken_username_is_refused(admin_app, runner):
    args = ["admin", "create-user", "alice", "--password-stdin"]
    assert runner.invoke(args=args, input=PASSWORD).exit_code == 0
    again = runner.invoke(args=args, input=PASSWORD)
    assert again.exit_code != 0 and "already exists" in again.output
    bad = runner.invoke(args=["admin", "create-user", "al ice", "--password-stdin"], input=PASSWORD)
    assert bad.exit_code != 0 and "username" in bad.output


def test_set_password_changes_it_and_ends_sessions(admin_app, runner, client):
    runner.invoke(args=["admin", "create-user", "alice", "--password-stdin"], input=PASSWORD)
    login(client, "alice", PASSWORD)
    assert client.get("/admin/").status_code == 200
    result = runner.invoke(
        args=["admin", "set-password", "alice", "--password-stdin"], input="another long secret\n"
    )
    assert result.exit_code == 0, result.output
    assert client.get("/admin/").status_code == 302
    assert login(client, "alice", PASSWORD).status_code == 401
    assert login(client, "alice", "another long secret").status_code == 302
    missing = runner.invoke(
        args=["admin", "set-password", "bob", "--password-stdin"], input=PASSWORD
    )
    assert missing.exit_code != 0 and "no user called 'bob'" in missing.output


def test_delete_user_removes_them(admin_app, runner):
    runner.invoke(args=["admin", "create-user", "alice", "--password-stdin"], input=PASSWORD)
    result = runner.invoke(args=["admin", "delete-user", "alice"])
    assert result.exit_code == 0, result.output
    assert stored_users(admin_app) == []
    assert runner.invoke(args=["admin", "delete-user", "alice"]).exit_code != 0
    actions = [r.action for r in audit_rows(admin_app)]
    assert actions == ["user.created", "user.deleted"]


def test_list_users(admin_app, runner):
    assert "No admin users yet" in runner.invoke(args=["admin", "list-users"]).output
    runner.invoke(args=["admin", "create-user", "alice", "--password-stdin"], input=PASSWORD)
    assert "alice  last login never" in runner.invoke(args=["admin", "list-users"]).output


def test_passwords_never_reach_the_audit_log(admin_app, runner):
    runner.invoke(args=["admin", "create-user", "alice", "--password-stdin"], input=PASSWORD)
    runner.invoke(args=["admin", "set-password", "alice", "--password-stdin"], input=PASSWORD + "!")
    for row in audit_rows(admin_app):
        assert PASSWORD not in f"{row.actor} {row.action} {row.detail}"

"""`flask admin create-user|set-password|delete-user|list-users|sessions|end-sessions`.

Passwords come from stdin (--password-stdin, for scripts) or a hidden prompt; never from an
argument, which would sit in the shell history and the process list.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime

import click
from flask.cli import AppGroup

from ...accounts import audit, sessions, users
from ...cli import echo_each
from ...database import db
from ...models import AdminUser

admin_cli = AppGroup("admin", help="Manage admin dashboard users.")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _password_command(
    command: str, summary: str, change: Callable[..., object], action: str, done: str
) -> None:
    """Register `flask admin COMMAND NAME`, which sets NAME's password through ``change`` (which
    creates NAME or not) and says so in the audit log."""

    @admin_cli.command(command, help=summary)
    @click.argument("name")
    @click.option(
        "--password-stdin",
        "password_stdin",
        is_flag=True,
        help="Read the password from the first line of standard input.",
    )
    def run(name: str, password_stdin: bool) -> None:
        try:
            change(db.session, name, _password(password_stdin))
        except users.UserError as exc:  # refused before anything was written
            raise click.UsageError(str(exc)) from None
        audit.record(db.session, audit.CLI, action, name)
        click.echo(done.format(name=name))


_password_command(
    "create-user",
    "Create the admin user NAME.",
    users.create_user,
    audit.USER_CREATED,
    "Created admin user {name}.",
)
_password_command(
    "set-password",
    "Change NAME's password; their open sessions end.",
    users.set_password,
    audit.USER_PASSWORD,
    "Changed the password of {name}; their sessions have ended.",
)


@admin_cli.command("delete-user")
@click.argument("name")
def delete_user(name: str) -> None:
    """Delete the admin user NAME."""
    if not users.delete_user(db.session, name):
        raise click.UsageError(f"no user called {name!r}")
    audit.record(db.session, audit.CLI, audit.USER_DELETED, name)
    click.echo(f"Deleted admin user {name}.")


@admin_cli.command("list-users")
def list_users() -> None:
    """List admin users and when they last logged in."""
    echo_each(
        users.list_users(db.session),
        lambda user: (
            f"{user.username}  last login "
            + (_when(user.last_login_at) if user.last_login_at else "never")
        ),
        "No admin users yet: flask --app app admin create-user NAME",
    )


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _user_or_fail(name: str) -> AdminUser:
    user = users.get_user(db.session, name)
    if user is None:
        raise click.UsageError(f"no user called {name!r}")
    return user


@admin_cli.command("sessions")
@click.argument("name")
def list_sessions(name: str) -> None:
    """List NAME's open logins: when, from where, with which browser (never the session id)."""
    found = sessions.open_sessions(db.session, _user_or_fail(name).id)
    if not found:
        click.echo(f"{name} has no open sessions.")
    for row in found:
        click.echo(
            f"created {_when(row.created_at)}  last seen {_when(row.last_seen_at)}  "
            f"expires {_when(row.expires_at)}  ip {row.ip or '-'}  {row.user_agent or '-'}"
        )


@admin_cli.command("end-sessions")
@click.argument("name")
def end_sessions(name: str) -> None:
    """End every open login of NAME (a lost laptop, a shared computer); the password stays."""
    ended = sessions.end_all(db.session, _user_or_fail(name).id)
    # One commit: the logins end and the audit log says so, or neither happens.
    audit.record(db.session, audit.CLI, audit.USER_SESSIONS_ENDED, f"{name}: {ended}")
    click.echo(f"Ended {ended} open session{'' if ended == 1 else 's'} of {name}.")

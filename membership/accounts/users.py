"""Admin accounts: create, change the password, delete, verify. No Flask here.

Passwords are kept only as scrypt hashes (werkzeug's default KDF). Changing a password or
deleting a user ends every login of theirs (sessions.py): whoever knew the old password, or
copied a cookie, is out.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import AdminUser, utcnow
from . import sessions

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # hashing megabytes of "password" is a denial of service, not security
KDF = "scrypt"
# Checked when the username is unknown, so that a wrong name costs as long as a wrong password
# and the response time does not tell which names exist.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16), method=KDF)


class UserError(ValueError):
    """A username or password is not acceptable; the message says why."""


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise UserError(f"the password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"the password must be at most {MAX_PASSWORD} characters")


def get_user(session: Session, username: str) -> AdminUser | None:
    return session.scalar(select(AdminUser).where(AdminUser.username == username))


def list_users(session: Session) -> list[AdminUser]:
    return list(session.scalars(select(AdminUser).order_by(AdminUser.username)))


def create_user(session: Session, username: str, password: str) -> AdminUser:
    if not USERNAME.fullmatch(username or ""):
        raise UserError(
            "the username must be 1-64 letters, digits or . _ @ -, starting with a letter or digit"
        )
    _check_password(password)
    if get_user(session, username) is not None:
        raise UserError(f"a user called {username!r} already exists")
    user = AdminUser(
        username=username,
        password_hash=generate_password_hash(password, method=KDF),
    )
    session.add(user)
    session.commit()
    return user


def set_password(session: Session, username: str, password: str) -> AdminUser:
    user = get_user(session, username)
    if user is None:
        raise UserError(f"no user called {username!r}")
    _check_password(password)
    user.password_hash = generate_password_hash(password, method=KDF)
    sessions.end_all(session, user.id)
    session.commit()
    return user


def delete_user(session: Session, username: str) -> bool:
    user = get_user(session, username)
    if user is None:
        return False
    # The foreign key cascades too; deleting here does not depend on the database enforcing it.
    sessions.end_all(session, user.id)
    session.delete(user)
    session.commit()
    return True


def verify(session: Session, username: str, password: str) -> AdminUser | None:
    """The user if the password is right, else None; as slow either way."""
    user = get_user(session, username) if username else None
    if password and len(password) <= MAX_PASSWORD:
        if user is None:
            check_password_hash(_DUMMY_HASH, password)
        elif check_password_hash(user.password_hash, password):
            return user
    return None


def record_login(session: Session, user: AdminUser) -> None:
    user.last_login_at = utcnow()
    session.commit()

"""GET/POST /admin/login and POST /admin/logout."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import UserMixin, current_user, login_user, logout_user

from ...accounts import audit, sessions, users
from ...database import db
from ...models import AdminUser
from . import audit_log, bp, limiter, login_manager, safe_next

WRONG = "Wrong username or password."


class Principal(UserMixin):
    """The logged-in user as Flask-Login sees it; its id is the login's session id."""

    def __init__(self, user: AdminUser, session_id: str) -> None:
        self.user_id = user.id
        self.username = user.username
        self.session_id = session_id

    def get_id(self) -> str:
        return self.session_id


@login_manager.user_loader
def load_user(session_id: str) -> Principal | None:
    # The signed cookie alone is not enough: its login must still be open on the server, so
    # that logout, a password change or deleting the user ends it even in a copied cookie.
    # (A cookie from before server-side sessions holds "id:token", which matches no row.)
    user = sessions.user_of(db.session, session_id)
    return Principal(user, session_id) if user is not None else None


def _login_limit() -> str:
    return current_app.config["ADMIN_LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(target or url_for("admin.index"))
        return render_template("admin/login.html", next=target, username="")

    username = request.form.get("username", "").strip()[:200]
    password = request.form.get("password", "")
    user = users.verify(db.session, username, password)
    if user is None:
        # Only a real account's name is kept: a password typed into the username field by
        # mistake must never end up in the audit log.
        tried = username if users.get_user(db.session, username) else "(no such user)"
        audit_log.record(audit.LOGIN_FAILED, f"username tried: {tried!r}", actor="-")
        return render_template("admin/login.html", next=target, username=username, error=WRONG), 401

    # A fresh session: nothing from before the login (a planted cookie, an old CSRF token)
    # carries over into the logged-in one.
    session.clear()
    session_id = sessions.start(
        db.session,
        user,
        hours=current_app.config["ADMIN_SESSION_HOURS"],
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
    )
    login_user(Principal(user, session_id))
    users.record_login(db.session, user)
    audit_log.record(audit.LOGIN, "", actor=user.username)
    return redirect(target or url_for("admin.index"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    audit_log.record(audit.LOGOUT)
    sessions.end(db.session, current_user.session_id)
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("admin.login"))

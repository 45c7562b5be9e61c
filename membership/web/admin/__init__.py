"""The admin dashboard (blueprint): logins, the count and its pace, webhook health,
adjustments, campaign settings, exports and the audit log.

Everything under /admin needs a login, except the login page and the dashboard's own CSS and
JS. Security is set up here, in one place, for the blueprint only:

- Flask-Login keeps a random session id in the signed session cookie; the login it names is
  kept on the server (sessions.py), so logout, a password change or deleting the user ends it,
  even in a copied cookie, and it expires after ADMIN_SESSION_HOURS.
- Flask-WTF's CSRF check runs for admin POSTs only: the Stripe webhook is a POST too, and must
  not need a token.
- Flask-Limiter limits login attempts per client address.
- Every admin response says: no framing, no caching, no CORS, and a strict CSP.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

STATIC_DIR = Path(__file__).resolve().parents[3] / "static" / "admin"
TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder=str(TEMPLATE_DIR),
    static_folder=str(STATIC_DIR),
    static_url_path="/static",
)

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(get_remote_address)

# Reachable without a login: the login form itself and the dashboard's CSS and JS.
PUBLIC_ENDPOINTS = frozenset({"admin.login", "admin.static"})

# frame-src 'self': the settings page previews the real widget through /embed/<slug>.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)

# The admin's own settings (rate limit, session length, banners) come from config.py.
DEFAULTS = {
    # A dashboard tab stays open all morning; the token is tied to the session anyway.
    "WTF_CSRF_TIME_LIMIT": 12 * 3600,
}


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = app.config.get("MEMBERSHIP_ENV") == "production"
    # CSRF is checked by the admin blueprint itself (require_login below), not for every POST
    # in the app: the Stripe webhook must stay token-free.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    login_manager.session_protection = "strong"
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    _limit_hooks_to_the_admin(app)

    from . import (  # noqa: F401 - the modules register their views on bp
        adjustments,
        api_tokens,
        audit,
        auth,
        campaign_sources,
        campaigns,
        dashboard,
        events,
        exports,
        imports,
        milestones,
        notifications,
    )
    from .cli import admin_cli

    app.register_blueprint(bp)
    app.cli.add_command(admin_cli)


def _limit_hooks_to_the_admin(app: Flask) -> None:
    """Run Flask-Limiter's request hooks for /admin only.

    It installs them app-wide, so every public request (the progress JSON served on every
    article page) would pay for them; only the login is limited.
    """
    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        mine = [
            f
            for f in hooks.get(None, [])
            if getattr(f, "__self__", None) is limiter or limiter in getattr(f, "args", ())
        ]
        hooks[None] = [f for f in hooks.get(None, []) if f not in mine]
        hooks.setdefault("admin", [])[:0] = mine


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path inside the dashboard, else None (no open redirects)."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin"):
        return None
    if target.startswith("//"):
        return None
    return target


@bp.before_request
def require_login() -> ResponseReturnValue | None:
    # An ended or expired login is not authenticated: the user loader finds no open session.
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return _unauthorized()
    if request.method in current_app.config["WTF_CSRF_METHODS"]:
        csrf.protect()  # raises CSRFError (400) without a valid token
    return None


def _unauthorized() -> ResponseReturnValue:
    if request.method == "GET" and not request.path.endswith(".json"):
        target = request.full_path if request.query_string else request.path
        return redirect(url_for("admin.login", next=target))
    if request.path.endswith(".json"):
        return jsonify(error="login required"), 401
    return redirect(url_for("admin.login"))


@bp.after_request
def security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cache-Control"] = "no-store"
    # Never readable from another origin, whatever an extension elsewhere may have added.
    for name in {k for k, _ in headers.items() if k.lower().startswith("access-control-")}:
        del headers[name]
    return response


from . import views_common  # noqa: E402,F401 - error pages and the health banner

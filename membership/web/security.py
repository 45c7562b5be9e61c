"""Security headers on every response, unless a surface set its own (embed, admin).

Also the admin's no-store for what its blueprint never sees (routing's redirects, 404 and 405),
and the start-up warning when production does not know its own public address.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface

# Nothing this service serves needs to load anything, except the pages that say otherwise.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=63072000; includeSubDomains"


class AdminOnlySessions(SecureCookieSessionInterface):
    """Sessions exist only for the admin: public surfaces never set a cookie nor Vary: Cookie.

    Flask-Login reads the session after every request, which would add ``Vary: Cookie`` to the
    public JSON and scripts and split every CDN's cache by cookie.
    """

    def open_session(self, app: Flask, request: Any) -> Any:
        # Outside the admin nobody has a session: do not even decode the cookie.
        if not request.path.startswith("/admin"):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if request.path.startswith("/admin"):
            super().save_session(app, session, response)


def is_admin_path(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


def init_app(app: Flask) -> None:
    app.session_interface = AdminOnlySessions()
    if app.config["MEMBERSHIP_ENV"] == "production" and not app.config.get("PUBLIC_URL"):
        app.logger.warning(
            "PUBLIC_URL is not set: the admin's embed code takes its address from each "
            "request's Host header, and requests for any host are answered. Set it to the "
            "service's public origin, like https://members.example.org"
        )

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
        # Only over HTTPS (behind a proxy: gunicorn trusts X-Forwarded-Proto from
        # FORWARDED_ALLOW_IPS): sent over plain HTTP it would be ignored anyway.
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
        # The admin blueprint's own headers cover its views; routing answers /admin with a
        # redirect to /admin/, and unknown admin paths or methods with 404/405, before any
        # blueprint is chosen. None of them may be kept by a shared cache either.
        if is_admin_path(request.path):
            headers["Cache-Control"] = "no-store"
        return response

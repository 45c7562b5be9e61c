"""Security headers on every response, unless a surface set its own (embed, admin)."""

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


def init_app(app: Flask) -> None:
    app.session_interface = AdminOnlySessions()

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
        return response

"""The service with proposed changes applied by monkeypatching, for before/after figures only.

Run as `gunicorn -c gunicorn.conf.py bench.tuned_app:app` (or `bench/run.py --app
bench.tuned_app:app`) with BENCH_TUNE naming the changes, comma-separated:

- no-pre-ping      engines without pool_pre_ping (one round trip less per request)
- plain-cors       the public blueprint sets `Access-Control-Allow-Origin: *` itself instead of
                   going through flask-cors's per-request resource matching
- admin-hooks      Flask-Limiter's before/after/teardown hooks run for the admin blueprint
                   only, instead of on every public request
- admin-sessions   the session cookie is opened (signing serializer and all) only under /admin
- no-fast-path     the public read goes through Flask as it did before membership/web/
                   fast_path.py: the "before" of the read-vs-bare ratio, in the same tree
- store-only       the webhook verifies and stores the raw event (INSERT … ON CONFLICT DO
                   NOTHING, one statement and a commit) and applies nothing: the ceiling of
                   "store now, apply in batches later"; not a working service

Nothing here is imported by the service itself.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from membership import database

TUNE = {name.strip() for name in os.environ.get("BENCH_TUNE", "").split(",") if name.strip()}

if "no-pre-ping" in TUNE:
    _make_engine = database.make_engine

    def make_engine(url: str, **options: Any) -> Any:
        if not url.startswith("sqlite"):
            options["pool_pre_ping"] = False
        return _make_engine(url, **options)

    database.make_engine = make_engine

from membership import create_app  # noqa: E402 - after the patches above

app = create_app()

if "no-fast-path" in TUNE:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from membership.web.fast_path import FastProgress

    outer = app.wsgi_app
    inner = outer.app if isinstance(outer, ProxyFix) else outer
    if isinstance(inner, FastProgress):
        if isinstance(outer, ProxyFix):
            outer.app = inner.wsgi_app
        else:
            app.wsgi_app = inner.wsgi_app  # type: ignore[method-assign]

if "plain-cors" in TUNE:
    functions = app.after_request_funcs.get("public", [])
    app.after_request_funcs["public"] = [
        f for f in functions if not getattr(f, "__module__", "").startswith("flask_cors")
    ]

    def _wildcard(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    app.after_request_funcs["public"].append(_wildcard)

if "admin-hooks" in TUNE:
    # Move the limiter's app-wide hooks to the admin blueprint: Flask runs blueprint hooks
    # only for that blueprint's requests. The login limit is the only limit there is.
    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        everywhere = hooks.get(None, [])
        moved = [f for f in everywhere if "limiter" in repr(getattr(f, "func", f)).lower()]
        hooks[None] = [f for f in everywhere if f not in moved]
        hooks.setdefault("admin", [])[:0] = moved

if "admin-sessions" in TUNE:
    from membership.web.security import AdminOnlySessions

    _open_session = AdminOnlySessions.open_session

    def open_session(self: Any, app: Any, request: Any) -> Any:
        if not request.path.startswith("/admin"):
            return self.make_null_session(app)
        return _open_session(self, app, request)

    AdminOnlySessions.open_session = open_session

if "store-only" in TUNE:
    from sqlalchemy import text

    from membership.database import db
    from membership.web.webhooks import BadSignature, verify_signature

    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE IF NOT EXISTS bench_inbox (id TEXT PRIMARY KEY, payload TEXT)")
        )

    def store_only() -> ResponseReturnValue:
        payload = request.get_data(as_text=True)
        try:
            verify_signature(
                payload,
                request.headers.get("Stripe-Signature", ""),
                app.config["STRIPE_WEBHOOK_SECRETS"],
            )
        except BadSignature:
            return jsonify(error="invalid signature"), 400
        event_id = payload.split('"id": "', 1)[1].split('"', 1)[0]
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO bench_inbox (id, payload) VALUES (:id, :payload) "
                    "ON CONFLICT (id) DO NOTHING"
                ),
                {"id": event_id, "payload": payload},
            )
        return jsonify(id=event_id, outcome="stored")

    app.view_functions["webhooks.stripe_webhook"] = store_only

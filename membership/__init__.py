"""The membership-drive progress service: create_app() wires config, database and surfaces."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask_migrate import Migrate
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config
from .database import db

migrate = Migrate()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    if test_config is None:
        app.config.from_mapping(config.from_environ(os.environ, app.instance_path))
    else:
        # Tests start from the environment's rules with a test default, then override; they
        # keep nothing on disk unless they say where.
        environ = {"MEMBERSHIP_ENV": "test", **test_config.pop("ENVIRON", {})}
        app.config.from_mapping(config.from_environ(environ, app.instance_path))
        app.config["PROGRESS_LAST_GOOD_DIR"] = None
        app.config.update(test_config)
    app.json.sort_keys = False  # the progress JSON keeps its documented field order

    from . import logs
    from .web import fast_path
    from .web import metrics as metrics_web

    # METRICS_TOKEN, LOG_FORMAT and PROMETHEUS_MULTIPROC_DIR, refused here when malformed.
    observability = metrics_web.settings(app.config)
    if app.config["MEMBERSHIP_ENV"] != "test":
        logs.configure(observability.log_format)

    # Inside ProxyFix, so the fast path sees the scheme and host Flask would.
    app.wsgi_app = fast_path.FastProgress(app, app.wsgi_app)  # type: ignore[method-assign]
    if app.config["PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=app.config["PROXY_HOPS"], x_proto=app.config["PROXY_HOPS"]
        )
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)

    from . import cli
    from .web import (
        admin,
        api_sources,
        embed,
        errors,
        health,
        home,
        images,
        public,
        security,
        webhooks,
        webhooks_patreon,
    )

    errors.init_app(app)
    security.init_app(app)

    app.register_blueprint(health.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(webhooks_patreon.bp)
    app.register_blueprint(api_sources.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(images.bp)
    app.register_blueprint(home.bp)
    metrics_web.init_app(app, observability)
    admin.init_app(app)  # after embed: its preview uses the embed page
    cli.init_app(app)

    if not app.config["STRIPE_WEBHOOK_SECRETS"]:
        app.logger.warning(
            "STRIPE_WEBHOOK_SECRET is not set: every webhook delivery will be refused "
            "until it is (Stripe Dashboard > Developers > Webhooks > Signing secret)"
        )
    return app

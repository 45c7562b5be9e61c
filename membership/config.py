"""Settings from the environment, in one place: ``from_environ`` names every one.

The parsing of each value, which refuses a malformed one with a message naming the variable,
is in config_values.py.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .config_values import (
    ENVIRONMENTS,
    ConfigError,
    api_base,
    database_url,
    identity_key,
    livemode,
    paypal_api_base,
    paypal_ca_bundle,
    paypal_cert_hosts,
    paypal_mode,
    paypal_webhook_id,
    public_url,
    trusted_hosts,
    webhook_secrets,
    whole_number,
)
from .notify.settings import NAMES as NOTIFY_NAMES
from .notify.settings import from_config as notify_settings
from .sources.patreon.settings import Settings as PatreonSettings
from .sources.patreon.settings import SettingsError as PatreonSettingsError

PATREON_NAMES = (
    "PATREON_WEBHOOK_SECRET",
    "PATREON_ACCESS_TOKEN",
    "PATREON_CAMPAIGN_ID",
    "PATREON_API_BASE",
)

__all__ = ["ConfigError", "from_environ"]


def from_environ(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Flask config keys read from ``environ``."""
    env = environ.get("MEMBERSHIP_ENV", "production").strip().lower() or "production"
    if env not in ENVIRONMENTS:
        raise ConfigError(f"MEMBERSHIP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    secret_key = environ.get("SECRET_KEY", "").strip()
    if not secret_key:
        if env == "production":
            raise ConfigError(
                "SECRET_KEY is required outside development: set it to a long random string "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or set MEMBERSHIP_ENV=development on a developer machine"
            )
        secret_key = "dev-only-not-secret"
    public = public_url(environ.get("PUBLIC_URL"))
    identity = identity_key(environ.get("IDENTITY_KEY"), env)
    second_source = (
        environ.get("PAYPAL_WEBHOOK_ID", "").strip()
        or environ.get("PATREON_WEBHOOK_SECRET", "").strip()
    )
    if identity is None and env == "production" and second_source:
        # With a second source, a reader paying in both would be counted twice.
        raise ConfigError(
            "IDENTITY_KEY is required in production once a second source (PayPal, Patreon) "
            "is configured, so one reader paying through both is counted once"
        )
    # Only the ones set, as for notifications: patreon/settings.py reads the rest from the
    # environment.
    patreon = {name: v for name in PATREON_NAMES if (v := environ.get(name, "").strip())}
    try:  # checked now, like every setting, not at the first delivery
        PatreonSettings.from_config(patreon, environ={})
    except PatreonSettingsError as error:
        raise ConfigError(str(error)) from None
    # Only the ones set: notify/settings.py reads a name the config lacks from the environment.
    notify = {name: v for name in NOTIFY_NAMES if (v := environ.get(name, "").strip())}
    # Checked now: a malformed SMTP URL or key should stop the start, not the first milestone.
    notify_settings({**notify, "MEMBERSHIP_ENV": env, "SECRET_KEY": secret_key}, environ={})
    return {
        "MEMBERSHIP_ENV": env,
        "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url(environ.get("DATABASE_URL"), instance_path),
        "STRIPE_WEBHOOK_SECRETS": webhook_secrets(environ.get("STRIPE_WEBHOOK_SECRET")),
        "STRIPE_LIVEMODE": livemode(environ.get("STRIPE_LIVEMODE")),
        # For `flask stripe reconcile` only: a restricted key that can read Events,
        # Subscriptions and Checkout Sessions is enough.
        "STRIPE_API_KEY": environ.get("STRIPE_API_KEY", "").strip(),
        "STRIPE_API_BASE": api_base(environ.get("STRIPE_API_BASE")),
        # PayPal: the webhook's id (signatures name it), where its signing certificates may
        # come from, which mode counts, and the REST app reconcile reads with.
        "PAYPAL_WEBHOOK_ID": paypal_webhook_id(environ.get("PAYPAL_WEBHOOK_ID")),
        "PAYPAL_CERT_HOSTS": paypal_cert_hosts(environ.get("PAYPAL_CERT_HOSTS")),
        "PAYPAL_CA_BUNDLE": paypal_ca_bundle(environ.get("PAYPAL_CA_BUNDLE")),
        "PAYPAL_MODE": paypal_mode(environ.get("PAYPAL_MODE")),
        "PAYPAL_CLIENT_ID": environ.get("PAYPAL_CLIENT_ID", "").strip(),
        "PAYPAL_CLIENT_SECRET": environ.get("PAYPAL_CLIENT_SECRET", "").strip(),
        "PAYPAL_API_BASE": paypal_api_base(environ.get("PAYPAL_API_BASE")),
        # Keys the email fingerprints that link one reader's accounts across sources.
        "IDENTITY_KEY": identity,
        # How long a one-off membership payment keeps someone a member.
        "MEMBERSHIP_TERM_DAYS": whole_number(
            environ, "MEMBERSHIP_TERM_DAYS", 365, minimum=1, maximum=36_500
        ),
        # Cache-Control of the public progress JSON: short enough that a sign-up shows within
        # a minute at a CDN, long enough that the origin sees one request per edge per period.
        "PROGRESS_MAX_AGE": whole_number(environ, "PROGRESS_MAX_AGE", 15),
        "PROGRESS_STALE_WHILE_REVALIDATE": whole_number(
            environ, "PROGRESS_STALE_WHILE_REVALIDATE", 60
        ),
        "PROGRESS_STALE_IF_ERROR": whole_number(environ, "PROGRESS_STALE_IF_ERROR", 86400),
        # How long a worker reuses a rendered progress body before it asks the database whether
        # the ledger changed. Bounds how late a new sign-up shows at the origin.
        "PROGRESS_CACHE_SECONDS": whole_number(environ, "PROGRESS_CACHE_SECONDS", 2),
        # Where the last good figures are kept for serving while the database is down.
        "PROGRESS_LAST_GOOD_DIR": environ.get("PROGRESS_LAST_GOOD_DIR", "").strip()
        or os.path.join(instance_path, "last-good"),
        # `flask events prune` deletes ignored events older than this.
        "EVENT_RETENTION_DAYS": whole_number(
            environ, "EVENT_RETENTION_DAYS", 90, minimum=1, maximum=36_500
        ),
        # Behind a load balancer: how many proxies' X-Forwarded-For/-Proto to trust, so that
        # the login limit and the audit log see the reader's address, not the proxy's.
        "PROXY_HOPS": whole_number(environ, "PROXY_HOPS", 0, maximum=5),
        "ADMIN_LOGIN_RATE_LIMIT": environ.get("ADMIN_LOGIN_RATE_LIMIT", "").strip()
        or "10 per minute; 50 per hour",
        # GET /metrics answers only with this bearer token; unset, it answers 404.
        "METRICS_TOKEN": environ.get("METRICS_TOKEN", "").strip() or None,
        # "text" or "json" (one JSON object per log line); membership/logs.py checks it.
        "LOG_FORMAT": environ.get("LOG_FORMAT", "").strip().lower() or "text",
        # Each membership API token (or address without one), Flask-Limiter syntax.
        "API_SOURCES_RATE_LIMIT": environ.get("API_SOURCES_RATE_LIMIT", "").strip()
        or "600 per minute",
        # memory:// counts per worker; several workers or hosts need a shared store (redis://).
        "RATELIMIT_STORAGE_URI": environ.get("RATELIMIT_STORAGE_URI", "").strip() or "memory://",
        "ADMIN_SESSION_HOURS": whole_number(
            environ, "ADMIN_SESSION_HOURS", 12, minimum=1, maximum=720
        ),
        "ADMIN_QUIET_HOURS": whole_number(environ, "ADMIN_QUIET_HOURS", 24, minimum=1, maximum=720),
        "ADMIN_FAILURE_ALERT": whole_number(environ, "ADMIN_FAILURE_ALERT", 5, minimum=1),
        "SQLITE_BUSY_TIMEOUT_MS": whole_number(environ, "SQLITE_BUSY_TIMEOUT_MS", 15000),
        # The service's public origin: the start of every absolute URL it writes. Production
        # without it warns at start (security.py) and trusts every Host header.
        "PUBLIC_URL": public,
        # Requests for any other host get 400 (Flask >= 3.1 checks it before routing).
        "TRUSTED_HOSTS": trusted_hosts(environ.get("TRUSTED_HOSTS"), public, env),
        # The admin's Imports page alone takes larger bodies (a CSV of 100,000 rows is ~10 MB);
        # an upload waits in this folder between its dry run and its confirmation.
        "IMPORT_MAX_BYTES": whole_number(
            environ, "IMPORT_MAX_BYTES", 32 * 1024 * 1024, minimum=1024, maximum=1024**3
        ),
        "IMPORT_UPLOAD_DIR": environ.get("IMPORT_UPLOAD_DIR", "").strip() or instance_path,
        # Providers' payloads stay far below this; anything larger is not an event.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Patreon: the webhook's secret(s), the creator's token, the campaign, the API origin.
        **patreon,
        # Notifications (notify/settings.py reads and checks them): channel secrets' key,
        # email, the worker's timing.
        **notify,
    }

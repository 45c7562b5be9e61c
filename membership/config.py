"""Settings from the environment, in one place.

Every helper refuses a malformed value with a message naming the variable, instead of
guessing: a typo in production should stop the service at start, not quietly count wrong.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

ENVIRONMENTS = ("development", "test", "production")
LIVEMODES = ("live", "test")


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def _int(
    environ: Mapping[str, str],
    name: str,
    default: int,
    *,
    minimum: int = 0,
    maximum: int = 10**9,
) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be from {minimum} to {maximum}, got {value}")
    return value


def database_url(raw: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL for DATABASE_URL, defaulting to SQLite in the instance folder.

    A plain ``postgresql://`` (or Heroku-style ``postgres://``) URL is pointed at psycopg 3,
    because SQLAlchemy would otherwise pick psycopg2, which we do not install.
    """
    raw = (raw or "").strip()
    if not raw:
        return "sqlite:///" + os.path.join(instance_path, "membership.sqlite3")
    scheme, sep, rest = raw.partition("://")
    if not sep:
        raise ConfigError(f"DATABASE_URL must look like scheme://..., got {raw!r}")
    if scheme in ("postgres", "postgresql"):
        return "postgresql+psycopg://" + rest
    if scheme in ("postgresql+psycopg", "sqlite"):
        return raw
    raise ConfigError(
        f"DATABASE_URL scheme {scheme!r} is not supported; use postgresql:// or sqlite://"
    )


def webhook_secrets(raw: str | None) -> tuple[str, ...]:
    """One signing secret, or several separated by commas while Stripe rolls them."""
    secrets = tuple(part.strip() for part in (raw or "").split(",") if part.strip())
    for secret in secrets:
        if not secret.startswith("whsec_") or len(secret) < 12:
            raise ConfigError(
                "STRIPE_WEBHOOK_SECRET must be one or more comma-separated signing secrets "
                "starting with 'whsec_' (Stripe Dashboard > Webhooks > Signing secret)"
            )
    return secrets


def api_base(raw: str | None) -> str | None:
    """Another address for Stripe's API (stripe-mock, a test server); None for Stripe's own."""
    value = (raw or "").strip()
    if value and not value.startswith(("http://", "https://")):
        raise ConfigError(f"STRIPE_API_BASE must be an http(s) URL, got {raw!r}")
    return value or None


def livemode(raw: str | None) -> str | None:
    value = (raw or "").strip().lower()
    if not value:
        return None
    if value not in LIVEMODES:
        raise ConfigError(f"STRIPE_LIVEMODE must be 'live', 'test' or unset, got {raw!r}")
    return value


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
        # How long a one-off membership payment keeps someone a member.
        "MEMBERSHIP_TERM_DAYS": _int(
            environ, "MEMBERSHIP_TERM_DAYS", 365, minimum=1, maximum=36_500
        ),
        # Cache-Control of the public progress JSON: short enough that a sign-up shows within
        # a minute at a CDN, long enough that the origin sees one request per edge per period.
        "PROGRESS_MAX_AGE": _int(environ, "PROGRESS_MAX_AGE", 15),
        "PROGRESS_STALE_WHILE_REVALIDATE": _int(environ, "PROGRESS_STALE_WHILE_REVALIDATE", 60),
        "PROGRESS_STALE_IF_ERROR": _int(environ, "PROGRESS_STALE_IF_ERROR", 86400),
        # How long a worker reuses a rendered progress body before it asks the database whether
        # the ledger changed. Bounds how late a new sign-up shows at the origin.
        "PROGRESS_CACHE_SECONDS": _int(environ, "PROGRESS_CACHE_SECONDS", 2),
        # Where the last good figures are kept for serving while the database is down.
        "PROGRESS_LAST_GOOD_DIR": environ.get("PROGRESS_LAST_GOOD_DIR", "").strip()
        or os.path.join(instance_path, "last-good"),
        # `flask events prune` deletes ignored events older than this.
        "EVENT_RETENTION_DAYS": _int(
            environ, "EVENT_RETENTION_DAYS", 90, minimum=1, maximum=36_500
        ),
        # Behind a load balancer: how many proxies' X-Forwarded-For/-Proto to trust, so that
        # the login limit and the audit log see the reader's address, not the proxy's.
        "PROXY_HOPS": _int(environ, "PROXY_HOPS", 0, maximum=5),
        "ADMIN_LOGIN_RATE_LIMIT": environ.get("ADMIN_LOGIN_RATE_LIMIT", "").strip()
        or "10 per minute; 50 per hour",
        # memory:// counts per worker; several workers or hosts need a shared store (redis://).
        "RATELIMIT_STORAGE_URI": environ.get("RATELIMIT_STORAGE_URI", "").strip() or "memory://",
        "ADMIN_SESSION_HOURS": _int(environ, "ADMIN_SESSION_HOURS", 12, minimum=1, maximum=720),
        "ADMIN_QUIET_HOURS": _int(environ, "ADMIN_QUIET_HOURS", 24, minimum=1, maximum=720),
        "ADMIN_FAILURE_ALERT": _int(environ, "ADMIN_FAILURE_ALERT", 5, minimum=1),
        "SQLITE_BUSY_TIMEOUT_MS": _int(environ, "SQLITE_BUSY_TIMEOUT_MS", 15000),
        # Stripe's own payloads stay far below this; anything larger is not an event.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
    }

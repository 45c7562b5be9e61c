"""Settings from the environment, in one place.

Every helper refuses a malformed value with a message naming the variable, instead of
guessing: a typo in production should stop the service at start, not quietly count wrong.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "test", "production")
LIVEMODES = ("live", "test")
PAYPAL_MODES = ("live", "sandbox")
# The hosts PayPal's webhook certificate URLs use: its live and sandbox APIs.
PAYPAL_CERT_HOSTS = (
    "api.paypal.com",
    "api-m.paypal.com",
    "api.sandbox.paypal.com",
    "api-m.sandbox.paypal.com",
)
PAYPAL_API = "https://api-m.paypal.com"
# A host name or IPv4 address as werkzeug can match it (it cannot match IPv6 literals); a
# leading dot stands for every subdomain.
HOST_NAME = re.compile(r"\.?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
# Trusted when nothing else is said in development and test: `make run` serves 127.0.0.1, and
# Flask's test client asks for localhost.
LOCAL_HOSTS = ("localhost", "127.0.0.1")


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


def paypal_webhook_id(raw: str | None) -> str:
    """The id PayPal gave our webhook (developer dashboard > app > Webhooks): part of every
    signed message, so a delivery meant for another webhook fails."""
    value = (raw or "").strip()
    if value and (len(value) > 64 or not re.fullmatch(r"[A-Za-z0-9_-]+", value)):
        raise ConfigError(
            f"PAYPAL_WEBHOOK_ID must be the webhook's id as PayPal shows it, like "
            f"8PT597110X687430LKGECATA; got {raw!r}"
        )
    return value


def paypal_cert_hosts(raw: str | None) -> tuple[str, ...]:
    """The host[:port] a PayPal certificate URL may name; PayPal's own API hosts by default."""
    value = (raw or "").strip().lower()
    if not value:
        return PAYPAL_CERT_HOSTS
    hosts = tuple(part.strip() for part in value.split(",") if part.strip())
    for host in hosts:
        name, colon, port = host.partition(":")
        if (
            not HOST_NAME.fullmatch(name)
            or name.startswith(".")
            or (colon and not (port.isdigit() and 0 < int(port) < 65536))
        ):
            raise ConfigError(
                "PAYPAL_CERT_HOSTS must be comma-separated host names with an optional port "
                f"(api.paypal.com, 127.0.0.1:8443), without a scheme; got {host!r}"
            )
    return hosts


def paypal_ca_bundle(raw: str | None) -> str | None:
    """A PEM trust store for PayPal's certificates and the HTTPS fetch; None for the system's."""
    value = (raw or "").strip()
    if not value:
        return None
    try:
        with open(value, "rb") as handle:
            pem = handle.read(1024 * 1024)
    except OSError as exc:
        raise ConfigError(f"PAYPAL_CA_BUNDLE cannot be read ({value!r}): {exc}") from None
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ConfigError(f"PAYPAL_CA_BUNDLE must be a PEM file of certificates, got {value!r}")
    return value


def paypal_mode(raw: str | None) -> str | None:
    value = (raw or "").strip().lower()
    if not value:
        return None
    if value not in PAYPAL_MODES:
        raise ConfigError(f"PAYPAL_MODE must be 'live', 'sandbox' or unset, got {raw!r}")
    return value


def paypal_api_base(raw: str | None) -> str:
    """PayPal's REST API for `flask paypal reconcile` (the sandbox's, or a test server)."""
    value = (raw or "").strip().rstrip("/")
    if not value:
        return PAYPAL_API
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"PAYPAL_API_BASE must be an http(s) URL, got {raw!r}")
    return value


def public_url(raw: str | None) -> str | None:
    """The service's public origin, like https://members.example.org, without a trailing slash.

    Every absolute URL the service writes (the embed code a newsroom pastes into its articles)
    starts with it, instead of with whatever Host header a request happened to carry.
    """
    value = (raw or "").strip()
    if not value:
        return None
    example = "like https://members.example.org"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigError(
            f"PUBLIC_URL must be the service's public origin, {example}; got {raw!r}"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"PUBLIC_URL must be an http(s) address, {example}, got {raw!r}")
    if parts.path not in ("", "/") or "?" in value or "#" in value or "@" in parts.netloc:
        raise ConfigError(
            f"PUBLIC_URL must be an origin only (scheme, host and optional port, {example}), "
            f"without a path, query, fragment or user name; got {raw!r}"
        )
    if not HOST_NAME.fullmatch(parts.hostname) or parts.hostname.startswith("."):
        raise ConfigError(
            f"PUBLIC_URL's host must be a DNS name or an IPv4 address, {example}; got {raw!r}"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def trusted_hosts(raw: str | None, public: str | None, env: str) -> list[str] | None:
    """The Host headers the service answers (Flask's TRUSTED_HOSTS); None answers any.

    TRUSTED_HOSTS, comma-separated, says which; ``*`` allows any host. Unset, development and
    test trust the local names, and production trusts PUBLIC_URL's host, or any host if
    PUBLIC_URL is not set either (the service warns at start). PUBLIC_URL's own host is always
    trusted: refusing the service's public address cannot be what anyone meant.
    """
    value = (raw or "").strip().lower()
    if value == "*":
        return None
    hosts = [part.strip() for part in value.split(",") if part.strip()]
    for host in hosts:
        if not HOST_NAME.fullmatch(host):
            raise ConfigError(
                "TRUSTED_HOSTS must be comma-separated host names or IPv4 addresses, without "
                "a scheme or port (members.example.org, .example.org for every subdomain, "
                f"10.0.0.5), or * for any host; got {host!r}"
            )
    if not hosts and env != "production":
        hosts = list(LOCAL_HOSTS)
    if public is not None:
        own = urlsplit(public).hostname
        if own not in hosts:
            hosts.append(own)
    # An empty list would make Flask trust every host: say so with None instead.
    return hosts or None


def identity_key(raw: str | None, env: str) -> bytes | None:
    """IDENTITY_KEY: the secret that keys email fingerprints (one reader, one member).

    Without it no fingerprint is taken and accounts in different sources are not linked. A
    development machine gets a fixed key, so the demo links as production would.
    """
    value = (raw or "").strip()
    if not value:
        return b"dev-only-identity-key-not-secret" if env == "development" else None
    if len(value) < 32:
        raise ConfigError(
            "IDENTITY_KEY must be at least 32 characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return value.encode("utf-8")


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
    if identity is None and env == "production" and environ.get("PAYPAL_WEBHOOK_ID", "").strip():
        # With a second source, a reader paying in both would be counted twice.
        raise ConfigError(
            "IDENTITY_KEY is required in production once a second source (PayPal) is "
            "configured, so one reader paying through both is counted once"
        )
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
        # The service's public origin: the start of every absolute URL it writes. Production
        # without it warns at start (security.py) and trusts every Host header.
        "PUBLIC_URL": public,
        # Requests for any other host get 400 (Flask >= 3.1 checks it before routing).
        "TRUSTED_HOSTS": trusted_hosts(environ.get("TRUSTED_HOSTS"), public, env),
        # The admin's Imports page alone takes larger bodies (a CSV of 100,000 rows is ~10 MB);
        # an upload waits in this folder between its dry run and its confirmation.
        "IMPORT_MAX_BYTES": _int(
            environ, "IMPORT_MAX_BYTES", 32 * 1024 * 1024, minimum=1024, maximum=1024**3
        ),
        "IMPORT_UPLOAD_DIR": environ.get("IMPORT_UPLOAD_DIR", "").strip() or instance_path,
        # Providers' payloads stay far below this; anything larger is not an event.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
    }

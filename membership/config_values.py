"""One setting's value from the environment: parsed, or refused with a message naming it.

Every helper refuses a malformed value instead of guessing: a typo in production should stop
the service at start, not quietly count wrong. config.py assembles them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
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


def whole_number(
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

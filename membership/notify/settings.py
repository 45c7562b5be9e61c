"""The notification settings, read from the app's config or else the environment, and checked.

No Flask here: callers pass ``current_app.config``. A name config.py does not set is read from
the environment, so these work before (and after) config.py learns them.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.fernet import Fernet

from ..config_values import ConfigError, whole_number

NAMES = (
    "NOTIFY_KEY",
    "SMTP_URL",
    "NOTIFY_FROM",
    "NOTIFY_RETRY_SECONDS",
    "NOTIFY_RETRY_MAX_SECONDS",
    "NOTIFY_GIVE_UP_HOURS",
    "NOTIFY_LEASE_SECONDS",
    "NOTIFY_POLL_SECONDS",
    "NOTIFY_TIMEOUT_SECONDS",
)


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    implicit_tls: bool  # smtps://
    starttls: str  # "auto" (when the server offers it) or "required"
    username: str
    password: str
    cafile: str | None  # a PEM trust store other than the system's (a private relay)


@dataclass(frozen=True)
class NotifySettings:
    keys: tuple[bytes, ...]  # Fernet keys; the first encrypts, any decrypts (rotation)
    smtp: Smtp | None
    sender: str
    first_retry: int  # seconds before the first retry; doubled each time up to max_retry
    max_retry: int
    give_up_hours: int  # a delivery failing for this long is marked failed
    lease: int  # seconds a claimed delivery is a worker's before others may take it
    poll: int  # seconds the worker waits when nothing is due
    timeout: int  # seconds for one HTTP or SMTP conversation step


def from_config(
    config: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> NotifySettings:
    environ = os.environ if environ is None else environ
    values = {n: str(config[n]) if config.get(n) is not None else environ.get(n, "") for n in NAMES}
    env = str(config.get("MEMBERSHIP_ENV") or environ.get("MEMBERSHIP_ENV") or "production")
    secret_key = str(config.get("SECRET_KEY") or environ.get("SECRET_KEY") or "")
    smtp = smtp_url(values["SMTP_URL"])
    sender = values["NOTIFY_FROM"].strip()
    if smtp and not sender:
        raise ConfigError("NOTIFY_FROM is required with SMTP_URL: the address email comes from")
    first = whole_number(values, "NOTIFY_RETRY_SECONDS", 30, minimum=1, maximum=86_400)
    return NotifySettings(
        keys=fernet_keys(values["NOTIFY_KEY"], env, secret_key),
        smtp=smtp,
        sender=sender,
        first_retry=first,
        max_retry=whole_number(
            values, "NOTIFY_RETRY_MAX_SECONDS", 3600, minimum=first, maximum=86_400
        ),
        give_up_hours=whole_number(values, "NOTIFY_GIVE_UP_HOURS", 72, minimum=24, maximum=720),
        lease=whole_number(values, "NOTIFY_LEASE_SECONDS", 300, minimum=1, maximum=86_400),
        poll=whole_number(values, "NOTIFY_POLL_SECONDS", 5, minimum=1, maximum=3600),
        timeout=whole_number(values, "NOTIFY_TIMEOUT_SECONDS", 10, minimum=1, maximum=300),
    )


def fernet_keys(raw: str, env: str, secret_key: str) -> tuple[bytes, ...]:
    """NOTIFY_KEY's keys; without it, outside production, one derived from SECRET_KEY.

    The derived key keeps `make run` and the tests free of set-up; production must set its
    own, so that rolling SECRET_KEY (which ends admin sessions) cannot lock away the secrets.
    """
    keys = tuple(k.strip().encode() for k in raw.split(",") if k.strip())
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                "NOTIFY_KEY must be Fernet keys (comma-separated while rolling them); make one "
                "with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from None
    if keys or env == "production":
        return keys
    digest = hashlib.sha256(f"membership-notify:{secret_key}".encode()).digest()
    return (base64.urlsafe_b64encode(digest),)


def smtp_url(raw: str) -> Smtp | None:
    """SMTP_URL: smtp://user:pass@host:port (STARTTLS when offered; ?starttls=required to
    insist) or smtps://user:pass@host:port (TLS from the start); ?cafile=/path.pem optional."""
    raw = raw.strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            f"SMTP_URL must be smtp://user:pass@host:port or smtps://…, got {_shown(raw)}"
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    starttls = query.get("starttls", "auto")
    if starttls not in ("auto", "required"):
        raise ConfigError("SMTP_URL's starttls must be auto or required")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise ConfigError(f"SMTP_URL has a malformed port: {_shown(raw)}") from None
    return Smtp(
        host=parts.hostname,
        port=port,
        implicit_tls=parts.scheme == "smtps",
        starttls=starttls,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        cafile=query.get("cafile") or None,
    )


def _shown(raw: str) -> str:
    """The URL without its password, for an error message."""
    parts = urlsplit(raw)
    if parts.password is None:
        return repr(raw)
    return repr(raw.replace(f":{parts.password}@", ":***@", 1))

"""Patreon's webhook signature: ``X-Patreon-Signature`` is hex(HMAC-MD5(secret, raw body)).

MD5 is Patreon's choice, not ours; as an HMAC it still proves the sender knew the secret.
"""

from __future__ import annotations

import hashlib
import hmac


class BadSignature(ValueError):
    """The delivery was not signed with any of the webhook's secrets."""


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.md5).hexdigest()


def verify(body: bytes, header: str | None, secrets: tuple[str, ...]) -> None:
    """Return if ``header`` is the signature of the exact bytes under one of ``secrets``."""
    given = (header or "").strip().lower()
    if not given:
        raise BadSignature("missing X-Patreon-Signature header")
    if not any(hmac.compare_digest(given, sign(body, secret)) for secret in secrets):
        raise BadSignature("the signature matches no webhook secret")

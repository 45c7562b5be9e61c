"""Channel secrets: encrypted with Fernet under NOTIFY_KEY, and never shown back in full."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ..config_values import ConfigError


class SecretError(RuntimeError):
    """A secret cannot be stored or read with the keys at hand."""


def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    if not keys:
        raise ConfigError(
            "NOTIFY_KEY is not set: channel secrets (Slack URLs, webhook secrets) are stored "
            "encrypted with it; see docs/notifications.md"
        )
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(keys: tuple[bytes, ...], plain: str) -> str:
    return _fernet(keys).encrypt(plain.encode()).decode()


def decrypt(keys: tuple[bytes, ...], token: str) -> str:
    try:
        return _fernet(keys).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretError(
            "a channel secret cannot be decrypted with NOTIFY_KEY (was the key changed? keep "
            "the old one after the new, comma-separated, while rolling it)"
        ) from None


def hint(plain: str) -> str:
    """What may be shown of a secret: its last four characters, and only of a long one."""
    return "…" + plain[-4:] if len(plain) >= 16 else "…"

"""Patreon's settings, read from the app's config or the environment, with clear errors.

No Flask here: the caller passes ``app.config`` (tests set keys there) and the environment
(production sets them there; config.py does not know them yet). A key in the config wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

PATREON_API = "https://www.patreon.com"


class SettingsError(ValueError):
    """A Patreon setting is present but unusable; the message names it and says why."""


@dataclass(frozen=True)
class Settings:
    webhook_secrets: tuple[str, ...] = ()  # more than one while a secret is being rolled
    access_token: str = ""  # the creator's token: reads members for webhooks and sync
    campaign_id: str = ""  # the campaign whose members count; others are ignored
    api_base: str = PATREON_API
    identity_key: bytes | None = None  # IDENTITY_KEY, for the email fingerprint

    @classmethod
    def from_config(cls, config: Mapping[str, Any], environ: Mapping[str, str]) -> Settings:
        def read(name: str) -> str:
            value = config.get(name)
            if value is None:
                value = environ.get(name, "")
            if not isinstance(value, str):
                raise SettingsError(f"{name} must be text, got {type(value).__name__}")
            return value.strip()

        secrets = tuple(s.strip() for s in read("PATREON_WEBHOOK_SECRET").split(",") if s.strip())
        campaign = read("PATREON_CAMPAIGN_ID")
        if campaign and not campaign.isdigit():
            raise SettingsError(
                f"PATREON_CAMPAIGN_ID must be the campaign's number (Patreon's API, "
                f"GET /api/oauth2/v2/campaigns), got {campaign!r}"
            )
        base = read("PATREON_API_BASE").rstrip("/") or PATREON_API
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise SettingsError(
                f"PATREON_API_BASE must be an http(s) origin like {PATREON_API}, got {base!r}"
            )
        return cls(
            webhook_secrets=secrets,
            access_token=read("PATREON_ACCESS_TOKEN"),
            campaign_id=campaign,
            api_base=base,
            identity_key=config.get("IDENTITY_KEY"),
        )

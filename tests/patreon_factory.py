"""Patreon members and deliveries for tests: member resources shaped as API v2 returns them,
bodies signed as Patreon signs them, and the app pointed at a fake Patreon API.

Test modules take the fixtures by name: ``patreon, deliver = patreon_factory.patreon, ...``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from membership.sources.patreon.signature import sign
from tests.fake_patreon import CAMPAIGN, TOKEN, FakePatreon

SECRET = "patreon-webhook-secret-for-the-suite"
IDENTITY_KEY = b"identity-key-for-the-patreon-tests-0123456789"
START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def when(days: float) -> str:
    return (START + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


def member(
    member_id: str,
    status: str | None = "active_patron",
    *,
    cents: int | None = 500,
    tiers: tuple[str, ...] = ("9512023",),
    email: str | None = None,
    started: float = 0,
    charged: float | None = 0,
    charge_status: str | None = "Paid",
    campaign: str = CAMPAIGN,
    follower: bool = False,
) -> dict[str, Any]:
    """A member resource (``data``) as Patreon's API v2 and its webhooks carry it."""
    return {
        "attributes": {
            "currently_entitled_amount_cents": cents,
            "email": email or f"{member_id[:8]}@readers.example",
            "full_name": "Olena Reader",
            "is_follower": follower,
            "is_free_trial": False,
            "last_charge_date": None if charged is None else when(charged),
            "last_charge_status": charge_status,
            "note": "",
            "patron_status": status,
            "pledge_relationship_start": when(started),
        },
        "id": member_id,
        "relationships": {
            "address": {"data": None},
            "campaign": {"data": {"id": campaign, "type": "campaign"}},
            "currently_entitled_tiers": {"data": [{"id": t, "type": "tier"} for t in tiers]},
            "user": {"data": {"id": "88555402", "type": "user"}},
        },
        "type": "member",
    }


def signed(
    data: dict[str, Any] | bytes, trigger: str = "members:pledge:update", secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    """A delivery's body (a member document, or the exact bytes given) and its headers."""
    body = data if isinstance(data, bytes) else json.dumps({"data": data}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Patreon-Event": trigger,
        "X-Patreon-Signature": sign(body, secret),
    }
    return body, headers


def configure(app: Flask, fake: FakePatreon) -> None:
    app.config.update(
        PATREON_WEBHOOK_SECRET=SECRET,
        PATREON_ACCESS_TOKEN=TOKEN,
        PATREON_CAMPAIGN_ID=CAMPAIGN,
        PATREON_API_BASE=fake.url,
        IDENTITY_KEY=IDENTITY_KEY,
    )


@pytest.fixture
def patreon(app: Flask) -> Iterator[FakePatreon]:
    """A fake Patreon API the app reads members from."""
    with FakePatreon() as fake:
        configure(app, fake)
        yield fake


@pytest.fixture
def deliver(client: FlaskClient, patreon: FakePatreon) -> Callable[..., Any]:
    """Sign and POST a delivery naming ``data``; returns the response."""

    def post(data: dict[str, Any] | bytes, trigger: str = "members:pledge:update", **kw: Any):
        body, headers = signed(data, trigger, **kw)
        return client.post("/webhooks/patreon", data=body, headers=headers)

    return post

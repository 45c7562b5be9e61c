"""A verified delivery -> the Event to record: the named member read back from Patreon.

No Flask, no database. A delivery that names no member of ours becomes an ignored Event. A
member read that fails (network, rate limit, a refused token) still becomes an Event, which
the ledger stores as ignored with the reason, so the webhook log shows the delivery; the
webhook then answers 503 so that Patreon sends it again, and ``flask patreon sync`` heals
whatever Patreon gives up on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ...ledger.store import Event
from .client import Client, PatreonError
from .envelope import Delivery, member_event, unhandled_event
from .settings import Settings

# A webhook waits for Patreon a little, not a minute: Patreon retries a delivery answered 5xx,
# and the whole read stays well inside gunicorn's 30 s timeout.
WEBHOOK_ATTEMPTS = 2
WEBHOOK_LONGEST_WAIT = 2.0
WEBHOOK_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Received:
    event: Event
    read_failed: str | None = None  # why the member could not be read, if it could not


def webhook_client(settings: Settings) -> Client:
    return Client(
        settings.api_base,
        settings.access_token,
        attempts=WEBHOOK_ATTEMPTS,
        longest_wait=WEBHOOK_LONGEST_WAIT,
        timeout=WEBHOOK_TIMEOUT_SECONDS,
    )


def receive(
    delivery: Delivery, raw: bytes, client: Client, settings: Settings, received_at: datetime
) -> Received:
    """The Event a verified delivery becomes (see the module's docstring)."""
    if delivery.member_id is None:
        why = (
            "a member delivery that names no member (Patreon's test send)"
            if delivery.member is not None and delivery.member.get("type") == "member"
            else f"{delivery.trigger} is not a member trigger this source reads"
        )
        return Received(unhandled_event(delivery, raw, received_at, why))
    try:
        fetched_at, member = client.member(delivery.member_id)
    except PatreonError as exc:
        event = member_event(
            member_id=delivery.member_id,
            trigger=delivery.trigger,
            fetched_at=received_at,
            fetched=None,
            delivered=delivery.member,
            error=str(exc),
            identity_key=settings.identity_key,
        )
        return Received(event, read_failed=str(exc))
    event = member_event(
        member_id=delivery.member_id,
        trigger=delivery.trigger,
        fetched_at=fetched_at,
        fetched=member,
        delivered=delivery.member,
        identity_key=settings.identity_key,
    )
    return Received(event)
